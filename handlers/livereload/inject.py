"""The live-reload script tag put into an HTML file (``--live-reload``): the injected variant of the
file, with the validator that names it.

The variant is the file's bytes with SCRIPT_TAG before the last ``</body`` (in any case), or at the end
when there is none. It is a representation of its own: its ETag is the file's with a suffix naming the
tag, so neither a cached copy of the file itself nor one made with another tag ever matches it, and
conditional requests and ranges apply to its bytes (RFC 9110 8.8.3: a strong tag names one sequence of
bytes). Last-Modified stays the file's: the variant changes when the file does. The script is served
from SCRIPT_PATH, not written inline, so a page under ``Content-Security-Policy: default-src 'self'``
runs it.
"""

from __future__ import annotations

import zlib

SCRIPT_PATH = "/-/livereload.js"
SCRIPT_TAG = f'<script src="{SCRIPT_PATH}"></script>'.encode()
# HTML files up to this size get the tag; a larger one would be read into memory on the loop for each
# request, so it is sent as it is (no hand-written page comes near it).
MAX_INJECTED = 4 * 1024 * 1024

_SUFFIX = f"-lr{zlib.crc32(SCRIPT_TAG):08x}"


def inject(body: bytes, etag: str) -> tuple[bytes, str]:
    """The variant of an HTML file whose bytes are ``body`` and whose strong ETag is ``etag`` (a
    quoted string): its bytes and its ETag."""
    end = body.lower().rfind(b"</body")
    at = len(body) if end < 0 else end
    return body[:at] + SCRIPT_TAG + body[at:], etag[:-1] + _SUFFIX + '"'
