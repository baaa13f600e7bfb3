"""What the simulated server serves: a small directory of files and a WSGI application, behind the
same handlers ``python -m reactor`` composes (static files, uploads, the WSGI gateway, a prefix router).

Every file has the same fixed modification time, so Last-Modified, ETags (size and mtime) and
listings are the same bytes in every run and every process. The directory is built once per machine,
at a path named by a digest of its contents.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from handlers.router import PrefixRouter
from handlers.static.options import StaticOptions
from handlers.static.staticfiles import StaticFiles
from handlers.wsgi import WSGIGateway
from reactor.exchange import Handler
from reactor.loop.clock import Clock

UPLOADS = "/up"  # where uploads go (each run into a directory of its own)
MTIME = 1_700_000_000  # every file's modification time: Last-Modified is part of the bytes compared
SMALL = b"Hello, simulated world!\n"


def _contents() -> dict[str, bytes]:
    source = random.Random(15)
    return {
        "hello.txt": SMALL,
        "empty.txt": b"",
        "index.html": b"<!doctype html><title>sim</title><p>index</p>\n",
        "medium.bin": source.randbytes(100 * 1024),  # kept in the file cache (at most 256 KiB)
        "big.bin": source.randbytes(300 * 1024),  # sent with sendfile
        "docs/a.txt": b"a" * 1000,
        "docs/b.txt": b"b" * 3000,
        ".secret": b"hidden\n",
    }


CONTENTS = _contents()


def site_root() -> str:
    """The directory of CONTENTS, built on first use (atomically: a rename) and reused after."""
    digest = hashlib.sha256(repr(sorted(CONTENTS.items())).encode()).hexdigest()[:12]
    root = os.path.join(tempfile.gettempdir(), f"reactor-simulation-{digest}")
    if os.path.isdir(root):
        return root
    staging = tempfile.mkdtemp(prefix="reactor-simulation-staging-")
    for name, data in CONTENTS.items():
        path = os.path.join(staging, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as file:
            file.write(data)
        os.utime(path, (MTIME, MTIME))
    for directory in (os.path.join(staging, "docs"), staging):
        os.utime(directory, (MTIME, MTIME))
    try:
        os.rename(staging, root)
    except OSError:  # another process built it first
        shutil.rmtree(staging)
    return root


class SimAppError(Exception):
    """Raised on purpose by the application: the failures the simulation expects to see logged."""


def _stream(pieces: int, size: int) -> Iterator[bytes]:
    for index in range(pieces):
        yield bytes([65 + index % 26]) * size


def stream_body(pieces: int, size: int) -> bytes:
    """All of what /app/stream?n=pieces&size=size sends."""
    return b"".join(_stream(pieces, size))


def _late_failure() -> Iterator[bytes]:
    yield b"x" * 100
    raise SimAppError("failed after the response began")


def make_application(root: str) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """A deterministic WSGI application: echo, streamed and file bodies, write(), and failures."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"].removeprefix("/app")
        query = dict(part.partition("=")[::2] for part in environ["QUERY_STRING"].split("&") if part)
        if path == "/echo":
            body = environ["wsgi.input"].read()
            start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/stream":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return _stream(int(query.get("n", "3")), int(query.get("size", "10")))
        if path == "/file":
            file = open(os.path.join(root, "big.bin"), "rb")  # noqa: SIM115 (the gateway closes it)
            size = os.fstat(file.fileno()).st_size
            start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))])
            wrapper: Iterable[bytes] = environ["wsgi.file_wrapper"](file)
            return wrapper
        if path == "/write":
            write = start_response("200 OK", [("Content-Type", "text/plain")])
            write(b"written first, ")
            return [b"returned after"]
        if path == "/error":
            raise SimAppError("failed before start_response")
        if path == "/late":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return _late_failure()
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        return [b"not found\n"]

    return application


def upload_directory() -> str:
    """A new empty directory for one run's uploads: in memory where the machine has /dev/shm, since
    every upload is fsynced."""
    return tempfile.mkdtemp(prefix="reactor-simulation-up-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)


def build_handler(root: str, upload_root: str, clock: Clock, threads: int) -> tuple[Handler, Callable[[], None]]:
    """Static files at / (compressed on the fly), uploads into ``upload_root`` at /up, and the WSGI
    application at /app on ``threads`` worker threads (0: inline), as ``python -m reactor --wsgi app
    --static ...`` composes them. The threads are the world's (lockstep.py): the run decides when
    their jobs, and the compressions and upload fsyncs, run."""
    static = StaticFiles(root, StaticOptions(), clock=clock)
    uploads = StaticFiles(upload_root, StaticOptions(upload=True), mount=UPLOADS, clock=clock)
    gateway = WSGIGateway(make_application(root), threads=threads)
    router = PrefixRouter([("/app", gateway), (UPLOADS, uploads)], static)

    def close() -> None:
        static.close()
        uploads.close()
        gateway.close()

    return router, close
