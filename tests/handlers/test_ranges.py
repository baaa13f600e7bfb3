"""Range headers to the parts we send, and the multipart/byteranges layout, without a server."""

from __future__ import annotations

import email
import email.policy
import itertools
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.static.ranges import MAX_RANGES, ByteRange, coalesce, multipart_layout, parse_range, select_ranges


def spans(ranges: list[ByteRange] | None) -> list[tuple[int, int]] | None:
    """Ranges as inclusive (first, last) pairs, as Content-Range writes them."""
    return None if ranges is None else [(item.start, item.stop - 1) for item in ranges]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", [(0, 0)]),
        ("bytes=0-499", [(0, 499)]),
        ("bytes=500-", [(500, 999)]),
        ("bytes=-1", [(999, 999)]),
        ("bytes=-500", [(500, 999)]),
        ("bytes=-5000", [(0, 999)]),  # a suffix longer than the file is the whole file
        ("bytes=900-5000", [(900, 999)]),  # a last position past the end is clamped
        ("bytes=0-99999999999999999999999999", [(0, 999)]),
        ("BYTES=1-2", [(1, 2)]),  # the unit is case-insensitive (RFC 9110 14.1)
        ("bytes= 1-2 , 5-6 ", [(1, 2), (5, 6)]),
        ("bytes=,1-2,,", [(1, 2)]),  # empty list elements are ignored
        ("bytes=000010-000012", [(10, 12)]),
    ],
)
def test_satisfiable_ranges(header: str, expected: list[tuple[int, int]]) -> None:
    assert spans(select_ranges(header, 1000)) == expected


@pytest.mark.parametrize(
    "header",
    [
        "bytes=1000-",  # starts at the end
        "bytes=5000-6000",
        "bytes=-0",  # an empty suffix
        "bytes=1000-1000,2000-",
        "bytes=99999999999999999999999999-",
    ],
)
def test_unsatisfiable_ranges_give_an_empty_list(header: str) -> None:
    assert select_ranges(header, 1000) == []


@pytest.mark.parametrize(
    "header",
    [
        "items=0-5",  # another unit
        "bytes 0-5",
        "bytes=",
        "bytes=,",
        "bytes=5",
        "bytes=a-b",
        "bytes=5-1",  # last before first: invalid (RFC 9110 14.1.1)
        "bytes=1-2,5-1",
        "bytes=--5",
        "bytes=-5-",
        "bytes=0x10-",
        "bytes=\u0661-2",  # an Arabic-Indic digit is no DIGIT
        "bytes=1 - 2",
    ],
)
def test_invalid_headers_are_ignored(header: str) -> None:
    assert parse_range(header) is None
    assert select_ranges(header, 1000) is None


def test_unsatisfiable_ranges_are_dropped_from_a_set() -> None:
    assert spans(select_ranges("bytes=5000-,0-1", 1000)) == [(0, 1)]


def test_an_empty_representation_ignores_ranges() -> None:
    assert select_ranges("bytes=0-", 0) is None
    assert select_ranges("bytes=-5", 0) is None


def test_more_than_max_ranges_is_ignored_and_max_is_honoured() -> None:
    at_limit = "bytes=" + ",".join(f"{2 * i}-{2 * i}" for i in range(MAX_RANGES))
    assert len(select_ranges(at_limit, 1000) or []) == MAX_RANGES
    over = "bytes=" + ",".join(f"{2 * i}-{2 * i}" for i in range(MAX_RANGES + 1))
    assert select_ranges(over, 1000) is None


def test_overlapping_and_adjacent_ranges_merge() -> None:
    assert spans(select_ranges("bytes=0-10,5-20", 1000)) == [(0, 20)]
    assert spans(select_ranges("bytes=0-9,10-19", 1000)) == [(0, 19)]  # adjacent
    assert spans(select_ranges("bytes=0-9,11-19", 1000)) == [(0, 9), (11, 19)]  # a gap of one byte stays
    assert spans(select_ranges("bytes=0-,0-,0-,-1000", 1000)) == [(0, 999)]


