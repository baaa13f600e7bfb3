"""Shared fixtures: a document root and a live server on an ephemeral loopback port."""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import settings

from handlers.static.staticfiles import StaticFiles
from reactor.exchange import Handler
from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.listener import bind
from reactor.server import Server, ServerStatistics

T = TypeVar("T")

# No per-example deadline: on a shared two-core machine (and under .ci/run's other Pythons) one slow
# example is noise, not a finding. pytest-timeout still bounds every test.
settings.register_profile("reactor", deadline=None)
settings.load_profile("reactor")


class LiveServer:
    """A Server running its loop on a background thread, listening on ``host`` (127.0.0.1) port 0;
    HTTPS with ``tls``, a server SSLContext."""

    def __init__(
        self,
        handler: Handler,
        limits: Limits | None = None,
        access_log=None,
        tls: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.loop = EventLoop()
        self.limits = limits or Limits()
        sock = bind(host, 0, self.limits.listen_backlog)
        self.server = Server(self.loop, [sock], handler, self.limits, access_log, tls=tls)
        self.server.start()
        self.host, self.port = self.server.addresses[0]
        self._thread = threading.Thread(target=self.loop.run_forever, name="reactor-test-loop", daemon=True)
        self._thread.start()

    def call(self, function: Callable[[], T], timeout: float = 10) -> T:
        """Run ``function`` on the loop thread and return its result."""
        done = threading.Event()
        result: list[T] = []

        def run() -> None:
            try:
                result.append(function())
            finally:
                done.set()

        self.loop.call_soon_threadsafe(run)
        assert done.wait(timeout), "the loop did not run the call in time"
        return result[0]

    def statistics(self) -> ServerStatistics:
        return self.call(self.server.statistics)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        assert not self._thread.is_alive(), "the loop thread did not stop"
        self.loop.close()


@pytest.fixture
def docroot(tmp_path: Path) -> Path:
    """A small site: files, an index, a directory to list, awkward names, symlinks in and out."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "hello.txt").write_bytes(b"hello world\n")
    (root / "1k.bin").write_bytes(bytes(range(256)) * 4)
    (root / "page.html").write_text("<!doctype html><title>page</title><p>page</p>\n")
    (root / "app.js").write_text("console.log(1);\n")
    (root / "data.json").write_text('{"a": 1}\n')
    (root / "site").mkdir()
    (root / "site" / "index.html").write_text("<!doctype html><title>site</title>\n")
    listed = root / "listed"
    listed.mkdir()
    (listed / "b.txt").write_text("b")
    (listed / "A.txt").write_text("a")
    (listed / "zdir").mkdir()
    (listed / '<b>&"x".txt').write_text("tricky")
    (listed / "space name.txt").write_text("space")
    (listed / "caf\u00e9.txt").write_text("utf8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    os.symlink(outside / "secret.txt", root / "link-out.txt")
    os.symlink(outside, root / "dir-out")
    os.symlink(root / "hello.txt", root / "link-in.txt")
    return root


@pytest.fixture
def live_server(docroot: Path) -> Iterator[LiveServer]:
    server = LiveServer(StaticFiles(str(docroot)))
    yield server
    server.stop()
