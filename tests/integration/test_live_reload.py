"""--live-reload over real sockets: the injected HTML variant and its validators, the script, the event
stream and what a save sends on it, the caches forgotten at once, heartbeats, the command line, a
graceful stop, and the status page's count of open streams."""

from __future__ import annotations

import gzip
import json
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from handlers.livereload.inject import SCRIPT_PATH, SCRIPT_TAG
from handlers.livereload.reloader import EVENTS_PATH, RETRY_MS, SCRIPT
from handlers.static.conditional import make_etag
from tests.integration.browser import dump_dom
from tests.integration.client import Response, request, wait_until
from tests.integration.livereload_helpers import Reloading, Stream
from tests.integration.processes import ReactorProcess

PAGE = (
    b'<!doctype html>\n<html><head><link rel="stylesheet" href="style.css"></head>\n'
    b'<body><p id="p">one</p></body></html>\n'
)
INJECTED = PAGE.replace(b"</body>", SCRIPT_TAG + b"</body>")


def get(port: int, target: str, *fields: str, method: str = "GET") -> Response:
    head = "".join(f"{field}\r\n" for field in fields)
    return request(port, f"{method} {target} HTTP/1.1\r\nHost: t\r\n{head}\r\n".encode(), method)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_bytes(PAGE)
    (root / "style.css").write_text("p { color: rgb(1, 2, 3); }\n" * 40)  # big enough to be gzipped on the fly
    (root / "notes.txt").write_text("notes\n")
    return root


@pytest.fixture
def reloading(site: Path) -> Iterator[Callable[..., Reloading]]:
    started: list[Reloading] = []

    def start(**options: Any) -> Reloading:
        started.append(Reloading(site, **options))
        return started[-1]

    yield start
    for each in started:
        each.stop()


def test_the_injected_page_is_the_file_plus_the_script_and_has_its_own_etag(reloading, site: Path) -> None:
    server = reloading()
    response = get(server.port, "/")
    assert response.status == 200 and response.body == INJECTED
    assert response.header("Content-Length") == str(len(PAGE) + len(SCRIPT_TAG))
    file_etag = make_etag((site / "index.html").stat())
    etag = response.header("ETag")
    assert etag is not None and etag != file_etag and etag.startswith(file_etag[:-1])
    assert get(server.port, "/index.html").body == INJECTED  # by its name too, and again (never cached as is)


def test_head_conditional_requests_and_ranges_answer_for_the_injected_variant(reloading) -> None:
    server = reloading()
    whole = get(server.port, "/index.html")
    etag = whole.header("ETag")
    head = get(server.port, "/index.html", method="HEAD")
    assert head.status == 200 and head.body == b"" and head.header("Content-Length") == str(len(INJECTED))
    assert head.header("ETag") == etag
    not_modified = get(server.port, "/index.html", f"If-None-Match: {etag}")
    assert not_modified.status == 304 and not_modified.body == b"" and not_modified.header("ETag") == etag
    assert get(server.port, "/index.html", "Range: bytes=-60").body == INJECTED[-60:]  # the tag and what follows
    stale = get(server.port, "/index.html", "Range: bytes=0-9", 'If-Range: "not-the-tag"')
    assert stale.status == 200 and stale.body == INJECTED


def test_html_is_never_sent_coded_while_other_files_still_are(reloading, site: Path) -> None:
    (site / "index.html.gz").write_bytes(gzip.compress(PAGE))
    server = reloading()
    page = get(server.port, "/index.html", "Accept-Encoding: gzip, br")
    assert page.body == INJECTED and page.header("Content-Encoding") is None  # the sibling lacks the script
    css = (site / "style.css").read_bytes()
    assert wait_until(lambda: get(server.port, "/style.css", "Accept-Encoding: gzip").header("Content-Encoding"))
    coded = get(server.port, "/style.css", "Accept-Encoding: gzip")
    assert gzip.decompress(coded.body) == css and SCRIPT_TAG not in gzip.decompress(coded.body)
    assert get(server.port, "/notes.txt").body == b"notes\n"


def test_without_live_reload_html_is_served_as_it_is(serve, site: Path) -> None:
    server = serve(site)
    assert get(server.port, "/index.html").body == PAGE
    assert get(server.port, SCRIPT_PATH).status == 404


