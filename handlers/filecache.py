"""The static handler's hot path: small files kept with their whole answer, and request paths
remembered as naming nothing, so the common request costs no filesystem call.

A file up to CACHED_FILE_LIMIT is kept under the request path that named it, with the fields of its
200 and of its 304 encoded once. Both caches are revalidated (handlers.cache) by finding the path again
the way the full path finds it, so a file changed, deleted, retargeted or given a precompressed
sibling on disk is seen within a second. With ``--compress`` a text file's gzip-coded answer is kept
beside it, under the same path, once handlers.compression has made it.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from handlers import files
from handlers.cache import RevalidatingCache
from handlers.errorpages import status_for
from handlers.negotiation import SUFFIXES, preferred_codings
from handlers.paths import Located, PathError, RequestPath
from reactor.clock import Clock
from reactor.exchange import Exchange
from reactor.http.writer import PreparedResponse

# Files up to this size are kept in memory with their response fields encoded once, so a request for
# one costs no filesystem call; larger ones go out with sendfile, where the kernel does the copying.
CACHED_FILE_LIMIT = 256 * 1024
MISSING_CACHE_SIZE = 1024 * 1024  # request paths that named nothing, about 64 bytes each beyond the path
# Request fields that can change the answer for a cached file: the full path decides those requests.
_CONDITIONAL_FIELDS = frozenset({"if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "range"})

# How the static handler finds what a request path names. Raises PathError or OSError.
Locate = Callable[[str], Located]


@dataclass(frozen=True, slots=True)
class CachedFile:
    """A small file's whole 200 answer, and what shows whether it still is that answer."""

    requested: str  # the path under the root the request names (through an index file for a directory)
    real: str  # the same with symlinks resolved
    identity: tuple[int, int, int]  # inode, size, mtime in ns
    has_sibling: bool  # a .br or .gz next to it: a request with Accept-Encoding takes the full path
    compressible: bool  # gzip on the fly may apply: a request accepting gzip wants the coded answer
    body: bytes
    etag: str
    modified: int
    ok: PreparedResponse  # the 200 response, with the body
    not_modified: PreparedResponse  # a 304


