"""The prefix router: which handler a path goes to, and which prefixes are accepted."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest

from handlers.router import PrefixRouter, normalize_prefix
from reactor.exchange import Exchange


def route(router: PrefixRouter, path: str) -> str:
    seen: list[str] = []
    router(cast(Exchange, SimpleNamespace(request=SimpleNamespace(path=path), seen=seen)))
    return seen[0]


def recorder(name: str):
    return lambda exchange: exchange.seen.append(name)


@pytest.mark.parametrize(
    ("path", "handler"),
    [
        ("/static", "static"),
        ("/static/", "static"),
        ("/static/css/a.css", "css"),
        ("/static/cssx", "static"),
        ("/staticfiles", "app"),
        ("/", "app"),
        ("/other/static/x", "app"),
    ],
)
def test_the_longest_matching_prefix_wins(path: str, handler: str) -> None:
    router = PrefixRouter([("/static/", recorder("static")), ("/static/css", recorder("css"))], recorder("app"))
    assert route(router, path) == handler


@pytest.mark.parametrize("prefix", ["", "/", "static", "/a//b", "/a/../b", "/./a", "/a b", "/caf\u00e9", "/a%2Fb"])
def test_prefixes_must_be_plain_paths_below_the_root(prefix: str) -> None:
    with pytest.raises(ValueError):
        normalize_prefix(prefix)
    assert normalize_prefix("/assets/v1/") == "/assets/v1"


def test_equal_prefixes_are_sorted_by_prefix_alone_and_the_first_wins() -> None:
    # Sorting (prefix, handler) pairs would compare the handlers when two prefixes are equal.
    router = PrefixRouter([("/a", recorder("first")), ("/a/", recorder("second"))], recorder("app"))
    assert route(router, "/a/x") == "first"
