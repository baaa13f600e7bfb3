"""Preconditions in the order RFC 9110 13.2.2 gives."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.static.conditional import evaluate, http_date, if_range_holds, make_etag, parse_etags, parse_http_date
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


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",  # a list: more than one member
        "Sun, 06 Nov 1994 08:49:37 GMT garbage",
        "Sun, 06 Nov 1994 08:49:37",  # no zone
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "sun, 06 nov 1994 08:49:37 gmt",  # the formats are case-sensitive
        "06 Nov 1994 08:49:37 GMT",
        "",
    ],
)
def test_anything_but_the_three_formats_is_not_a_date(value: str) -> None:
    assert parse_http_date(value) is None


def test_two_digit_years_are_placed_within_fifty_years() -> None:
    now = parse_http_date("Sat, 21 Nov 2026 00:00:00 GMT")
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now) == MODIFIED
    assert parse_http_date("Monday, 06-Nov-26 08:49:37 GMT", now) == parse_http_date("Fri, 06 Nov 2026 08:49:37 GMT")
    assert parse_http_date("Monday, 06-Nov-76 08:49:37 GMT", now) == parse_http_date("Sat, 06 Nov 2076 08:49:37 GMT")
    assert parse_http_date("Monday, 06-Nov-77 08:49:37 GMT", now) == parse_http_date("Sat, 06 Nov 1977 08:49:37 GMT")


def test_an_invalid_if_modified_since_is_ignored() -> None:
    assert check(if_modified_since="Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT") is None


def test_list_fields_on_several_lines_are_one_list() -> None:
    headers = Headers([("if-none-match", '"x"'), ("if-none-match", ETAG)])
    assert evaluate(headers, "GET", ETAG, MODIFIED) == 304
    headers = Headers([("if-match", '"x"'), ("if-match", ETAG)])
    assert evaluate(headers, "GET", ETAG, MODIFIED) is None


def test_a_date_field_sent_twice_is_ignored() -> None:
    date = "Sun, 06 Nov 1994 08:49:37 GMT"
    headers = Headers([("if-modified-since", date), ("if-modified-since", date)])
    assert evaluate(headers, "GET", ETAG, MODIFIED) is None


def test_empty_list_elements_in_etag_lists_are_ignored() -> None:
    assert parse_etags(' , "a" ,, "b", ') == [(False, '"a"'), (False, '"b"')]
    assert parse_etags('"a,b"') == [(False, '"a,b"')]  # a comma may sit inside an entity tag


def test_if_none_match_malformed_is_ignored_and_if_match_malformed_fails() -> None:
    assert check(if_none_match="abc-10") is None
    assert check(if_match="abc-10") == 412


def test_failed_if_unmodified_since_wins_over_a_matching_if_none_match() -> None:
    assert check(if_unmodified_since="Sun, 06 Nov 1994 08:49:36 GMT", if_none_match=ETAG) == 412


def test_if_range_with_an_entity_tag_needs_a_strong_match() -> None:
    assert if_range_holds(ETAG, ETAG, MODIFIED)
    assert if_range_holds(f" {ETAG} ", ETAG, MODIFIED)
    assert not if_range_holds('W/"abc-10"', ETAG, MODIFIED)  # a weak tag never matches strongly
    assert not if_range_holds('"other"', ETAG, MODIFIED)


def test_if_range_with_a_date_needs_the_exact_last_modified() -> None:
    assert if_range_holds("Sun, 06 Nov 1994 08:49:37 GMT", ETAG, MODIFIED)
    assert not if_range_holds("Sun, 06 Nov 1994 08:49:38 GMT", ETAG, MODIFIED)  # later is not "unchanged"
    assert not if_range_holds("Sun, 06 Nov 1994 08:49:36 GMT", ETAG, MODIFIED)
    assert not if_range_holds("yesterday", ETAG, MODIFIED)


def test_a_coded_representation_has_its_own_etag(tmp_path) -> None:
    (tmp_path / "f").write_bytes(b"0123456789")
    info = os.stat(tmp_path / "f")
    assert make_etag(info) != make_etag(info, "br") != make_etag(info, "gzip")
    assert make_etag(info, "br").startswith('"') and make_etag(info, "br").endswith('-br"')


@given(st.integers(min_value=0, max_value=253402300799))  # up to 9999-12-31
def test_every_imf_fixdate_we_write_parses_back(timestamp: int) -> None:
    assert parse_http_date(http_date(timestamp)) == timestamp


@given(st.text(max_size=40))
def test_any_text_is_a_date_or_none_without_raising(text: str) -> None:
    result = parse_http_date(text)
    assert result is None or isinstance(result, int)


@given(st.text(alphabet='W/"abc, \t*', max_size=30))
def test_etag_lists_parse_or_are_malformed_without_raising(text: str) -> None:
    tags = parse_etags(text)
    assert tags is None or all(tag == "*" or (tag.startswith('"') and tag.endswith('"')) for _weak, tag in tags)


@given(
    st.integers(min_value=0, max_value=9999),
    st.sampled_from(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]),
    st.integers(min_value=0, max_value=39),
    st.integers(min_value=0, max_value=29),
    st.integers(min_value=0, max_value=69),
    st.integers(min_value=0, max_value=69),
)
def test_well_formed_dates_of_any_year_day_and_time_never_raise(
    year: int, month: str, day: int, hour: int, minute: int, second: int
) -> None:
    # Built field by field, so the patterns match and the values reach the calendar: year 0000, day 31
    # of February and hour 25 must be "no date", never an exception (a 500 for any client).
    imf = f"Mon, {day:02d} {month} {year:04d} {hour:02d}:{minute:02d}:{second:02d} GMT"
    asctime = f"Mon {month} {day:2d} {hour:02d}:{minute:02d}:{second:02d} {year:04d}"
    for value in (imf, asctime):
        parsed = parse_http_date(value)
        assert parsed is None or isinstance(parsed, int)
    if year == 0:
        assert parse_http_date(imf) is None
