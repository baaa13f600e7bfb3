"""HTTP Basic authentication in front of every other handler (``--auth-file``), RFC 7617.

A request without valid credentials gets 401 with a ``WWW-Authenticate`` challenge and goes no further:
no file, listing, upload or status page is reached. Checking a password is slow on purpose (PBKDF2,
handlers/auth/passwd.py), so it runs on a background thread, never on the loop; credentials that passed are
remembered by their digest, so a browser that sends them with every request pays once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from functools import partial

from handlers.auth.passwd import ITERATIONS, HashError, PasswordHash
from handlers.background import BackgroundJobs
from reactor.exchange import Exchange, Handler

logger = logging.getLogger(__name__)

REALM = "reactor"
# RFC 7617 2.1: charset="UTF-8" tells the client how to encode the user and password.
CHALLENGE = ("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"')
REMEMBERED = 1024  # verified credentials kept; past that the memory starts again


def load_users(path: str) -> dict[str, PasswordHash]:
    """The users of an auth file: ``user:hash`` lines; blank lines and ``#`` comments skipped. Raises
    ValueError with the file and line of what is wrong (a password that is not hashed, among others)."""
    try:
        with open(path, encoding="utf-8") as file:
            lines = file.read().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"--auth-file {path!r}: cannot read it: {getattr(error, 'strerror', None) or error}") from None
    users: dict[str, PasswordHash] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        user, colon, stored = line.partition(":")
        where = f"--auth-file {path!r} line {number}"
        if not colon or not user:
            raise ValueError(f"{where}: want user:hash")
        if user in users:
            raise ValueError(f"{where}: {user!r} appears twice")
        try:
            users[user] = PasswordHash.parse(stored.strip())
        except HashError as error:
            raise ValueError(f"{where}: {error}") from None
    if not users:
        raise ValueError(f"--auth-file {path!r}: no users in it")
    return users


def credentials(header: str) -> tuple[str, str] | None:
    """The (user, password) of a ``Basic`` Authorization value, or None if it is not one."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":  # RFC 9110 11.1: the scheme is case-insensitive
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")  # RFC 7617 2: the user-id holds no colon
    return (user, password) if colon else None


class BasicAuth:
    """A handler that lets through to ``inner`` only requests carrying a user and password of ``users``."""

    def __init__(self, users: dict[str, PasswordHash], inner: Handler) -> None:
        self._users = users
        self._inner = inner
        # Checked for an unknown user, so a guess at a name takes as long as a guess at a password.
        iterations = max((stored.iterations for stored in users.values()), default=ITERATIONS)
        self._nobody = PasswordHash(iterations, "nobody", bytes(32))
        self._verified: dict[bytes, str] = {}  # sha256 of Authorization values that passed -> the user
        self._jobs = BackgroundJobs()
        self.failures = 0  # requests refused for credentials that did not verify (not for none at all)

    def counters(self) -> dict[str, int]:
        """What the status page shows (handlers/status/metrics.py: HANDLER_METRICS)."""
        return {"auth_failures": self.failures}

    def close(self) -> None:
        self._jobs.close()

    def __call__(self, exchange: Exchange) -> None:
        header = exchange.request.headers.get("authorization")
        if header is None:
            self._refuse(exchange)
            return
        digest = hashlib.sha256(header.encode("latin-1", "replace")).digest()
        if digest in self._verified:
            exchange.user = self._verified[digest]
            self._inner(exchange)
            return
        given = credentials(header)
        if given is None:
            self.failures += 1
            self._refuse(exchange, "malformed credentials")
            return
        user, password = given
        stored = self._users.get(user, self._nobody)
        check = partial(_matches, stored, password, known=user in self._users)
        self._jobs.run(exchange.loop, check, partial(self._checked, exchange, user, digest))

    def _checked(self, exchange: Exchange, user: str, digest: bytes, valid: bool | None, error: object) -> None:
        if not valid:
            self.failures += 1  # even when the client has gone: a guess all the same
        if exchange.aborted:
            return
        if not valid:
            client = exchange.client_address[0]
            logger.warning("%s: authentication failed for user %r on %s", client, user, exchange.request.path)
            self._refuse(exchange)
            return
        if len(self._verified) >= REMEMBERED:
            self._verified.clear()
        self._verified[digest] = user
        exchange.user = user  # the access log's user field (CLF)
        # Back on the loop thread, but outside the connection's call of the handler: on_drain runs the
        # inner handler the way the connection runs any later callback of a handler (its failure is a
        # 500, not a lost exchange), once earlier pipelined responses have left.
        exchange.on_drain(partial(self._let_through, exchange))

    def _let_through(self, exchange: Exchange) -> None:
        if not exchange.aborted:
            self._inner(exchange)

    def _refuse(self, exchange: Exchange, detail: str = "authentication required") -> None:
        exchange.respond_error(401, detail, [CHALLENGE])


def _matches(stored: PasswordHash, password: str, *, known: bool) -> bool:
    return stored.matches(password) and known