def test_parts_follow_the_order_of_the_request() -> None:
    # RFC 9110 15.3.7.2: a merged range takes the place of its earliest range-spec.
    assert spans(select_ranges("bytes=500-600,0-10,550-700,20-30", 1000)) == [(500, 700), (0, 10), (20, 30)]


def test_a_pathological_header_is_cheap() -> None:
    header = "bytes=" + ",".join(f"{i}-{i + 5}" for i in range(4000))
    started = time.perf_counter()
    assert select_ranges(header, 10**6) is None
    huge = "bytes=" + "9" * 30000 + "-"
    assert select_ranges(huge, 10**6) == []
    assert time.perf_counter() - started < 0.5


@st.composite
def range_specs(draw: st.DrawFn) -> str:
    elements = draw(
        st.lists(
            st.one_of(
                st.tuples(st.integers(0, 300), st.integers(0, 300)).map(lambda p: f"{min(p)}-{max(p)}"),
                st.integers(0, 300).map(lambda first: f"{first}-"),
                st.integers(0, 300).map(lambda suffix: f"-{suffix}"),
            ),
            min_size=1,
            max_size=MAX_RANGES,
        )
    )
    return "bytes=" + ",".join(elements)


def requested_bytes(header: str, length: int) -> set[int]:
    """Every byte position the header's satisfiable specs name, computed the slow, obvious way."""
    wanted: set[int] = set()
    for element in header.removeprefix("bytes=").split(","):
        first, _, last = element.partition("-")
        if first == "":
            wanted.update(range(max(0, length - int(last)), length))
        else:
            wanted.update(range(int(first), min(int(last) + 1 if last else length, length)))
    return wanted


@given(range_specs(), st.integers(1, 400))
def test_coalesced_ranges_are_disjoint_and_cover_exactly_what_was_asked(header: str, length: int) -> None:
    ranges = select_ranges(header, length)
    assert ranges is not None
    wanted = requested_bytes(header, length)
    if not wanted:
        assert ranges == []
        return
    covered: list[int] = [position for item in ranges for position in range(item.start, item.stop)]
    assert sorted(covered) == sorted(wanted)  # each byte once, none missing, none extra
    ordered = sorted(ranges, key=lambda item: item.start)
    for before, after in itertools.pairwise(ordered):
        assert before.stop < after.start, "neither overlapping nor adjacent"
    assert all(0 <= item.start < item.stop <= length for item in ranges)


@given(st.text(max_size=80))
def test_any_text_parses_or_is_ignored_without_raising(text: str) -> None:
    result = select_ranges("bytes=" + text, 50)
    assert result is None or all(0 <= item.start < item.stop <= 50 for item in result)


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 50)), min_size=1, max_size=30))
def test_coalesce_keeps_the_earliest_position_order(pairs: list[tuple[int, int]]) -> None:
    indexed = [(ByteRange(start, start + size), index) for index, (start, size) in enumerate(pairs)]
    merged = coalesce(indexed)
    firsts = [min(index for item, index in indexed if part.start <= item.start < part.stop) for part in merged]
    assert firsts == sorted(firsts)


def test_multipart_layout_parses_back_with_the_email_package() -> None:
    data = bytes(range(256)) * 4
    ranges = [ByteRange(0, 10), ByteRange(500, 520), ByteRange(1000, 1024)]
    layout = multipart_layout(ranges, len(data), "application/octet-stream", "BOUNDARY123")
    body = b"".join(head + data[part.start : part.stop] for head, part in layout.parts) + layout.closing
    assert len(body) == layout.length
    assert layout.content_type == "multipart/byteranges; boundary=BOUNDARY123"
    message = email.message_from_bytes(
        f"Content-Type: {layout.content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP
    )
    parts = list(message.iter_parts())
    assert [part["Content-Range"] for part in parts] == ["bytes 0-9/1024", "bytes 500-519/1024", "bytes 1000-1023/1024"]
    assert [part.get_payload(decode=True) for part in parts] == [data[0:10], data[500:520], data[1000:1024]]


def test_multipart_parts_name_the_content_coding() -> None:
    layout = multipart_layout([ByteRange(0, 1), ByteRange(5, 6)], 10, "text/css", "B", "br")
    assert all(b"Content-Encoding: br\r\n" in head for head, _part in layout.parts)
