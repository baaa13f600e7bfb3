"""``python -m handlers.auth.passwd USER``: a line for ``--auth-file``, the password hashed as the standard
library can verify it.

    $ python -m handlers.auth.passwd alice >> users.txt
    Password for alice:
    Again:

A line is ``user:pbkdf2_sha256$iterations$salt$hash`` (the format Django uses: PBKDF2-HMAC-SHA256, the
salt as text, the derived key in base64). The password is asked for twice without echo, or read from
one line of standard input when that is not a terminal (for scripts); it is never an argument, where
``ps`` would show it.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import secrets
import sys
from dataclasses import dataclass

PROG = "python -m handlers.auth.passwd"
HELP = f"""usage: {PROG} USER

Print the line that lets USER in with --auth-file: the user, a colon and a PBKDF2-SHA256 hash of the
password. The password is asked for twice without echo, or read from one line of standard input when
that is not a terminal; it is never an argument, where ps would show it.

  {PROG} alice >> users.txt
  python -m reactor --auth-file users.txt"""
SCHEME = "pbkdf2_sha256"
# OWASP's 2023 figure for PBKDF2-HMAC-SHA256: about 0.3 s of one core here. The server verifies off
# its loop and remembers what it verified, so the cost falls on guessing, not on serving.
ITERATIONS = 600_000
_MIN_ITERATIONS = 1_000
_MAX_ITERATIONS = 10_000_000  # a file asking for more would make each check a denial of service


class HashError(ValueError):
    """A stored hash we cannot use; the message says why."""


@dataclass(frozen=True)
class PasswordHash:
    iterations: int
    salt: str
    key: bytes

    @classmethod
    def parse(cls, text: str) -> PasswordHash:
        """Read ``pbkdf2_sha256$iterations$salt$hash``. Raises HashError."""
        parts = text.split("$")
        if len(parts) != 4 or parts[0] != SCHEME:
            raise HashError(f"not a {SCHEME} hash (make the line with {PROG} USER)")
        _scheme, iterations, salt, key = parts
        if not iterations.isdigit() or not _MIN_ITERATIONS <= int(iterations) <= _MAX_ITERATIONS:
            raise HashError(f"iterations must be a number from {_MIN_ITERATIONS:,} to {_MAX_ITERATIONS:,}")
        try:
            derived = base64.b64decode(key, validate=True)
        except binascii.Error:
            raise HashError("the hash is not base64") from None
        if not salt or len(derived) != hashlib.sha256().digest_size:
            raise HashError("the salt is empty or the hash is not 32 bytes")
        return cls(int(iterations), salt, derived)

    def matches(self, password: str) -> bool:
        """Whether ``password`` derives this key; the comparison takes the same time wherever they differ."""
        derived = hashlib.pbkdf2_hmac("sha256", password.encode(), self.salt.encode(), self.iterations)
        return hmac.compare_digest(derived, self.key)

    def __str__(self) -> str:
        return f"{SCHEME}${self.iterations}${self.salt}${base64.b64encode(self.key).decode()}"


def make_hash(password: str, iterations: int = ITERATIONS) -> PasswordHash:
    salt = secrets.token_hex(16)
    return PasswordHash(iterations, salt, hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations))


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def _read_password(user: str) -> str | None:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"Password for {user}: ")
    if getpass.getpass("Again: ") != first:
        return None
    return first


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(HELP)
        return 0
    if len(args) != 1:
        if len(args) > 1:
            return _fail("give only the user: a password on the command line shows in ps; it is asked for")
        return _fail(f"usage: {PROG} USER")
    user = args[0]
    if not user or ":" in user or any(not char.isprintable() for char in user):
        return _fail(f"invalid user {user!r}: no colon, no control characters (RFC 7617 2)")
    password = _read_password(user)
    if password is None:
        return _fail("the passwords differ")
    if not password:
        return _fail("the password is empty")
    print(f"{user}:{make_hash(password)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
