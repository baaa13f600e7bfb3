"""Preconditions in the order RFC 9110 13.2.2 gives."""

from __future__ import annotations

import pytest

from handlers.conditional import evaluate, http_date, parse_etags, parse_http_date
from reactor.http.events import Headers

ETAG = '"abc-10"'
MODIFIED = 784111777  # Sun, 06 Nov 1994 08:49:37 GMT


def check(method: str = "GET", **fields: str) -> int | None:
    headers = Headers([(name.replace("_", "-"), value) for name, value in fields.items()])
    return evaluate(headers, method, ETAG, MODIFIED)


@pytest.mark.parametrize(
    "value", ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"]
)
def test_the_three_date_formats_are_accepted(value: str) -> None:
    assert parse_http_date(value) == MODIFIED


def test_dates_round_trip_and_garbage_is_none() -> None:
    assert parse_http_date(http_date(MODIFIED)) == MODIFIED
    assert parse_http_date("yesterday") is None


def test_etag_lists_parse_with_weakness() -> None:
    assert parse_etags('"a", W/"b" ,"c"') == [(False, '"a"'), (True, '"b"'), (False, '"c"')]
    assert parse_etags("*") == [(False, "*")]
    assert parse_etags("abc") is None


def test_if_none_match_uses_weak_comparison_and_gives_304() -> None:
    assert check(if_none_match='W/"abc-10"') == 304
    assert check(if_none_match='"x", "abc-10"') == 304
    assert check(if_none_match="*") == 304
    assert check(if_none_match='"other"') is None


def test_if_none_match_on_other_methods_is_412() -> None:
    assert check("POST", if_none_match=ETAG) == 412


def test_if_match_uses_strong_comparison() -> None:
    assert check(if_match=ETAG) is None
    assert check(if_match='W/"abc-10"') == 412
    assert check(if_match='"other"') == 412
    assert check(if_match="*") is None


def test_if_modified_since() -> None:
    assert check(if_modified_since="Sun, 06 Nov 1994 08:49:37 GMT") == 304
    assert check(if_modified_since="Sun, 06 Nov 1994 08:49:36 GMT") is None
    assert check(if_modified_since="not a date") is None


def test_if_unmodified_since() -> None:
    assert check(if_unmodified_since="Sun, 06 Nov 1994 08:49:36 GMT") == 412
    assert check(if_unmodified_since="Sun, 06 Nov 1994 08:49:37 GMT") is None


def test_if_none_match_overrides_if_modified_since() -> None:
    assert check(if_none_match='"other"', if_modified_since="Sun, 06 Nov 1994 08:49:37 GMT") is None


def test_if_match_overrides_if_unmodified_since() -> None:
    assert check(if_match=ETAG, if_unmodified_since="Sun, 06 Nov 1994 08:49:36 GMT") is None


def test_failed_if_match_wins_over_if_none_match() -> None:
    assert check(if_match='"other"', if_none_match=ETAG) == 412


def test_if_modified_since_is_ignored_for_post() -> None:
    assert check("POST", if_modified_since="Sun, 06 Nov 1994 08:49:37 GMT") is None
