"""Live reload for the tests: a LiveServer composed as ``--live-reload`` composes it, and an event stream
read chunk by chunk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handlers.livereload.reloader import EVENTS_PATH, HEARTBEAT, LiveReload
from handlers.static.options import StaticOptions
from handlers.static.staticfiles import StaticFiles
from tests.conftest import LiveServer
from tests.integration.client import RawClient


class Reloading:
    """A LiveServer of StaticFiles over ``root`` with live reload: its LiveReload handler and the
    watch of the tree, as the command line composes them."""

    def __init__(self, root: Path, heartbeat: float = HEARTBEAT, **options: Any) -> None:
        self.files = StaticFiles(str(root), StaticOptions(live_reload=True, **options))
        self.hub = LiveReload(self.files, heartbeat=heartbeat)
        self.live = LiveServer(self.hub)
        self.port = self.live.port
        self.tree = self.live.call(lambda: self.hub.watch(self.live.loop, [str(root)], [self.files.forget_files]))

    def stop(self) -> None:
        self.live.call(self.tree.close)
        self.live.stop()


class Stream:
    """An event stream read chunk by chunk (RawClient reads whole bodies only)."""

    def __init__(self, port: int, last_event_id: str | None = None) -> None:
        self.client = RawClient(port)
        seen = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id is not None else ""
        self.client.send(f"GET {EVENTS_PATH} HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n{seen}\r\n".encode())
        while b"\r\n\r\n" not in self.client.buffer:
            assert self.client._fill(), "closed before the head"
        self.head = self.client._take(self.client.buffer.index(b"\r\n\r\n") + 4).decode("latin-1")

    def chunk(self) -> bytes:
        """The next chunk of the body (b"" for the last one)."""
        while b"\r\n" not in self.client.buffer:
            assert self.client._fill(), "closed inside the stream"
        size = int(self.client._take(self.client.buffer.index(b"\r\n") + 2), 16)
        while len(self.client.buffer) < size + 2:
            assert self.client._fill(), "closed inside a chunk"
        data = self.client._take(size)
        del self.client.buffer[:2]
        return data

    def close(self) -> None:
        self.client.close()
