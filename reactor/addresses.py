"""Where a server can be opened, for its banner: on this machine, and from another device on the
network (a phone on the same Wi-Fi) when it listens on every address.

The standard library has no call that lists a machine's addresses. On Linux they are read from the
kernel: each interface's IPv4 address with the ioctl ``ifconfig`` uses, the IPv6 ones from
``/proc/net/if_inet6``. Elsewhere the address the kernel would send from to reach another network
stands in (a UDP socket's ``connect`` picks it; nothing is sent).
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
import sys

_SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address (struct ifreq, the address at bytes 20-24)
_IF_INET6 = "/proc/net/if_inet6"
# Documentation addresses (RFC 5737, RFC 3849): routed like any other, never answered.
_PROBES = {socket.AF_INET: "198.51.100.1", socket.AF_INET6: "2001:db8::1"}


def network_addresses(*, ipv4: bool = True, ipv6: bool = True) -> list[str]:
    """This machine's addresses that another device could reach: not loopback, not link-local (a
    browser cannot be given the interface such an address needs), in a stable order."""
    linux = sys.platform.startswith("linux")
    found: list[str] = []
    if ipv4:
        found += _linux_ipv4() if linux else _route_source(socket.AF_INET)
    if ipv6:
        found += _linux_ipv6() if linux else _route_source(socket.AF_INET6)
    reachable = []
    for address in dict.fromkeys(found):
        ip = ipaddress.ip_address(address)
        if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified):
            reachable.append(address)
    return reachable


def _linux_ipv4() -> list[str]:
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _index, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, request)
            except OSError:
                continue  # no IPv4 address on this interface
            found.append(socket.inet_ntoa(answer[20:24]))
    return found


def _linux_ipv6() -> list[str]:
    try:
        with open(_IF_INET6, encoding="ascii") as table:
            return parse_if_inet6(table.read())
    except OSError:
        return []  # IPv6 is off


def parse_if_inet6(text: str) -> list[str]:
    """The addresses of ``/proc/net/if_inet6``: a line per address, its 32 hex digits first."""
    found = []
    for line in text.splitlines():
        fields = line.split()
        if fields and len(fields[0]) == 32:
            found.append(str(ipaddress.IPv6Address(bytes.fromhex(fields[0]))))
    return found


def _route_source(family: socket.AddressFamily) -> list[str]:
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((_PROBES[family], 9))
        except OSError:
            return []  # no route: no network
        return [probe.getsockname()[0]]


def urls(scheme: str, sock: socket.socket) -> tuple[str, list[str]]:
    """The URL to open on this machine a server listening on ``sock`` (bound), and, when it listens
    on every address, the URLs to open from other devices."""
    host, port = sock.getsockname()[:2]
    everywhere = ipaddress.ip_address(host.partition("%")[0]).is_unspecified
    if not everywhere:
        return f"{scheme}://{url_host(host)}:{port}/", []
    if sock.family == socket.AF_INET:
        local, ipv4, ipv6 = "127.0.0.1", True, False
    else:
        dual_stack = not sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
        local, ipv4, ipv6 = ("localhost" if dual_stack else "[::1]"), dual_stack, True
    others = [f"{scheme}://{url_host(address)}:{port}/" for address in network_addresses(ipv4=ipv4, ipv6=ipv6)]
    return f"{scheme}://{local}:{port}/", others


def url_host(host: str) -> str:
    """``host`` as a URL names it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host
