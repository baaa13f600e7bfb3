"""Serving the files under one directory, as SimpleHTTPRequestHandler does, done right."""

from __future__ import annotations

import errno
import os
import stat

from handlers import listing
from handlers.conditional import evaluate, http_date, make_etag
from handlers.mimetypes import MimeTypes
from handlers.paths import PathError, RequestPath, parse_request_path
from reactor.exchange import Exchange

# RFC 9110 9.3 methods plus PATCH: we know them and do not allow them here (405); anything else is
# a method we do not implement at all (501, RFC 9110 15.6.2).
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
_ALLOW = [("Allow", "GET, HEAD")]
_INDEX_FILES = ("index.html", "index.htm")
_HTML = "text/html; charset=utf-8"


class StaticFiles:
    """A handler that serves GET and HEAD for the files under ``root``.

    Nothing outside the root is readable: request paths are resolved by handlers.paths (no "..", no
    encoded separators, no NUL) and the resolved file's real path, symlinks followed, must still lie
    inside the root.
    """

    def __init__(self, root: str, *, mime_types: MimeTypes | None = None, mount: str = "/") -> None:
        self.root = os.path.realpath(root)
        # The URL path the root is served at (handlers.router mounts it beside other handlers).
        self._mount = tuple(segment for segment in mount.split("/") if segment)
        self._root_prefix = self.root.rstrip(os.sep) + os.sep
        self._mime_types = mime_types if mime_types is not None else MimeTypes()

    def __call__(self, exchange: Exchange) -> None:
        request = exchange.request
        if request.method not in ("GET", "HEAD"):
            status = 405 if request.method in _KNOWN_METHODS else 501
            exchange.respond_error(status, f"{request.method} is not supported here", _ALLOW)
            return
        try:
            path = parse_request_path(request.path)
            real = self._real_path(path)
            info = os.stat(real)
        except PathError as error:
            exchange.respond_error(error.status, error.reason)
            return
        except OSError as error:
            exchange.respond_error(*_status_for(error))
            return
        if stat.S_ISDIR(info.st_mode):
            self._serve_directory(exchange, path, real)
        elif path.trailing_slash:
            exchange.respond_error(404, "not a directory")  # /file.txt/ names no directory
        else:
            self._serve_file(exchange, real)

    def _real_path(self, path: RequestPath) -> str:
        """The file's path with symlinks resolved. Raises PathError(404) for a path outside the
        mount point, PathError(403) if the file lies outside the root."""
        mount = self._mount
        if path.segments[: len(mount)] != mount:
            raise PathError(404, "not found")
        real = os.path.realpath(os.path.join(self.root, *path.segments[len(mount) :]))
        if real != self.root and not real.startswith(self._root_prefix):
            raise PathError(403, "the path leads outside the served directory")
        return real

    def _serve_directory(self, exchange: Exchange, path: RequestPath, real: str) -> None:
        request = exchange.request
        if not path.trailing_slash:
            # Built from the decoded segments, so it starts with exactly one "/" and cannot be read
            # as another host ("//evil.example"): the CVE-2021-28861 class.
            location = path.url(trailing_slash=True) + ("?" + request.query if request.query else "")
            exchange.respond(301, [("Location", location), ("Content-Type", _HTML)], b"")
            return
        for name in _INDEX_FILES:
            index = os.path.join(real, name)
            if os.path.isfile(index):
                self._serve_file(exchange, index)
                return
        try:
            entries = listing.scan(real)
        except OSError as error:
            exchange.respond_error(*_status_for(error))
            return
        body = listing.render(path.url(trailing_slash=True), entries)
        exchange.respond(200, [("Content-Type", _HTML)], body)

    def _serve_file(self, exchange: Exchange, real: str) -> None:
        request = exchange.request
        try:
            # O_NONBLOCK: if the name was swapped for a FIFO after our stat, open must not block the loop.
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as error:
            exchange.respond_error(*_status_for(error))
            return
        file = os.fdopen(fd, "rb", buffering=0)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            file.close()
            exchange.respond_error(404, "not a regular file")
            return
        etag = make_etag(info)
        modified = int(info.st_mtime)
        headers = [
            ("Content-Type", self._mime_types(real)),
            ("Last-Modified", http_date(modified)),
            ("ETag", etag),
        ]
        status = evaluate(request.headers, request.method, etag, modified)
        if status is not None:
            file.close()
            exchange.respond(status, headers if status == 304 else [], b"")
            return
        exchange.respond_file(200, headers, file, 0, info.st_size)


def _status_for(error: OSError) -> tuple[int, str]:
    if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP):
        return 404, "not found"
    if error.errno in (errno.EACCES, errno.EPERM):
        return 403, "permission denied"
    return 500, "cannot read the file"
