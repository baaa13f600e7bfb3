"""What the reverse proxy changes in the messages it passes on (RFC 9110 7.6): the target the backend
is asked for, and the fields each way. Pure functions of a request or a response head.

- Hop-by-hop fields are dropped both ways (RFC 9110 7.6.1): Connection and every field it names,
  Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade (but for an upgrade, which asks for it
  anew), Trailer (we pass on no trailer fields, so none may be announced), and Proxy-Authorization and
  Proxy-Authenticate, which are for us, the proxy, not for the backend or the client.
- Content-Length is ours to write: the message is framed again by us, from what we parsed.
- Host is kept: the backend sees the name the browser used, as behind Caddy (nginx sends the backend's
  own name unless told otherwise), so the redirects and absolute links it makes lead back through us.
- X-Forwarded-For, -Proto and -Host say who asked, over what and for which name; an incoming value
  of theirs is replaced, not appended to: this server faces the clients itself, and a client can
  write any address into its request, so the only one we can vouch for is the one we see.
- Via says a proxy passed the message on (RFC 9110 7.6.3: a proxy MUST send it), both ways.
- The backend's Date and Server are replaced by ours (the response writer adds them), as nginx does.
"""

from __future__ import annotations

from reactor.http.client import ResponseHead
from reactor.http.events import Headers, Request
from reactor.http.fields import split_list

# RFC 9110 7.6.1, and the fields addressed to a proxy (11.7).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "transfer-encoding",
        "upgrade",
        "trailer",
        "proxy-authorization",
        "proxy-authenticate",
    }
)
# Dropped from requests: those, and what we write ourselves.
_DROPPED_FROM_REQUESTS = HOP_BY_HOP | {
    "host",
    "content-length",
    "expect",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
}
# Dropped from responses: those, and the framing, Date and Server, which are the response writer's.
_DROPPED_FROM_RESPONSES = HOP_BY_HOP | {"content-length", "date", "server"}
PSEUDONYM = "reactor"  # our name in Via (RFC 9110 7.6.3: a pseudonym may stand for the host)
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})  # RFC 9110 9.2.2


def backend_target(request: Request, prefix: str, path: str | None) -> str:
    """The origin-form target to ask the backend for. Without a ``path`` (a URL such as
    ``http://host:port``) the request's own target; with one (even "/"), the path replaces ``prefix``,
    the two joined with exactly one "/"; the query is kept (nginx's proxy_pass does the same). An
    absolute-form target is asked for in origin form: the backend is ours to choose, never the
    request's."""
    target = request.target
    if target[:1] != "/":
        target = request.path + ("?" + request.query if request.query else "")
    if path is None:
        return target
    rest = request.path[len(prefix) :]
    query = target[len(request.path) :]  # "?..." or ""
    if not rest:
        return path + query
    return path.rstrip("/") + "/" + rest.lstrip("/") + query


def wants_upgrade(request: Request) -> str | None:
    """The protocol a request asks to switch to (RFC 9110 7.8: ``Upgrade`` named in ``Connection``,
    HTTP/1.1, no body), or None."""
    if request.version != "HTTP/1.1" or request.has_body:
        return None
    upgrade = request.headers.get("upgrade")
    if not upgrade or "upgrade" not in split_list(request.headers.get_all("connection")):
        return None
    return upgrade


def request_fields(
    request: Request, client: str, scheme: str, upgrade: str | None, backend_host: str
) -> list[tuple[str, str]]:
    """The fields of the request to the backend: the request's end-to-end fields, Host (the
    ``backend_host`` for an HTTP/1.0 request that named none: RFC 9112 3.2, an HTTP/1.1 request MUST
    have one), the X-Forwarded ones for ``client`` (its address) over ``scheme``, Via, and for an
    ``upgrade``, Connection and Upgrade."""
    headers = request.headers
    dropped = _dropped(headers, _DROPPED_FROM_REQUESTS)
    fields = [("host", request.host or backend_host)]
    fields += [(name, value) for name, value in headers if name not in dropped]
    if request.host:
        fields.append(("x-forwarded-host", request.host))
    fields += [("x-forwarded-for", client), ("x-forwarded-proto", scheme)]
    fields.append(("via", f"{request.version[5:]} {PSEUDONYM}"))
    if upgrade is not None:
        fields += [("connection", "upgrade"), ("upgrade", upgrade)]
    return fields


def response_fields(head: ResponseHead) -> list[tuple[str, str]]:
    """The fields of the backend's response passed on to the client, Via added. For a 101, Connection
    and Upgrade are passed on too: the client asked for them."""
    headers = head.headers
    dropped = _dropped(headers, _DROPPED_FROM_RESPONSES)
    fields = [(name, value) for name, value in headers if name not in dropped]
    fields.append(("via", f"{head.version[5:]} {PSEUDONYM}"))
    if head.status == 101:
        fields += [("connection", "upgrade"), ("upgrade", headers.get("upgrade") or "")]
    return fields


def _dropped(headers: Headers, always: frozenset[str]) -> frozenset[str]:
    """The names not passed on: ``always``, and those the message's Connection field names."""
    named = headers.get_all("connection")
    return always | frozenset(split_list(named)) if named else always
