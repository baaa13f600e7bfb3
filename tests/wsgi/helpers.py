"""Running WSGI applications on a live server for tests: each through wsgiref.validate.validator,
with the gateway's error log collected so that an unexpected failure fails the test."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.validate import validator

from handlers.wsgi import WSGIApplication, WSGIGateway
from reactor.limits import Limits
from tests.conftest import LiveServer


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock:
            self.records.append(record)


class WSGIServer:
    """A live server running ``app`` through the gateway; ``logged`` holds the gateway's warnings
    and errors."""

    def __init__(self, live: LiveServer, gateway: WSGIGateway, collect: _Collect) -> None:
        self.live = live
        self.gateway = gateway
        self.port = live.port
        self._collect = collect

    @property
    def logged(self) -> list[str]:
        return [
            record.getMessage() + (f" [{record.exc_info[1]!r}]" if record.exc_info else "")
            for record in self._collect.records
        ]


@contextmanager
def wsgi_server(
    app: WSGIApplication | Any, threads: int = 4, *, limits: Limits | None = None, expect_errors: bool = False
) -> Iterator[WSGIServer]:
    """Serve ``validator(app)`` with ``threads`` workers. Unless ``expect_errors``, anything the
    gateway logged at WARNING or above fails the test (a validator assertion is such a failure)."""
    collect = _Collect()
    logger = logging.getLogger("handlers")  # the gateway and its thread pool
    logger.addHandler(collect)
    gateway = WSGIGateway(validator(app), threads)
    live = LiveServer(gateway, limits)
    try:
        yield WSGIServer(live, gateway, collect)
    finally:
        live.stop()
        gateway.close()
        # Let the worker threads end here, not during the next test (whose gc or thread counts
        # they would disturb).
        for thread in gateway._pool._threads if gateway._pool is not None else []:
            thread.join(10)
        logger.removeHandler(collect)
    if not expect_errors and collect.records:
        raise AssertionError(f"the gateway logged: {WSGIServer(live, gateway, collect).logged}")
