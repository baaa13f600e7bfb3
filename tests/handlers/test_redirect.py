"""https_url: the Host header's host, the HTTPS port, the same path; never the plain port."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.redirect import https_url


@pytest.mark.parametrize(
    ("host", "port", "path", "query", "url"),
    [
        ("localhost:8080", 8443, "/a/b", "", "https://localhost:8443/a/b"),
        ("example.com", 443, "/", "x=1", "https://example.com/?x=1"),
        ("[::1]:8080", 8443, "/x", "", "https://[::1]:8443/x"),
        ("[::1]", 443, "/x", "", "https://[::1]/x"),
        ("10.0.0.2:80", 4443, "*", "", "https://10.0.0.2:4443/"),
        ("", 8443, "/", "", None),
    ],
)
def test_https_url(host: str, port: int, path: str, query: str, url: str | None) -> None:
    assert https_url(host, port, path, query) == url


names = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?(?:\.[a-z0-9]{1,10}){0,3}", fullmatch=True)
ipv6 = st.ip_addresses(v=6).map(lambda address: f"[{address}]")
ports = st.integers(min_value=1, max_value=65535)


@given(name=st.one_of(names, ipv6), plain_port=st.none() | ports, https_port=ports)
def test_the_url_names_the_same_host_and_only_the_https_port(name: str, plain_port: int | None, https_port: int):
    host = name if plain_port is None else f"{name}:{plain_port}"
    url = https_url(host, https_port, "/p", "q=1")
    assert url is not None
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme == "https"
    assert parts.hostname == name.strip("[]").lower()
    assert parts.port == (None if https_port == 443 else https_port)
    assert (parts.path, parts.query) == ("/p", "q=1")
