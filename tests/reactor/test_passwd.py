"""``python -m handlers.auth.passwd``: hashes the standard library verifies, and no password as an argument."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from handlers.auth.passwd import ITERATIONS, HashError, PasswordHash, make_hash
from tests.integration.processes import ENV, REPO


def test_a_hash_matches_its_password_and_no_other() -> None:
    stored = make_hash("correct horse", iterations=1000)
    assert stored.matches("correct horse")
    assert not stored.matches("correct horse ")
    assert not stored.matches("")


def test_a_hash_reads_back_from_its_text_and_is_salted() -> None:
    stored = make_hash("pw", iterations=1000)
    assert PasswordHash.parse(str(stored)) == stored
    assert make_hash("pw", iterations=1000).salt != stored.salt, "two hashes of one password differ"


def test_the_text_is_djangos_pbkdf2_format() -> None:
    text = str(make_hash("pw", iterations=1000))
    scheme, iterations, salt, _key = text.split("$")
    assert (scheme, iterations) == ("pbkdf2_sha256", "1000")
    expected = hashlib.pbkdf2_hmac("sha256", b"pw", salt.encode(), 1000)
    assert PasswordHash.parse(text).key == expected


@pytest.mark.parametrize(
    "text",
    [
        "secret",  # a password that was never hashed
        "md5$abc",
        "pbkdf2_sha256$10$salt$" + "A" * 44,  # too few iterations to mean anything
        "pbkdf2_sha256$99999999999$salt$" + "A" * 44,  # so many that each check is a denial of service
        "pbkdf2_sha256$1000$salt$not base64!",
        "pbkdf2_sha256$1000$salt$QUJD",  # 3 bytes, not 32
        "pbkdf2_sha256$1000$$" + "A" * 43 + "=",
    ],
)
def test_what_is_not_a_usable_hash_is_refused(text: str) -> None:
    with pytest.raises(HashError):
        PasswordHash.parse(text)


def run_passwd(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "handlers.auth.passwd", *args]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, cwd=REPO, env=ENV, timeout=60, check=False
    )


def test_the_command_writes_a_line_for_the_password_read_from_stdin() -> None:
    result = run_passwd("alice", stdin="s3cret\n")
    assert result.returncode == 0, result.stderr
    user, _, stored = result.stdout.strip().partition(":")
    assert user == "alice"
    parsed = PasswordHash.parse(stored)
    assert parsed.iterations == ITERATIONS and parsed.matches("s3cret")
    assert "s3cret" not in result.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "why"),
    [
        (("alice", "s3cret"), "", "a password on the command line shows in ps"),
        ((), "", "usage"),
        (("al:ice",), "pw\n", "no colon"),
        (("alice",), "\n", "the password is empty"),
    ],
)
def test_bad_use_is_one_line_and_exit_2(args: tuple[str, ...], stdin: str, why: str) -> None:
    result = run_passwd(*args, stdin=stdin)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and why in result.stderr and result.stdout == ""


def test_help_says_what_the_command_does_in_plain_sentences() -> None:
    result = run_passwd("--help", stdin="")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: python -m handlers.auth.passwd USER\n")
    description = result.stdout.split("\n\n")[1]
    assert "`" not in result.stdout, "no reST markup"
    assert description.endswith(".") and "--auth-file" in description, description
