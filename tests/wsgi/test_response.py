"""What start_response accepts and refuses."""

from __future__ import annotations

import pytest

from handlers.wsgi.response import check_response


def test_a_good_response_is_parsed_and_content_length_taken_out() -> None:
    head = check_response("201 Created", [("Content-Type", "text/plain"), ("Content-Length", "12"), ("X-A", "b\tc")])
    assert (head.status, head.headers, head.content_length) == (
        201,
        [("Content-Type", "text/plain"), ("X-A", "b\tc")],
        12,
    )
    assert check_response("299 ", []).status == 299  # an unknown code with an empty reason is fine


def test_date_and_server_are_the_servers() -> None:
    assert check_response("200 OK", [("Date", "x"), ("server", "y"), ("X", "z")]).headers == [("X", "z")]


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (200, [], TypeError),
        (b"200 OK", [], TypeError),
        ("200", [], ValueError),
        ("20 OK", [], ValueError),
        ("200 OK\r\nX: y", [], ValueError),
        ("100 Continue", [], ValueError),
        ("200 OK", (("A", "b"),), TypeError),
        ("200 OK", [("A", b"b")], TypeError),
        ("200 OK", [("A",)], TypeError),
        ("200 OK", [("A B", "c")], ValueError),
        ("200 OK", [("A", "b\r\nInjected: yes")], ValueError),
        ("200 OK", [("A", "\u20ac")], ValueError),
        ("200 OK", [("Connection", "close")], ValueError),
        ("200 OK", [("transfer-encoding", "chunked")], ValueError),
        ("200 OK", [("Keep-Alive", "timeout=5")], ValueError),
        ("200 OK", [("Content-Length", "-1")], ValueError),
        ("200 OK", [("Content-Length", "1"), ("Content-Length", "2")], ValueError),
    ],
)
def test_bad_arguments_are_refused(status: object, headers: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_response(status, headers)
