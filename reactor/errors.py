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
# accept() failed for a connection that died in the backlog: skip it and accept the next one.
ACCEPT_SKIP_ERRNOS = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM})


def is_peer_gone(error: OSError) -> bool:
    """True when ``error`` only says that the other side went away."""
    return isinstance(error, (ConnectionError, TimeoutError)) or error.errno in _PEER_GONE_ERRNOS
