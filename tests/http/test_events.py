"""The events the parser hands out: how they compare, show and look fields up."""

from __future__ import annotations

from reactor.http.events import Data, EndOfMessage, Headers


def test_data_events_compare_by_their_bytes() -> None:
    assert Data(b"a") == Data(b"a") and Data(b"a") != Data(b"b") and Data(b"a") != b"a"


def test_a_requests_fields_are_looked_up_by_lower_case_name() -> None:
    headers = Headers([("accept", "a"), ("x-b", "1"), ("x-b", "2")])
    assert (headers.get("x-b"), headers.get("missing"), headers.get("missing", "d")) == ("1", None, "d")
    assert "x-b" in headers and "X-B" not in headers and "missing" not in headers
    assert repr(headers) == "Headers([('accept', 'a'), ('x-b', '1'), ('x-b', '2')])"
    assert repr(EndOfMessage()) == "EndOfMessage()" and repr(Data(b"x")) == "Data(b'x')"
