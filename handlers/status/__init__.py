"""``--status-path``: the live status page and its JSON (statuspage.py, status.html, .css, .js), and
its numbers in Prometheus' text format (metrics.py)."""
