"""Runnable counterparts of the seed programs, each on the reactor (see docs/seeds.md):

- ``python -m examples.tcp_echo``: socketserver's TCPServer + StreamRequestHandler line echo.
- ``python -m examples.timestamp_echo``: the TCP server that answers ``[ctime] data``.
- ``python -m examples.udp_echo``: socketserver's UDPServer echo.
- ``python -m examples.hello_handler``: a BaseHTTPRequestHandler ``do_GET`` writing "hello world".
- ``python -m reactor --wsgi examples.flask_app:app``: a Flask application through the WSGI gateway.
"""
