"""Whether a request was sent by a browser for a page of another origin: the cross-site request
forgery (CSRF) that a write must refuse. Any site a user visits can make the browser post a form,
or fetch without a preflight, to this server (with the Basic credentials the browser holds for it),
and the server would write files on that site's behalf.

Browsers say where a request comes from, so no token is needed (Go's net/http CrossOriginProtection
decides the same way): ``Sec-Fetch-Site`` (Fetch Metadata, sent by every current browser) when
present, else ``Origin`` (sent with every POST since 2020) against ``Host``. A request with neither
comes from something that is not a browser, a script or curl, which no other site can steer.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from reactor.http.events import Headers

# Sec-Fetch-Site values of a request this origin's own pages made, or the user made by hand.
_OWN = frozenset({"same-origin", "none"})


def sent_from_another_origin(headers: Headers) -> bool:
    """True when a browser sent the request for a page of another origin (another site, or another
    port or scheme of this host: each is an origin of its own, RFC 6454)."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site.strip().lower() not in _OWN
    origin = headers.get("origin")
    if origin is None:
        return False
    # "null": a sandboxed frame, a data: URL, a redirect across origins; never one of our pages.
    host = headers.get("host") or ""
    return origin == "null" or urlsplit(origin).netloc.lower() != host.strip().lower()
