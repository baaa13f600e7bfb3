"""statistics() of the loop and of the server: frozen snapshots (issue 8), safe to hand to any reader."""

from __future__ import annotations

import dataclasses

import pytest

from reactor.exchange import Exchange
from reactor.loop import EventLoop
from reactor.server import Server
from reactor.testing import FakeClock, tick


def ignore(exchange: Exchange) -> None:
    pass


def test_the_loop_statistics_cannot_be_changed() -> None:
    loop = EventLoop(clock=FakeClock())
    try:
        tick(loop)
        statistics = loop.statistics()
        with pytest.raises(dataclasses.FrozenInstanceError):
            statistics.iterations = 0  # type: ignore[misc]
        assert loop.statistics().iterations == 1
    finally:
        loop.close()


def test_the_server_statistics_cannot_be_changed() -> None:
    loop = EventLoop(clock=FakeClock())
    server = Server(loop, [], ignore)
    try:
        statistics = server.statistics()
        with pytest.raises(dataclasses.FrozenInstanceError):
            statistics.requests = 1  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            statistics.loop = loop.statistics()  # type: ignore[misc]
    finally:
        server.close()
        loop.close()