class FileCache:
    """At most ``max_size`` bytes of small files' answers, and the paths that named nothing.

    ``target`` finds what a request path is answered with (a file, through an index file for a
    directory), ``locate`` what it names: the static handler's own ways, used to revalidate.
    """

    def __init__(self, max_size: int, target: Locate, locate: Locate, clock: Clock = time.monotonic) -> None:
        self._target = target
        self._locate = locate
        self._files: RevalidatingCache[str, CachedFile] = RevalidatingCache(
            max_size, self._file_still_valid, clock=clock
        )
        # The gzip-coded answers of compressible files, under the same keys (the identity stays above).
        self._coded: RevalidatingCache[str, CachedFile] = RevalidatingCache(
            max_size // 4, self._file_still_valid, clock=clock
        )
        # Paths that named nothing: a scanner's or a broken link's next request costs no syscall.
        self._missing: RevalidatingCache[str, bool] = RevalidatingCache(
            MISSING_CACHE_SIZE, self._still_missing, clock=clock
        )

    def answer(self, exchange: Exchange) -> bool:
        """Answer from a cached file when the request's path has one and the answer is its 200 or a
        304; False leaves the request to the full path (nothing cached, ranges, failed preconditions,
        a precompressed sibling the client may want, a coded answer not made yet)."""
        request = exchange.request
        cached = self._files.get(request.path)
        if cached is None:
            return False
        conditional = ranged = False
        accept_encoding = []
        for name, value in request.headers:
            if name in _CONDITIONAL_FIELDS:
                conditional = True
                ranged = ranged or name == "range"
            elif name == "accept-encoding":
                if cached.has_sibling:
                    return False
                accept_encoding.append(value)
        identity = cached
        if accept_encoding and cached.compressible and "gzip" in preferred_codings(", ".join(accept_encoding)):
            coded = self._coded.get(request.path)
            if coded is None:
                return False
            cached = coded
        if conditional:
            status, _ranges = files.decide(request, cached.etag, cached.modified, len(cached.body))
            # The client may hold the file itself, cached before the coded form was made: a 304 for it
            # (fileanswer.py does the same on the full path).
            if (
                status != 304
                and cached is not identity
                and files.decide(request, identity.etag, identity.modified, len(identity.body))[0] == 304
            ):
                status, cached = 304, identity
            if status == 304:
                exchange.respond_prepared(cached.not_modified)
                return True
            if status != 200 or (ranged and cached is not identity):
                return False  # a range, or one whose If-Range may name the file itself: the full path
        exchange.respond_prepared(cached.ok)
        return True

    def maybe_keep(
        self,
        key: str,
        parsed: RequestPath,
        requested: str,
        real: str,
        source: BinaryIO | bytes,
        info: os.stat_result,
        etag: str,
        content_type: str,
        headers: list[tuple[str, str]],
        validators: list[tuple[str, str]],
        *,
        compressible: bool = False,
    ) -> CachedFile | None:
        """Keep the 200 answer (``headers`` besides Content-Type) and the 304 answer (``validators``)
        of the small file ``source`` for the next requests of the path ``key``, and return it. None when
        the file is too large, changed as we read, or ``key`` is not the canonical URL of ``parsed``
        (what it parses to): its aliases (``/./a``, ``//a``, ``/%61``) are answered but not kept, or
        each would take a copy of the file and a read on the loop. ``source`` as bytes is the file's
        gzip-coded body (``headers`` then hold its Content-Encoding), kept beside the identity answer.
        ``compressible``: a coded answer of the file may be made, so requests accepting gzip look for it."""
        if info.st_size > CACHED_FILE_LIMIT or parsed.url() != key:  # last: url() re-quotes every segment
            return None
        if isinstance(source, bytes):
            body, cache = source, self._coded
        else:
            body, cache = os.pread(source.fileno(), info.st_size, 0), self._files
            if len(body) != info.st_size:
                return None
        cached = CachedFile(
            requested=requested,
            real=real,
            identity=_identity(info),
            has_sibling=_has_sibling(real),
            compressible=compressible,
            body=body,
            etag=etag,
            modified=int(info.st_mtime),
            ok=PreparedResponse(200, [("Content-Type", content_type), *headers], body),
            not_modified=PreparedResponse(304, validators),  # the fields of a 304 from the full path
        )
        cache.put(key, cached, len(body) + 512)
        return cached

    def is_missing(self, path: str) -> bool:
        """Whether the request path ``path`` was found to name nothing (and still does, if checked)."""
        return self._missing.get(path) is not None

    def keep_missing(self, path: str) -> None:
        """Remember that the request path ``path`` names nothing: its 404 is answered from here on."""
        self._missing.put(path, True, len(path) + 64)

    def forget(self, path: str) -> None:
        """Drop what is kept for the request path ``path``: its file was just replaced or created."""
        self._files.discard(path)
        self._coded.discard(path)
        self._missing.discard(path)

    def forget_all(self) -> None:
        """Drop everything kept: files changed on disk, which ones is not known."""
        self._files.clear()
        self._coded.clear()
        self._missing.clear()

    def _file_still_valid(self, key: str, cached: CachedFile) -> bool:
        """Whether ``key`` still names the same unchanged file, found the way the full path finds it."""
        try:
            _path, requested, real, info = self._target(key)
        except (PathError, OSError):
            return False
        return (
            not stat.S_ISDIR(info.st_mode)
            and (requested, real) == (cached.requested, cached.real)
            and _identity(info) == cached.identity
            and _has_sibling(real) == cached.has_sibling
        )

    def _still_missing(self, key: str, missing: bool) -> bool:
        try:
            self._locate(key)
        except OSError as error:
            return status_for(error)[0] == 404
        except PathError:
            return False
        return False


def _identity(info: os.stat_result) -> tuple[int, int, int]:
    return info.st_ino, info.st_size, info.st_mtime_ns


def _has_sibling(real: str) -> bool:
    return any(os.path.lexists(real + suffix) for suffix in SUFFIXES.values())
