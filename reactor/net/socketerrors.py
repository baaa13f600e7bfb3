"""How socket errors are sorted: would-block (retry later), peer gone (quiet close), resource
exhaustion on accept (back off), anything else (log it, close that connection, keep the loop)."""

from __future__ import annotations

import errno

# The peer reset, closed or vanished: nothing to report but a debug line.
_PEER_GONE_ERRNOS = frozenset(
    {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, errno.ENOTCONN, errno.ESHUTDOWN, errno.ETIMEDOUT}
)
# accept() failed for lack of descriptors or memory: retrying at once would spin the CPU.
ACCEPT_EXHAUSTION_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
# accept() failed for a connection that died in the backlog, or (Linux accept(2)) reported a network
# error pending on it: skip it and accept the next one. EPERM: a firewall rule refused it.
ACCEPT_SKIP_ERRNOS = frozenset(
    getattr(errno, name)
    for name in (
        "ECONNABORTED",
        "EPROTO",
        "EPERM",
        "ENETDOWN",
        "ENOPROTOOPT",
        "EHOSTDOWN",
        "ENONET",
        "EHOSTUNREACH",
        "EOPNOTSUPP",
        "ENETUNREACH",
        "ETIMEDOUT",
    )
    if hasattr(errno, name)  # ENONET is Linux-only
)


def is_peer_gone(error: OSError) -> bool:
    """True when ``error`` only says that the other side went away."""
    return isinstance(error, (ConnectionError, TimeoutError)) or error.errno in _PEER_GONE_ERRNOS
