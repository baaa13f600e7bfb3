"""``--proxy``: each request through the reverse proxy (reverseproxy.py) and what is changed on the
way (proxyfields.py). Its connections to a backend are reactor's (reactor/upstream.py)."""
