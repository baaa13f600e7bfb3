"""Compression on the fly (``--compress``): a small file of a text type is gzipped once per version
on a background thread, and answered uncompressed until the coded bytes are there; a file that does
not shrink is remembered as such and always sent as it is.

Versions are keyed by the validators the ETag is made of (inode, size, mtime): a file changed on disk
is a new key, compressed again, and the old entry ages out of the bounded cache.
"""

from __future__ import annotations

import math
import os
import zlib
from functools import partial
from typing import TYPE_CHECKING

from handlers.background import BackgroundJobs
from handlers.static.cache import RevalidatingCache
from handlers.static.files import open_regular

if TYPE_CHECKING:
    from reactor.loop.eventloop import EventLoop

# Below this, gzip's header and trailer (18 bytes) and a round trip to a thread buy nothing (Caddy's
# encode minimum_length is 512; nginx gzip_min_length is 20).
MIN_SIZE = 512
LEVEL = 6  # zlib's default, and nginx's gzip_comp_level is 1..9 with 1 by default: 6 halves text for little CPU
CACHE_SIZE = 16 * 1024 * 1024  # coded bodies of files at most CACHED_FILE_LIMIT each
# application/* types that are text (or wasm, which gzip shrinks by half); text/* always is.
_COMPRESSIBLE = frozenset(
    {
        "application/javascript",
        "application/json",
        "application/xml",
        "application/manifest+json",
        "application/wasm",
        "image/svg+xml",
    }
)

Version = tuple[str, int, int, int]  # real path, inode, size, mtime in ns


def compressible(content_type: str) -> bool:
    """Whether a body of ``content_type`` (parameters allowed) is worth gzipping: text and its kin."""
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type.startswith("text/") or media_type in _COMPRESSIBLE or media_type.endswith(("+json", "+xml"))


def gzip_bytes(data: bytes) -> bytes:
    """``data`` as a gzip member (RFC 1952) with no name and mtime 0, so equal input gives equal
    output: the coded representation's ETag can stand for its bytes."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


class Compressions:
    """The gzip-coded bodies of file versions, made on ``jobs``' threads on first demand."""

    def __init__(self, jobs: BackgroundJobs, max_size: int = CACHE_SIZE) -> None:
        self._jobs = jobs
        # A version's gzip body, or b"" when it does not shrink. Keys name a version: never stale.
        self._done: RevalidatingCache[Version, bytes] = RevalidatingCache(max_size, _always, trust_for=math.inf)
        self._pending: set[Version] = set()

    def coded(self, loop: EventLoop, real: str, info: os.stat_result) -> bytes | None:
        """The gzip body of the file at ``real`` as ``info`` describes it; b"" when gzip does not make
        it smaller; None when it is not compressed yet: its compression starts now (on ``loop``'s
        behalf) unless it already runs."""
        version = (real, info.st_ino, info.st_size, info.st_mtime_ns)
        found = self._done.get(version)
        if found is not None or version in self._pending:
            return found
        self._pending.add(version)
        self._jobs.run(loop, partial(_compress_version, version), partial(self._finished, version))
        return None

    def _finished(self, version: Version, body: bytes | None, error: Exception | None) -> None:
        """On the loop: keep what the thread made. A file that changed or vanished meanwhile (or an
        error reading it) keeps nothing: the next request for its new version starts again."""
        self._pending.discard(version)
        if body is not None:
            self._done.put(version, body, 64 + len(body))


def _compress_version(version: Version) -> bytes | None:
    """On a worker thread: the gzip body of ``version``, b"" when that would not be smaller, None
    when the file is no longer that version. Raises OSError."""
    real, inode, size, mtime_ns = version
    opened = open_regular(real)
    if opened is None:
        return None
    file, info = opened
    with file:
        if (info.st_ino, info.st_size, info.st_mtime_ns) != (inode, size, mtime_ns):
            return None
        data = os.pread(file.fileno(), size, 0)
    if len(data) != size:
        return None
    body = gzip_bytes(data)
    return body if len(body) < size else b""


def _always(_version: Version, _body: bytes) -> bool:
    return True
