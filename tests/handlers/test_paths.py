"""Request paths to safe segments, without touching the filesystem."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.static.paths import PathError, parse_request_path


@pytest.mark.parametrize(
    ("raw", "segments", "slash"),
    [
        ("/", (), True),
        ("/a/b.txt", ("a", "b.txt"), False),
        ("/a/b/", ("a", "b"), True),
        ("//a///b", ("a", "b"), False),
        ("/a/./b", ("a", "b"), False),
        ("/a/b/..", ("a",), True),
        ("/a/%2e%2e/b", ("b",), False),
        ("/space%20name", ("space name",), False),
        ("/caf%C3%A9", ("caf\u00e9",), False),
        ("/%FF", ("\udcff",), False),  # not UTF-8: kept as the filesystem would name it
    ],
)
def test_paths_decode_and_normalise(raw: str, segments: tuple[str, ...], slash: bool) -> None:
    path = parse_request_path(raw)
    assert (path.segments, path.trailing_slash) == (segments, slash)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("/..", 403),
        ("/../etc/passwd", 403),
        ("/a/../../etc", 403),
        ("/%2e%2e/x", 403),
        ("/a%2fb", 404),
        ("/..%2f..%2fetc", 404),
        ("/a%5cb", 404),
        ("/a\\b", 404),
        ("/a%00b", 400),
        ("relative", 400),
    ],
)
def test_escaping_paths_are_refused(raw: str, status: int) -> None:
    with pytest.raises(PathError) as caught:
        parse_request_path(raw)
    assert caught.value.status == status


def test_url_always_starts_with_exactly_one_slash() -> None:
    assert parse_request_path("//evil.example/x").url(trailing_slash=True) == "/evil.example/x/"
    assert parse_request_path("/").url() == "/"
    assert parse_request_path("/a b/c").url() == "/a%20b/c"


@given(st.text(max_size=60))
def test_no_input_yields_a_segment_that_can_climb_or_separate(raw: str) -> None:
    try:
        path = parse_request_path("/" + raw)
    except PathError as error:
        assert error.status in (400, 403, 404)
        return
    for segment in path.segments:
        assert segment not in ("", ".", "..")
        assert "/" not in segment and "\\" not in segment and "\0" not in segment
    assert path.url().startswith("/") and not path.url().startswith("//")
