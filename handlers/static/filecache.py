"""The static handler's hot path: answers kept by request path, so the common request costs no
filesystem call. A path's entry is a small file with its whole answer, or the 404 of a path that names
nothing: either way a hit is one lookup and its validity check.

A file up to CACHED_FILE_LIMIT is kept under the request path that named it, with the fields of its
200 and of its 304 encoded once. Entries are revalidated (handlers.static.cache) by finding the path again
the way the full path finds it (the Site's rules), so a file changed, deleted, retargeted or given a
precompressed sibling on disk is seen within a second, and so is a file that appears where a 404 was.
With ``--compress`` a text file's gzip-coded answer is kept beside it, under the same path, once
handlers.static.compression has made it.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from typing import BinaryIO

from handlers.static import files
from handlers.static.cache import RevalidatingCache
from handlers.static.errorpages import ErrorAnswer, status_for
from handlers.static.negotiation import SUFFIXES, preferred_codings
from handlers.static.paths import PathError, RequestPath
from handlers.static.site import Site
from reactor.exchange import Exchange
from reactor.http.events import Request
from reactor.http.writer import PreparedResponse
from reactor.loop.clock import Clock

# Files up to this size are kept in memory with their response fields encoded once, so a request for
# one costs no filesystem call; larger ones go out with sendfile, where the kernel does the copying.
CACHED_FILE_LIMIT = 256 * 1024
MISSING_SIZE = 64  # what the entry of a path that names nothing costs, beyond the path
# Request fields that can change the answer for a cached file: the full path decides those requests.
_CONDITIONAL_FIELDS = frozenset({"if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "range"})


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


class NotFound:
    """The entry of a request path that named nothing: its 404, a response made once (the built-in
    page) or the error answer's (a configured page, the single-page app's entry)."""

    __slots__ = ("response", "_errors")

    def __init__(self, response: PreparedResponse | None, errors: ErrorAnswer) -> None:
        self.response = response  # None: the error answer makes it for each request
        self._errors = errors

    def send(self, exchange: Exchange) -> None:
        if self.response is not None:
            exchange.respond_prepared(self.response)
        else:
            self._errors(exchange, 404, "not found")


class FileCache:
    """At most ``max_size`` bytes of answers by request path under ``site``: small files' and 404s."""

    def __init__(self, max_size: int, site: Site, clock: Clock = time.monotonic) -> None:
        self._site = site
        self._answers: RevalidatingCache[str, CachedFile | NotFound] = RevalidatingCache(
            max_size, self._still_valid, clock=clock
        )
        # The gzip-coded answers of compressible files, under the same keys (the identity stays above).
        self._coded: RevalidatingCache[str, CachedFile] = RevalidatingCache(
            max_size // 4, self._still_valid, clock=clock
        )

    def answer(self, exchange: Exchange) -> bool:
        """Answer from what is kept for the request's path: a 404, or a file's 200 or 304; False
        leaves the request to the full path (see ``lookup``)."""
        found = self.lookup(exchange.request)
        if found is None:
            return False
        if isinstance(found, NotFound):
            found.send(exchange)
        else:
            exchange.respond_prepared(found)
        return True

    def lookup(self, request: Request) -> PreparedResponse | NotFound | None:
        """What is kept for the request's path: a file's 200 or 304, or the entry of a path that names
        nothing; None leaves the request to the full path (nothing kept, ranges, failed
        preconditions, a precompressed sibling the client may want, a coded answer not made yet)."""
        cached = self._answers.get(request.path)
        if cached is None or type(cached) is NotFound:
            return cached
        assert type(cached) is CachedFile
        conditional = ranged = False
        accept_encoding = []
        for name, value in request.headers:
            if name in _CONDITIONAL_FIELDS:
                conditional = True
                ranged = ranged or name == "range"
            elif name == "accept-encoding":
                if cached.has_sibling:
                    return None
                accept_encoding.append(value)
        identity = cached
        if accept_encoding and cached.compressible and "gzip" in preferred_codings(", ".join(accept_encoding)):
            coded = self._coded.get(request.path)
            if coded is None:
                return None
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
                return cached.not_modified
            if status != 200 or (ranged and cached is not identity):
                return None  # a range, or one whose If-Range may name the file itself: the full path
        return cached.ok

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
        cache: RevalidatingCache[str, CachedFile] | RevalidatingCache[str, CachedFile | NotFound]
        if isinstance(source, bytes):
            body, cache = source, self._coded
        else:
            body, cache = os.pread(source.fileno(), info.st_size, 0), self._answers
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

    def keep_not_found(self, path: str, not_found: NotFound) -> None:
        """Remember that the request path ``path`` names nothing: its 404 is answered from here on."""
        self._answers.put(path, not_found, len(path) + MISSING_SIZE)

    def forget(self, path: str) -> None:
        """Drop what is kept for the request path ``path``: its file was just replaced or created."""
        self._answers.discard(path)
        self._coded.discard(path)

    def forget_all(self) -> None:
        """Drop everything kept: files changed on disk, which ones is not known."""
        self._answers.clear()
        self._coded.clear()

    def _still_valid(self, key: str, cached: CachedFile | NotFound) -> bool:
        """Whether ``key`` still names the same unchanged file, or still names nothing, found the way
        the full path finds it."""
        if type(cached) is NotFound:
            try:
                self._site.locate(key)
            except OSError as error:
                return status_for(error)[0] == 404
            except PathError:
                return False
            return False
        assert type(cached) is CachedFile
        try:
            _path, requested, real, info = self._site.target(key)
        except (PathError, OSError):
            return False
        return (
            not stat.S_ISDIR(info.st_mode)
            and (requested, real) == (cached.requested, cached.real)
            and _identity(info) == cached.identity
            and _has_sibling(real) == cached.has_sibling
        )


def _identity(info: os.stat_result) -> tuple[int, int, int]:
    return info.st_ino, info.st_size, info.st_mtime_ns


def _has_sibling(real: str) -> bool:
    return any(os.path.lexists(real + suffix) for suffix in SUFFIXES.values())
