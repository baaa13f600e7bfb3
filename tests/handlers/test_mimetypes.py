"""The built-in content-type table."""

from __future__ import annotations

import pytest

from handlers.static.mimetypes import MimeTypes


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.js", "text/javascript; charset=utf-8"),
        ("a.mjs", "text/javascript; charset=utf-8"),
        ("A.HTML", "text/html; charset=utf-8"),
        ("a.wasm", "application/wasm"),
        ("a.json", "application/json; charset=utf-8"),
        ("a.svg", "image/svg+xml; charset=utf-8"),
        ("a.webp", "image/webp"),
        ("a.avif", "image/avif"),
        ("a.tar.gz", "application/gzip"),
        ("noextension", "application/octet-stream"),
        ("a.unknown", "application/octet-stream"),
    ],
)
def test_types_by_extension(name: str, expected: str) -> None:
    assert MimeTypes()(name) == expected


def test_overrides_add_and_replace() -> None:
    types = MimeTypes({"foo": "application/x-foo", ".js": "application/javascript"})
    assert types("x.foo") == "application/x-foo"
    assert types("x.js") == "application/javascript; charset=utf-8"
