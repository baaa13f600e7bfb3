"""The static handler's built-in error answers, kept encoded, are byte for byte what
Exchange.respond_error sends, the first time and every time after."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.static.errorpages import ErrorPages
from handlers.static.mimetypes import MimeTypes
from handlers.static.site import Site
from reactor.exchange import Exchange
from reactor.httpconnection import ConnectionConfig, HTTPConnection
from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.testing import FakeClock, FakeTransport

REQUEST = b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n"
CORS = [("Access-Control-Allow-Origin", "*")]
Answer = tuple[int, str, list[tuple[str, str]]]


def _answers(answers: list[Answer], answer: Callable[[Exchange, int, str, list[tuple[str, str]]], None]) -> bytes:
    """Each (status, detail, fields) answered in turn on one connection, the Date fixed; what was sent."""
    pending = list(answers)

    def handler(exchange: Exchange) -> None:
        answer(exchange, *pending.pop(0))

    loop = EventLoop(clock=FakeClock())
    transport = FakeTransport(loop)
    config = ConnectionConfig(handler, Limits())
    config.http_date = lambda: b"Sat, 21 Nov 2026 12:00:00 GMT"  # type: ignore[assignment]
    connection = HTTPConnection(config)
    transport.attach(connection)
    for _ in answers:
        transport.receive(REQUEST)
    return transport.take()


statuses = st.sampled_from([400, 403, 404, 405, 412, 416, 500, 501])
details = st.sampled_from(["not found", "permission denied", "<b>&</b>", "GET is not supported here", ""])
fields = st.lists(st.sampled_from([("Allow", "GET, HEAD"), ("Vary", "Accept-Encoding"), ("X-A", "b")]), max_size=3)


@settings(max_examples=200)
@given(st.lists(st.tuples(statuses, details, fields), min_size=1, max_size=6))
def test_built_in_answers_are_the_bytes_of_respond_error(answers: list[Answer]) -> None:
    pages = ErrorPages({}, Site("/"), MimeTypes({}), CORS)  # no page configured: nothing is resolved
    repeated = answers * 2  # the second time round, every answer comes from what was kept

    def reference(exchange: Exchange, status: int, detail: str, headers: list[tuple[str, str]]) -> None:
        exchange.respond_error(status, detail, [*headers, *CORS])

    sent = _answers(repeated, pages)
    assert sent.count(b"HTTP/1.1 ") == len(repeated)
    assert sent == _answers(repeated, reference)
