"""Cross-origin resource sharing (the Fetch standard) for public files: any origin may read them,
without credentials, and a preflight is answered without looking at the filesystem."""

from __future__ import annotations

from reactor.http.events import Headers
from reactor.http.fields import TOKEN

METHODS = "GET, HEAD, OPTIONS"
# On every response: any origin may read it, and scripts may read these fields beyond the
# CORS-safelisted ones (a player seeking by Range needs Content-Range).
RESPONSE_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", "Accept-Ranges, Content-Encoding, Content-Range, ETag"),
)
_MAX_AGE = "86400"  # a day; browsers cap it lower (Chromium: 2 hours)


def preflight_headers(headers: Headers) -> list[tuple[str, str]]:
    """The fields that answer a preflight (an OPTIONS request with Origin and
    Access-Control-Request-Method), or none for a plain OPTIONS. Requested header names are allowed
    back when they are a list of tokens; anything else is not echoed."""
    if headers.get("origin") is None or headers.get("access-control-request-method") is None:
        return []
    fields = [("Access-Control-Allow-Methods", METHODS), ("Access-Control-Max-Age", _MAX_AGE)]
    wanted = headers.get("access-control-request-headers", "") or ""
    if wanted and all(TOKEN.fullmatch(name.strip(" \t").encode()) for name in wanted.split(",")):
        fields.append(("Access-Control-Allow-Headers", wanted))
    return fields
