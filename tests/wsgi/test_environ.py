"""The CGI variables of the environ, from parsed requests (no sockets)."""

from __future__ import annotations

from handlers.wsgi.environ import cgi_environ
from reactor.http.events import Headers, Request


def make_request(target: str, fields: list[tuple[str, str]], *, content_length: int | None = None) -> Request:
    path, _, query = target.partition("?")
    return Request("GET", target, path, query, "HTTP/1.1", Headers(fields), "t", content_length, False, True, False)


def environ_for(target: str, fields: list[tuple[str, str]] = [], **kw: int) -> dict[str, object]:  # noqa: B006
    return cgi_environ(make_request(target, fields, **kw), ("::1", 8000), ("::1", 40000))


def test_path_info_is_the_decoded_bytes_as_latin_1() -> None:
    assert environ_for("/%E2%82%AC")["PATH_INFO"] == "/\u00e2\u0082\u00ac"  # the three UTF-8 bytes of "€"
    assert environ_for("/%FF%00")["PATH_INFO"] == "/\u00ff\u0000"  # any byte, valid UTF-8 or not
    assert environ_for("/a+b")["PATH_INFO"] == "/a+b"  # "+" is a space only in query strings


def test_the_query_string_stays_encoded_and_addresses_are_the_sockets() -> None:
    environ = environ_for("/p?q=%20+&r")
    assert environ["QUERY_STRING"] == "q=%20+&r"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("::1", "8000")
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("::1", "40000")


def test_content_headers_have_no_http_prefix_and_length_comes_from_the_parser() -> None:
    environ = environ_for("/", [("content-type", "text/plain"), ("content-length", "7")], content_length=7)
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "7"
    assert not any(key.startswith("HTTP_CONTENT") for key in environ)
    assert "CONTENT_LENGTH" not in environ_for("/")


def test_repeated_fields_are_joined_and_underscored_names_dropped() -> None:
    environ = environ_for(
        "/",
        [
            ("x-forwarded-for", "a"),
            ("x-forwarded-for", "b"),
            ("cookie", "a=1"),
            ("cookie", "b=2"),
            ("x_forwarded_for", "c"),
        ],
    )
    assert environ["HTTP_X_FORWARDED_FOR"] == "a, b"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
