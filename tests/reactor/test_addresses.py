"""The banner's addresses: the machine's own, as another device would open them, and the URLs for a
socket bound to one address or to every address (bound, never listening: nothing is served here)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest

from reactor.addresses import network_addresses, parse_if_inet6, urls


def test_proc_net_if_inet6_lines_give_their_addresses() -> None:
    text = (
        "00000000000000000000000000000001 01 80 10 80       lo\n"
        "fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n"
        "20010db8000000000000000000000005 04 40 00 00     eth0\n"
    )
    assert parse_if_inet6(text) == ["::1", "fe80::fc:ff:fe00:1", "2001:db8::5"]


def test_every_address_is_this_machine_s_and_reachable_from_another() -> None:
    found = network_addresses()
    for address in found:
        ip = ipaddress.ip_address(address)
        assert not (ip.is_loopback or ip.is_link_local or ip.is_unspecified), address
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as owned:
            owned.bind((address, 0))  # EADDRNOTAVAIL for an address that is not this machine's
    # The address the kernel sends from to reach another network, found another way, is among them.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("203.0.113.1", 9))
        except OSError:
            return  # no IPv4 route here
        source = probe.getsockname()[0]
    if not ipaddress.ip_address(source).is_loopback:
        assert source in found


@pytest.fixture
def bound() -> Iterator[list[socket.socket]]:
    sockets: list[socket.socket] = []
    yield sockets
    for sock in sockets:
        sock.close()


def bind(sockets: list[socket.socket], family: socket.AddressFamily, host: str, v6only: bool = False) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sockets.append(sock)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
    sock.bind((host, 0))
    return sock


def test_one_address_is_opened_where_it_is(bound: list[socket.socket]) -> None:
    sock = bind(bound, socket.AF_INET, "127.0.0.1")
    assert urls("http", sock) == (f"http://127.0.0.1:{sock.getsockname()[1]}/", [])


def test_every_address_is_opened_here_on_loopback_and_from_the_network_on_the_machine_s(
    bound: list[socket.socket],
) -> None:
    ipv4 = bind(bound, socket.AF_INET, "0.0.0.0")
    port = ipv4.getsockname()[1]
    here, others = urls("http", ipv4)
    assert here == f"http://127.0.0.1:{port}/"
    assert others == [f"http://{address}:{port}/" for address in network_addresses(ipv6=False)]
    if not socket.has_dualstack_ipv6():
        return
    dual = bind(bound, socket.AF_INET6, "::")
    port = dual.getsockname()[1]
    here, others = urls("https", dual)
    assert here == f"https://localhost:{port}/"
    assert len(others) == len(network_addresses())
    v6only = bind(bound, socket.AF_INET6, "::", v6only=True)
    here, others = urls("http", v6only)
    assert here.startswith("http://[::1]:")
    assert all(url.startswith("http://[") for url in others)
