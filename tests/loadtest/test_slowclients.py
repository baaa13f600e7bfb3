"""The raw-socket clients against a live server: the hostile ones finish their request slowly and get
it right; the benchmark's idle ones are left open after a whole response."""

from __future__ import annotations

import hashlib
import time

import pytest

from loadtest import idle
from loadtest.site import Manifest, blob_range
from loadtest.slowclients import Origin, slow_read, slow_send
from tests.conftest import LiveServer


def test_a_slow_reader_gets_the_right_bytes_at_its_own_pace(site_server: LiveServer, manifest: Manifest) -> None:
    entry = manifest.files[manifest.large]
    started = time.monotonic()
    received = slow_read(Origin("127.0.0.1", site_server.port), entry.path, seconds=0.5, chunk=8192, interval=0.01)
    assert time.monotonic() - started >= 0.5
    assert received.status == 200 and received.headers["content-length"] == str(entry.size)
    assert 0 < len(received.body) < entry.size, "it reads part of the file, slowly, then hangs up"
    assert received.body == blob_range(manifest.seed, entry.path, 0, len(received.body))


def test_a_slow_sender_gets_its_answer(site_server: LiveServer, manifest: Manifest) -> None:
    entry = manifest.files[manifest.assets[0]]
    received = slow_send(Origin("127.0.0.1", site_server.port), entry.path, chunk=16, interval=0.005)
    assert received.status == 200
    assert hashlib.sha256(received.body).hexdigest() == entry.sha256


def test_origins_are_plain_http_urls() -> None:
    assert Origin.of("http://127.0.0.1:8080") == Origin("127.0.0.1", 8080)
    assert Origin.of("http://[::1]:81/") == Origin("::1", 81)
    assert b"Host: [::1]:81\r\n" in Origin("::1", 81).request("/x")
    with pytest.raises(ValueError, match="plain http"):
        Origin.of("https://example.org")


def test_idle_connections_are_held_open_after_one_whole_response(site_server: LiveServer) -> None:
    held = idle.hold(site_server.port, 3, "/data/64KiB.bin")  # more than one recv
    try:
        assert len(held) == 3
        statistics = site_server.statistics()
        assert (statistics.connections, statistics.requests, statistics.queued) == (3, 3, 0)
    finally:
        idle.release(held)
