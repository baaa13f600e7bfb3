"""The two ways an HTTP exchange goes wrong: the peer broke the protocol, or we misused the state machine."""

from __future__ import annotations


class ProtocolError(Exception):
    """The peer sent something HTTP/1.1 forbids; answer with ``status`` and close the connection."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


class StateError(Exception):
    """Local code fed the protocol state machine an event that its current state does not allow."""