def test_the_script_and_the_stream_have_reserved_paths_and_only_get_and_head(reloading) -> None:
    server = reloading()
    script = get(server.port, SCRIPT_PATH)
    assert script.status == 200 and script.body == SCRIPT
    assert script.header("Content-Type") == "text/javascript; charset=utf-8"
    assert EVENTS_PATH.encode() in SCRIPT and b"EventSource" in SCRIPT
    refused = request(server.port, f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".encode())
    assert refused.status == 405 and refused.header("Allow") == "GET, HEAD"
    head = get(server.port, EVENTS_PATH, method="HEAD")
    assert head.status == 200 and head.header("Content-Type") == "text/event-stream" and head.body == b""
    assert server.hub.streams == 0  # a HEAD opens no stream


def test_a_stream_sets_the_retry_delay_then_tells_each_burst_of_saves_until_a_reload(reloading, site: Path) -> None:
    server = reloading()
    stream = Stream(server.port)
    try:
        assert stream.head.startswith("HTTP/1.1 200 OK\r\n")
        assert "Content-Type: text/event-stream\r\n" in stream.head and "Transfer-Encoding: chunked\r\n" in stream.head
        first = server.hub.ident
        assert stream.chunk() == f"retry: {RETRY_MS}\nid: {first}\n\n".encode()
        assert wait_until(lambda: server.hub.streams == 1)
        (site / "style.css").write_text("p { color: rgb(4, 5, 6); }\n")
        server_id = first.partition("-")[0]
        assert stream.chunk() == f'event: css\nid: {server_id}-1\ndata: ["style.css"]\n\n'.encode()
        (site / "index.html").write_bytes(PAGE.replace(b"one", b"two"))
        (site / "style.css").write_text("p { color: rgb(7, 8, 9); }\n")
        reload = f'event: reload\nid: {server_id}-2\ndata: ["index.html", "style.css"]\n\n'
        assert stream.chunk() == reload.encode()
        # A reload is the stream's last message (its page goes away): it ends, the connection stays.
        assert stream.chunk() == b""
        assert wait_until(lambda: server.hub.streams == 0)
        stream.client.send(b"GET /notes.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        assert stream.client.read_response().body == b"notes\n"
    finally:
        stream.close()


def test_a_page_back_after_losing_its_stream_reloads_unless_it_saw_the_latest_message(reloading, site: Path) -> None:
    server = reloading()
    current = server.hub.ident
    up_to_date = Stream(server.port, last_event_id=current)  # a blip: nothing changed meanwhile
    restarted = Stream(server.port, last_event_id="0badc0de-7")  # another server's id
    try:
        assert up_to_date.chunk() == f"retry: {RETRY_MS}\nid: {current}\n\n".encode()
        assert restarted.chunk() == f"retry: {RETRY_MS}\nid: {current}\n\n".encode()
        assert restarted.chunk() == f"event: reload\nid: {current}\ndata: []\n\n".encode()
        assert restarted.chunk() == b""
        assert wait_until(lambda: server.hub.streams == 1)
        (site / "style.css").write_text("p { color: rgb(4, 5, 6); }\n")
        assert up_to_date.chunk().startswith(b"event: css\n")
        missed = Stream(server.port, last_event_id=current)  # changes came while it was away
        assert missed.chunk().startswith(b"retry: ")
        assert missed.chunk().startswith(b"event: reload\n")
        missed.close()
    finally:
        up_to_date.close()
        restarted.close()


def test_a_changed_file_is_served_fresh_as_soon_as_the_pages_are_told(reloading, site: Path) -> None:
    server = reloading()
    assert get(server.port, "/notes.txt").body == b"notes\n"  # now kept in the file cache, trusted for a second
    assert get(server.port, "/missing.html").status == 404  # and this path as naming nothing
    stream = Stream(server.port)
    try:
        stream.chunk()
        (site / "notes.txt").write_text("NOTES\n")  # the same size
        (site / "missing.html").write_bytes(PAGE)
        assert stream.chunk().startswith(b"event: reload\n")
        assert get(server.port, "/notes.txt").body == b"NOTES\n"
        assert get(server.port, "/missing.html").body == INJECTED
    finally:
        stream.close()


def test_heartbeats_let_go_of_the_streams_of_clients_gone(reloading) -> None:
    server = reloading(heartbeat=0.05)
    streams = [Stream(server.port) for _ in range(3)]
    assert wait_until(lambda: server.hub.streams == 3)
    streams[0].close()
    streams[1].close()
    assert wait_until(lambda: server.hub.streams == 1)  # the second write to a closed peer fails
    assert wait_until(lambda: server.live.statistics().streams == 1)
    assert streams[2].chunk().startswith(f"retry: {RETRY_MS}\n".encode())
    assert streams[2].chunk() == b":\n"  # a comment: the page ignores it
    streams[2].close()


def test_the_command_line_serves_pages_with_the_script_and_a_stop_ends_streams_at_once(
    spawn: Callable[..., ReactorProcess], site: Path
) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(site), "--live-reload", "--grace", "30", "0")
    assert get(server.port, "/").body == INJECTED
    assert wait_until(lambda: "watching with inotify (directories: 1)" in server.stderr_path.read_text())
    stream = Stream(server.port)
    try:
        stream.chunk()
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert stream.chunk() == b""  # the stream's end, sent at once
        assert server.process.wait(timeout=10) == 0
        assert time.monotonic() - started < 5, "the stop waited for the stream"
    finally:
        stream.close()


def test_the_status_page_shows_the_open_streams(
    spawn: Callable[..., ReactorProcess], site: Path, tmp_path: Path
) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(site), "--live-reload", "--status-path", "/-/status", "-q", "0")
    streams = [Stream(server.port) for _ in range(3)]
    try:

        def count() -> int:
            document = json.loads(get(server.port, "/-/status.json").body)
            return int(document["statistics"]["streams"])

        assert wait_until(lambda: count() == 3)
        dom = dump_dom(f"http://127.0.0.1:{server.port}/-/status", tmp_path / "profile", virtual_time_ms=3000)
        assert re.search(r'<td>event streams open</td><td id="streams">3</td>', dom), dom
    finally:
        for stream in streams:
            stream.close()
