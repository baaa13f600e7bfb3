"""Checking what a simulated client read against the answers its requests get alone: in order,
exactly, or cut short only by a fault the run injected."""

from __future__ import annotations

from dataclasses import dataclass

from tests.simulation.peer import Peer
from tests.simulation.requests import INTERIM_CONTINUE, Unparseable, parse_response

# Closes in which the server means its last response to arrive (not an abort, a timeout or a reset).
# Not "shutdown": like nginx, a shutdown closes an idle connection at once, whatever may be in flight.
GRACEFUL_CLOSES = frozenset({"closed", "peer closed", "protocol error", "request timeout"})
# How an HTTPS connection ends when the client's bytes are not TLS the server can read.
TLS_FAILURES = frozenset({"tls error", "handshake failed"})


@dataclass
class Reference:
    """What a request alone gets on a clean network: its final response, and whether the server closed after."""

    response: bytes
    closes: bool
    error: str  # what the model finds wrong with it ("" when nothing)
    later: bytes | None = None  # another answer, once background work it started is done (its gzip made)

    @property
    def responses(self) -> tuple[bytes, ...]:
        return (self.response,) if self.later is None else (self.response, self.later)


def check_answers(
    peer: Peer,
    reason: str,
    references: list[Reference],
    *,
    clock_chaos: bool,
    shut_down: bool,
    close_raced: bool = False,
) -> tuple[int, list[str]]:
    """Whether every complete request of ``peer`` got exactly its reference answer, in order, unless
    a fault cut the connection (which the server closed for ``reason``); what follows the last one
    must be nothing, a cut-short answer, or the server's own error for a request it did not get
    whole. ``close_raced``: under TLS, the server closed while its socket had no room for its
    close_notify, so it could not read the client's, which was there already (tlsbio.py: the reset
    that follows may destroy the answer's end). Returns the requests answered and what is wrong."""
    requests = peer.script.requests
    violations: list[str] = []
    where = f"connection #{peer.ident} (closed: {reason})"
    actual = bytes(peer.received)
    for request, reference in zip(requests, references, strict=True):
        if reference.error:
            violations.append(f"{request.label!r} alone, on a clean connection: {reference.error}")
    position = answered = 0
    while answered < len(references):
        while actual.startswith(INTERIM_CONTINUE, position):
            if not requests[answered].expect_continue:
                violations.append(f"{where}: 100 Continue to {requests[answered].label!r}")
            position += len(INTERIM_CONTINUE)
        end = _matching(actual, position, references[answered].responses, peer.methods[answered], shut_down)
        if end is None:
            break
        position = end
        answered += 1
        if references[answered - 1].closes:
            break
    closing = next((index for index, ref in enumerate(references) if ref.closes), len(references))
    owed = min(peer.complete_requests(), closing + 1)
    # An application failing mid-response aborts: what was queued is dropped (the client sees
    # a cut body either way, HTTP/1.1 has no other signal).
    cut = bool(
        peer.reset
        or peer.lost
        or peer.stopped_reading
        or reason in ("peer reset", "response aborted", "shutdown grace expired")
        or (peer.script.tls_fault and reason in TLS_FAILURES)
        or (close_raced and peer.destroyed)
    )
    timed_out = reason.endswith("timeout")
    if peer.destroyed and reason in GRACEFUL_CLOSES and not close_raced:
        # RFC 9112 9.6: a server that closes with the client's bytes unread resets the connection
        # and can destroy its last response before the client reads it; hence lingering.
        violations.append(f"{where}: {peer.lost}, destroying {peer.destroyed} bytes of the answer")
    rest = actual[position:]
    # A server may answer a request before it has all of it: on its head alone (a POST to a file),
    # or at once, to close (a 431 for a head too large).
    may_answer = min(peer.complete_heads() + 1, closing + 1)
    if answered > may_answer or (
        answered > owed and not references[answered - 1].closes and answered > peer.complete_heads()
    ):
        violations.append(f"{where}: {answered} responses for {owed} complete requests")
    if not rest:
        if answered < owed and not cut and not shut_down and not (timed_out and clock_chaos):
            violations.append(
                f"{where}: {answered} of {owed} complete requests answered; next: {requests[answered].label!r}"
                + (f" ({peer.lost})" if peer.lost else "")
            )
        return answered, violations
    stopped_early = cut or timed_out or not peer.ended
    expects_continue = answered < len(requests) and requests[answered].expect_continue
    if stopped_early and expects_continue and INTERIM_CONTINUE.startswith(rest):
        return answered, violations  # cut inside the interim 100 (Continue)
    if answered < len(references) and any(
        _begins(expected, rest, shut_down) for expected in references[answered].responses
    ):
        if not stopped_early:
            violations.append(f"{where}: response to {requests[answered].label!r} cut after {len(rest)} bytes")
        return answered, violations
    # The server's own answer to a request it did not get whole: 408 (a timeout), 400 (an end mid-request).
    if answered >= peer.complete_requests() and any(
        line.startswith(rest[: len(line)]) for line in (b"HTTP/1.1 400 ", b"HTTP/1.1 408 ")
    ):
        try:
            tail = parse_response(rest, 0, "GET", peer.ended)
        except Unparseable:
            tail = None
        if (tail is not None and tail.end == len(rest) and tail.closes) or (tail is None and stopped_early):
            return answered, violations
    if answered < len(references):
        expected = references[answered].response
        at = next(
            (i for i, (a, b) in enumerate(zip(rest, expected, strict=False)) if a != b),
            min(len(rest), len(expected)),
        )
        violations.append(
            f"{where}: response {answered + 1} to {requests[answered].label!r} differs at byte {at} "
            f"(got {len(rest)} bytes, expected {len(expected)}): got {rest[max(0, at - 40) : at + 80]!r}, "
            f"expected {expected[max(0, at - 40) : at + 80]!r}"
        )
    else:
        violations.append(f"{where}: bytes after the last response: {rest[:160]!r}")
    return answered, violations


