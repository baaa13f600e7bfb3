"""Accept-Encoding and Accept, weighed as RFC 9110 12.5 says."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.static.negotiation import CODINGS, asks_for_html, preferred_codings, prefers_json


@pytest.mark.parametrize(
    ("accept_encoding", "expected"),
    [
        ("gzip, deflate, br, zstd", ["br", "gzip"]),  # what browsers send: ties keep our order
        ("gzip", ["gzip"]),
        ("br", ["br"]),
        ("gzip;q=1.0, br;q=0.5", ["gzip", "br"]),
        ("br;q=0, gzip", ["gzip"]),  # q=0 refuses
        ("*", ["br", "gzip"]),
        ("*;q=0.5, gzip", ["gzip", "br"]),  # a named coding outranks the wildcard's weight
        ("*;q=0", []),
        ("br;q=0, *", ["gzip"]),
        ("x-gzip", ["gzip"]),  # RFC 9110 8.4.1.3
        ("GZIP, BR", ["br", "gzip"]),  # coding names are case-insensitive
        ("identity", []),
        ("deflate, zstd", []),
        ("", []),
        (" , ,gzip", ["gzip"]),
        ("gzip;q=2, br", ["br"]),  # a malformed weight drops that element
        ("gzip;q=0.0001, br", ["br"]),
        ("gzip;Q=0.5, br;q=0.4", ["gzip", "br"]),
        ("br;level=5;q=0.3, gzip;q=0.2", ["br", "gzip"]),
    ],
)
def test_preferred_codings(accept_encoding: str, expected: list[str]) -> None:
    assert preferred_codings(accept_encoding) == expected


@given(st.text(max_size=60))
def test_any_accept_encoding_yields_known_codings_only(value: str) -> None:
    result = preferred_codings(value)
    assert set(result) <= set(CODINGS) and len(result) == len(set(result))


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json", True),
        ("application/json, text/html;q=0.9", True),
        ("text/html, application/json;q=0.9", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),  # a browser
        ("*/*", False),  # a tie stays HTML
        ("application/*", True),
        ("application/json;q=0.5, */*;q=0.1", True),
        ("text/*;q=0.2, application/json;q=0.3", True),
        (None, False),
        ("", False),
    ],
)
def test_prefers_json(accept: str | None, expected: bool) -> None:
    assert prefers_json(accept) is expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("text/html", True),
        ("TEXT/HTML;q=0.5", True),
        ("*/*", False),  # a script, image or fetch() takes anything: it gets the 404
        ("text/*", False),
        ("text/html;q=0", False),
        ("text/css,*/*;q=0.1", False),
        (None, False),
    ],
)
def test_asks_for_html(accept: str | None, expected: bool) -> None:
    assert asks_for_html(accept) is expected
