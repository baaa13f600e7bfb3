"""``--auth-file``: HTTP Basic authentication in front of files, listings, uploads and the status page,
as real clients (curl -u, http.client, headless Chromium) meet it."""

from __future__ import annotations

import base64
import http.client
import json
import select
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from handlers.auth.passwd import make_hash
from tests.handlers.test_metrics import samples
from tests.integration import browser
from tests.integration.client import RawClient, wait_until
from tests.integration.processes import ReactorProcess, run_cli
from tests.integration.static_helpers import fetch
from tests.integration.test_static_curl import curl

Spawn = Callable[..., ReactorProcess]
CHALLENGE = 'Basic realm="reactor", charset="UTF-8"'
FAST = 1000  # iterations: a check in a millisecond, so tests can make many
JURGEN = ("j\u00fcrgen", "p\u00e4sswort")  # beyond ASCII, sent as UTF-8


def basic(user: str, password: str) -> tuple[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return ("Authorization", f"Basic {token}")


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "users.txt"
    lines = [
        "# made by python -m handlers.auth.passwd",
        f"alice:{make_hash('wonderland', FAST)}",
        "",
        f"{JURGEN[0]}:{make_hash(JURGEN[1], FAST)}",
        f"slow:{make_hash('patience')}",  # the default cost: a check takes a noticeable fraction of a second
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def server(spawn: Spawn, docroot: Path, users: Path) -> ReactorProcess:
    (docroot / "inbox").mkdir()
    return spawn(
        "-b", "127.0.0.1", "-d", str(docroot), "--auth-file", str(users), "--upload", "--status-path", "/-/status", "0"
    )  # fmt: skip


@pytest.mark.parametrize("target", ["/hello.txt", "/listed/", "/-/status", "/-/status.json", "/missing"])
def test_without_credentials_everything_is_401_with_a_challenge(server: ReactorProcess, target: str) -> None:
    response = fetch(server.port, target)
    assert response.status == 401
    assert response.header("WWW-Authenticate") == CHALLENGE
    assert b"hello world" not in response.body and b"b.txt" not in response.body


def test_the_right_password_opens_files_listings_and_the_status_page(server: ReactorProcess) -> None:
    alice = [basic("alice", "wonderland")]
    assert fetch(server.port, "/hello.txt", alice).body == b"hello world\n"
    assert b"b.txt" in fetch(server.port, "/listed/", alice).body
    assert fetch(server.port, "/-/status.json", alice).status == 200
    assert fetch(server.port, "/missing", alice).status == 404  # past the gate, the usual answers


@pytest.mark.parametrize(
    "authorization",
    [
        basic("alice", "wrong"),
        basic("alice", ""),
        basic("mallory", "wonderland"),
        basic("ALICE", "wonderland"),  # user names are exact
        ("Authorization", "Basic not-base64!"),
        ("Authorization", "Basic " + base64.b64encode(b"no colon").decode()),
        ("Authorization", "Bearer abc"),
        ("Authorization", "Basic " + base64.b64encode(b"alice:\xff").decode()),  # not UTF-8
    ],
)
def test_wrong_or_malformed_credentials_are_401(server: ReactorProcess, authorization: tuple[str, str]) -> None:
    response = fetch(server.port, "/hello.txt", [authorization])
    assert response.status == 401 and response.header("WWW-Authenticate") == CHALLENGE


def test_a_failed_attempt_is_logged_with_the_user_and_never_the_password(server: ReactorProcess) -> None:
    assert fetch(server.port, "/hello.txt", [basic("alice", "guess-number-one")]).status == 401
    assert wait_until(lambda: "authentication failed" in server.stderr_path.read_text())
    log = server.stderr_path.read_text()
    assert "authentication failed for user 'alice' on /hello.txt" in log
    assert "guess-number-one" not in log


def test_failed_attempts_are_counted_on_the_status_page_but_a_first_request_without_any_is_not(
    server: ReactorProcess,
) -> None:
    alice = [basic("alice", "wonderland")]

    def failures() -> tuple[float, int]:
        metrics = fetch(server.port, "/-/status/metrics", alice).body.decode()
        document = json.loads(fetch(server.port, "/-/status.json", alice).body)
        return samples(metrics)["reactor_auth_failures_total"], document["handlers"]["auth_failures"]

    assert failures() == (0, 0)
    assert fetch(server.port, "/hello.txt").status == 401  # a browser's first request: no credentials yet
    assert fetch(server.port, "/hello.txt", [basic("alice", "wrong")]).status == 401
    assert fetch(server.port, "/hello.txt", [basic("mallory", "wonderland")]).status == 401
    assert fetch(server.port, "/hello.txt", [("Authorization", "Basic not-base64!")]).status == 401
    assert failures() == (3, 3)


def test_utf8_credentials_as_the_challenge_announces(server: ReactorProcess) -> None:
    response = fetch(server.port, "/hello.txt", [basic(*JURGEN)])
    assert response.status == 200


def test_curl_u_downloads_and_uploads(server: ReactorProcess, docroot: Path, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{server.port}"
    got = subprocess.run(
        [curl(), "-sS", "--fail", "-u", "alice:wonderland", f"{base}/hello.txt"],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    assert got.returncode == 0 and got.stdout == b"hello world\n"
    upload = tmp_path / "note.txt"
    upload.write_bytes(b"written with a password\n")
    refused = subprocess.run(
        [curl(), "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", str(upload), f"{base}/inbox/note.txt"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert refused.stdout == "401" and not (docroot / "inbox" / "note.txt").exists()
    stored = subprocess.run(
        [curl(), "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-u", "alice:wonderland", "-T", str(upload),
         f"{base}/inbox/note.txt"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert stored.stdout == "201"
    assert (docroot / "inbox" / "note.txt").read_bytes() == b"written with a password\n"
    form = subprocess.run(
        [curl(), "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-F", f"file=@{upload};filename=form.txt",
         f"{base}/inbox/"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert form.stdout == "401" and not (docroot / "inbox" / "form.txt").exists()


def test_http_client_keeps_its_connection_across_authenticated_requests(server: ReactorProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    name, value = basic("alice", "wonderland")
    for _ in range(5):
        connection.request("GET", "/hello.txt", headers={name: value})
        response = connection.getresponse()
        assert response.status == 200 and response.read() == b"hello world\n"
    connection.close()


def test_pipelined_requests_are_answered_in_order_while_the_first_is_checked(server: ReactorProcess) -> None:
    name, value = basic("alice", "wonderland")
    one = f"GET /hello.txt HTTP/1.1\r\nHost: t\r\n{name}: {value}\r\n\r\n".encode()
    anonymous = b"GET /listed/ HTTP/1.1\r\nHost: t\r\n\r\n"
    with RawClient(server.port) as client:
        client.send(one + anonymous + one)
        assert [client.read_response().status for _ in range(3)] == [200, 401, 200]


def test_checking_a_password_does_not_hold_up_other_clients(server: ReactorProcess) -> None:
    name, value = basic("slow", "patience")
    with RawClient(server.port) as slow, RawClient(server.port) as other:
        slow.send(f"GET /hello.txt HTTP/1.1\r\nHost: t\r\n{name}: {value}\r\n\r\n".encode())
        other.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        assert other.read_response().status == 401
        # The other client's answer came while the slow check was still running (about 0.3 s of PBKDF2).
        assert select.select([slow.sock], [], [], 0)[0] == []
        assert slow.read_response().status == 200


def test_chromium_with_credentials_in_the_url_loads_the_page(server: ReactorProcess, tmp_path: Path) -> None:
    dom = browser.dump_dom(f"http://alice:wonderland@127.0.0.1:{server.port}/page.html", tmp_path / "profile")
    assert "<p>page</p>" in dom


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("alice:wonderland\n", "not a pbkdf2_sha256 hash"),
        ("\n# nobody\n", "no users in it"),
        ("no-colon-here\n", "want user:hash"),
        (f"alice:{make_hash('a', FAST)}\nalice:{make_hash('b', FAST)}\n", "appears twice"),
    ],
)
def test_an_auth_file_that_cannot_be_used_is_one_line_and_exit_2(
    docroot: Path, tmp_path: Path, content: str, why: str
) -> None:
    path = tmp_path / "users.txt"
    path.write_text(content)
    result = run_cli("-b", "127.0.0.1", "-d", str(docroot), "--auth-file", str(path), "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and why in result.stderr and "wonderland" not in result.stderr


def test_a_missing_auth_file_is_one_line_and_exit_2(docroot: Path, tmp_path: Path) -> None:
    result = run_cli("-b", "127.0.0.1", "-d", str(docroot), "--auth-file", str(tmp_path / "nope"), "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot read it" in result.stderr


@pytest.mark.parametrize("flag", ["--auth", "--basic-auth"])
def test_a_password_on_the_command_line_is_refused(docroot: Path, flag: str) -> None:
    result = run_cli("-b", "127.0.0.1", "-d", str(docroot), flag, "alice:wonderland", "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "shows in ps" in result.stderr and "--auth-file" in result.stderr