def _matching(actual: bytes, position: int, responses: tuple[bytes, ...], method: str, shut_down: bool) -> int | None:
    """Where the response at ``position`` of ``actual`` ends if it is one of ``responses``; None if not."""
    for expected in responses:
        if actual.startswith(expected, position):
            return position + len(expected)
    if shut_down:  # a shutdown ends the connection after the response in progress, which says so
        for expected in responses:
            end = _same_but_connection(actual, position, expected, method)
            if end is not None:
                return end
    return None


def _without_connection(head: bytes) -> bytes:
    return b"\r\n".join(line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:"))


def _same_but_connection(actual: bytes, start: int, expected: bytes, method: str) -> int | None:
    """Where the response at ``start`` of ``actual`` ends if it is ``expected`` but for its
    Connection field; None if it is not."""
    try:
        response = parse_response(actual, start, method, True)
    except Unparseable:
        return None
    if response is None:
        return None
    got = actual[start : response.end]
    got_head, _, got_body = got.partition(b"\r\n\r\n")
    head, _, body = expected.partition(b"\r\n\r\n")
    if got_body == body and _without_connection(got_head) == _without_connection(head):
        return response.end
    return None


def _begins(expected: bytes, got: bytes, shut_down: bool) -> bool:
    """Whether ``got`` is the beginning of ``expected``, or after a shutdown of its closing form
    (closing_form): a response cut short may end anywhere, inside its Connection field too."""
    return expected.startswith(got) or (shut_down and closing_form(expected).startswith(got))


def closing_form(response: bytes) -> bytes:
    """``response`` as a server that closes after it frames it: no Connection field but a last
    ``Connection: close`` (RFC 9112 9.6; reactor/http/writer.py puts it last, before the blank line)."""
    head, _, body = response.partition(b"\r\n\r\n")
    return _without_connection(head) + b"\r\nConnection: close\r\n\r\n" + body


def check_refusal(peer: Peer, reason: str, refusal: bytes) -> list[str]:
    """What is wrong with what a client that spoke plain HTTP to the HTTPS port read: the refusal, or
    its beginning when the connection was cut, and nothing else."""
    got = bytes(peer.received)
    where = f"connection #{peer.ident} (plain HTTP on the TLS port, closed: {reason})"
    if not refusal.startswith(got):
        return [f"{where}: read {got[:120]!r}, not the refusal {refusal[:120]!r}"]
    cut = peer.reset or peer.lost or peer.stopped_reading or reason.endswith("timeout") or reason == "peer reset"
    if len(got) < len(refusal) and peer.ended and not cut and peer.sent:
        return [f"{where}: the refusal cut after {len(got)} of its {len(refusal)} bytes"]
    return []
