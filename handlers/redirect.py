"""``--redirect-http PORT``: the handler of a plain-HTTP port that sends every request to HTTPS."""

from __future__ import annotations

import html

from reactor.exchange import Exchange


def https_url(host: str, https_port: int, path: str, query: str) -> str | None:
    """The https URL for a request to ``host`` (its Host header: uri-host [":" port], already checked
    by the parser) at ``path`` and ``query``: the same host name, the HTTPS port (left out when 443),
    the same path. Returns None when there is no host to send the client to."""
    if host.startswith("["):  # an IPv6 literal keeps its brackets (RFC 3986 3.2.2)
        name = host[: host.index("]") + 1]
    else:
        name = host.partition(":")[0]
    if not name or name == "[]":
        return None
    port = "" if https_port == 443 else f":{https_port}"
    target = path if path.startswith("/") else "/"
    return f"https://{name}{port}{target}" + (f"?{query}" if query else "")


class RedirectToHTTPS:
    """Answers every request with 308 to the same URL on https at ``https_port``. 308 rather than 301:
    the method and body are kept (RFC 9110 15.4.9). A request without a Host (HTTP/1.0) is a 400:
    there is nothing to build the URL from."""

    def __init__(self, https_port: int) -> None:
        self.https_port = https_port

    def __call__(self, exchange: Exchange) -> None:
        request = exchange.request
        url = https_url(request.host, self.https_port, request.path, request.query)
        if url is None:
            exchange.respond_error(400, "A Host header is needed to redirect to https.")
            return
        body = f'<!DOCTYPE html>\n<p>Moved to <a href="{html.escape(url)}">{html.escape(url)}</a>.</p>\n'.encode()
        exchange.respond(
            308,
            [("Location", url), ("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")],
            body,
        )
