"""The incremental multipart/form-data parser, fed whole, byte by byte and split at every index."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from handlers.upload.multipart import (
    Event,
    MultipartError,
    MultipartParser,
    Part,
    PartData,
    PartEnd,
    boundary_of,
    parameters_of,
)

BOUNDARY = b"----formboundary7MA4YWxkTrZu0gW"

FormPart = tuple[str, str | None, bytes]  # field name, filename, content


def encode(parts: list[FormPart], boundary: bytes = BOUNDARY, preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    """A multipart/form-data body as a browser sends it."""
    body = bytearray(preamble + b"\r\n" if preamble else b"")
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += b"--" + boundary + b"\r\n"
        body += f"Content-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + content + b"\r\n"
    body += b"--" + boundary + b"--\r\n" + epilogue
    return bytes(body)


def parse(pieces: list[bytes], boundary: bytes = BOUNDARY) -> list[FormPart]:
    """Feed ``pieces`` and fold the events back into parts."""
    parser = MultipartParser(boundary)
    events: list[Event] = []
    for piece in pieces:
        events += parser.receive_data(piece)
    parser.end()
    parts: list[FormPart] = []
    current: tuple[Part, bytearray] | None = None
    for event in events:
        if isinstance(event, Part):
            assert current is None
            current = (event, bytearray())
        elif isinstance(event, PartData):
            assert current is not None and event.data
            current[1].extend(event.data)
        else:
            assert isinstance(event, PartEnd) and current is not None
            parts.append((current[0].name, current[0].filename, bytes(current[1])))
            current = None
    assert current is None
    return parts


def split_everywhere(body: bytes) -> list[list[bytes]]:
    return [[body[:index], body[index:]] for index in range(len(body) + 1)]


SAMPLE: list[FormPart] = [("note", None, b"hello"), ("file", "a.txt", b"line one\r\nline two\r\n--not a boundary")]


def test_whole_byte_by_byte_and_split_at_every_index() -> None:
    body = encode(SAMPLE, preamble=b"ignored preamble", epilogue=b"ignored epilogue")
    assert parse([body]) == SAMPLE
    assert parse([body[index : index + 1] for index in range(len(body))]) == SAMPLE
    for pieces in split_everywhere(body):
        assert parse(pieces) == SAMPLE


names = st.text(st.characters(codec="utf-8", exclude_characters='"\\\r\n'), min_size=1, max_size=12)
# Content full of the delimiter's own bytes, so partial matches across pieces are exercised.
contents = st.lists(
    st.sampled_from([b"\r", b"\n", b"-", b"--", b"\r\n--", BOUNDARY[:10], b"x", b"\x00", b"\xff"]), max_size=30
).map(b"".join)
form_parts = st.lists(st.tuples(names, st.none() | names, contents), min_size=1, max_size=4)


@given(form_parts, st.data())
@example([("f", "x", b"\r\n--" + BOUNDARY[:-1])], None)
def test_any_form_parses_back_however_it_is_split(parts: list[FormPart], data: st.DataObject | None) -> None:
    body = encode(parts)
    assert parse([body]) == parts
    if data is None:
        return
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=8)))
    pieces = [body[start:stop] for start, stop in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert parse(pieces) == parts


@given(form_parts)
def test_every_two_way_split_of_a_generated_form(parts: list[FormPart]) -> None:
    body = encode(parts)
    for pieces in split_everywhere(body):
        assert parse(pieces) == parts


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"no delimiter at all", "the body ended in the preamble"),
        (
            b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data; name=a\r\n\r\nunfinished",
            "the body ended in the part content",
        ),
        (b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data; name=a", "the body ended in the part head"),
        (b"--" + BOUNDARY + b"junk\r\n", "text after a boundary"),
        (
            b"--" + BOUNDARY + b"\r\nContent-Type: text/plain\r\n\r\nx\r\n--" + BOUNDARY + b"--",
            "without Content-Disposition",
        ),
        (b"--" + BOUNDARY + b"\r\nContent-Disposition: attachment; name=a\r\n\r\n", "not form-data"),
        (b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data\r\n\r\n", "without a field name"),
        (b"--" + BOUNDARY + b"\r\nno colon here\r\n\r\n", "malformed header field"),
        (b"--" + BOUNDARY + b"\r\nX: " + b"a" * 17000 + b"\r\n\r\n", "too large"),
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(MultipartError, match=reason):
        parse([body])


def test_a_huge_head_is_refused_before_it_ends() -> None:
    parser = MultipartParser(BOUNDARY)
    parser.receive_data(b"--" + BOUNDARY + b"\r\nX: ")
    with pytest.raises(MultipartError, match="too large"):
        for _ in range(10):
            parser.receive_data(b"a" * 4096)


def test_transport_padding_after_a_boundary_is_allowed() -> None:
    body = b"--" + BOUNDARY + b" \t\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--" + BOUNDARY + b"--"
    assert parse([body]) == [("a", None, b"v")]


def test_what_follows_the_close_delimiter_is_ignored() -> None:
    parser = MultipartParser(BOUNDARY)
    parser.receive_data(encode([("a", None, b"v")]))
    assert parser.complete
    assert parser.receive_data(b"--" + BOUNDARY + b"\r\ngarbage") == []
    parser.end()


@pytest.mark.parametrize(
    ("value", "boundary"),
    [
        ("multipart/form-data; boundary=abc", b"abc"),
        ('Multipart/Form-Data; charset=utf-8; boundary="a b:c"', b"a b:c"),
        ("text/plain", None),
        ("multipart/mixed; boundary=abc", None),
    ],
)
def test_boundary_of(value: str, boundary: bytes | None) -> None:
    assert boundary_of(value) == boundary


@pytest.mark.parametrize(
    "value", ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=" + "a" * 71]
)
def test_a_form_without_a_usable_boundary_is_an_error(value: str) -> None:
    with pytest.raises(MultipartError):
        boundary_of(value)


def test_parameters_unescape_quoted_strings() -> None:
    assert parameters_of('; name="a\\"b"; filename=plain.txt; NAME=second') == {"name": 'a"b', "filename": "plain.txt"}
