"""The seed's BaseHTTPRequestHandler program: the handler class unchanged but for the import line.

python -m examples.hello_handler [port]      # default 8000, on 127.0.0.1
curl http://127.0.0.1:8000/
"""

from __future__ import annotations

import contextlib
import sys

from examples.common import cannot_serve, command_line
from handlers.requesthandler import BaseHTTPRequestHandler, HTTPServer


class CustomHTTPRequestHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-type", "text/html")
        self.end_headers()
        self.wfile.write(b"hello world")


def main(argv: list[str] | None = None) -> int:
    parser = command_line("examples.hello_handler", "a BaseHTTPRequestHandler", 8000, with_bind=False)
    port = parser.parse_args(argv).port
    try:
        httpd = HTTPServer(("127.0.0.1", port), CustomHTTPRequestHandler)
    except OSError as error:
        cannot_serve(parser, "127.0.0.1", port, error)
    with httpd:
        print(f"Serving HTTP on 127.0.0.1 port {httpd.server_address[1]} ...", flush=True)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends it, as it ends the stdlib's
            httpd.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
