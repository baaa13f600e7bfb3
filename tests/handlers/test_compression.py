"""Compression on the fly without sockets: which types qualify, the coded bytes, and the life of one
file version's compression with the background thread replaced by a queue the test runs by hand."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from handlers.background import BackgroundJobs
from handlers.static.compression import Compressions, compressible, gzip_bytes
from reactor.loop.eventloop import EventLoop


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html; charset=utf-8",
        "text/css",
        "text/javascript; charset=utf-8",
        "application/json",
        "application/manifest+json",
        "image/svg+xml; charset=utf-8",
        "application/xml",
        "application/atom+xml",
        "application/wasm",
        "TEXT/Plain",
    ],
)
def test_text_types_and_wasm_are_compressible(content_type: str) -> None:
    assert compressible(content_type)


@pytest.mark.parametrize(
    "content_type",
    ["image/png", "image/jpeg", "application/octet-stream", "application/zip", "video/mp4", "font/woff2"],
)
def test_already_compressed_and_binary_types_are_not(content_type: str) -> None:
    assert not compressible(content_type)


def test_gzip_bytes_decode_to_the_input_and_are_the_same_every_time() -> None:
    data = b"body { color: red; }\n" * 100
    assert gzip.decompress(gzip_bytes(data)) == data
    assert gzip_bytes(data) == gzip_bytes(data)  # mtime 0, no name: one version, one body, one ETag


# Jobs only pass the loop on (to call_soon_threadsafe); ManualJobs never uses it.
LOOP = cast(EventLoop, None)


class ManualJobs(BackgroundJobs):
    """BackgroundJobs whose jobs wait until the test runs them (work, then done, in one go)."""

    def __init__(self) -> None:
        super().__init__()
        self.queued: list[tuple[Callable[[], Any], Callable[[Any, Exception | None], object]]] = []

    def run(self, loop: EventLoop, work: Callable[[], Any], done: Callable[[Any, Exception | None], object]) -> None:
        self.queued.append((work, done))

    def run_all(self) -> None:
        queued, self.queued = self.queued, []
        for work, done in queued:
            try:
                result = work()
            except Exception as error:
                done(None, error)
            else:
                done(result, None)


@pytest.fixture
def jobs() -> ManualJobs:
    return ManualJobs()


def compressions(jobs: ManualJobs) -> Compressions:
    return Compressions(jobs)


def test_a_version_is_compressed_once_and_none_until_then(tmp_path: Path, jobs: ManualJobs) -> None:
    path = tmp_path / "style.css"
    path.write_bytes(b"p { margin: 0 }\n" * 200)
    cache = compressions(jobs)
    info = os.stat(path)
    assert cache.coded(LOOP, str(path), info) is None
    assert cache.coded(LOOP, str(path), info) is None
    assert len(jobs.queued) == 1  # asked twice while running: compressed once
    jobs.run_all()
    coded = cache.coded(LOOP, str(path), info)
    assert coded is not None and gzip.decompress(coded) == path.read_bytes()
    assert jobs.queued == []


def test_a_changed_file_is_a_new_version(tmp_path: Path, jobs: ManualJobs) -> None:
    path = tmp_path / "app.js"
    path.write_bytes(b"first();\n" * 100)
    cache = compressions(jobs)
    first = os.stat(path)
    cache.coded(LOOP, str(path), first)
    jobs.run_all()
    path.write_bytes(b"second();\n" * 100)
    second = os.stat(path)
    assert cache.coded(LOOP, str(path), second) is None
    jobs.run_all()
    coded = cache.coded(LOOP, str(path), second)
    assert coded is not None and gzip.decompress(coded) == b"second();\n" * 100


def test_a_file_that_changes_before_the_thread_reads_it_keeps_nothing(tmp_path: Path, jobs: ManualJobs) -> None:
    path = tmp_path / "data.json"
    path.write_bytes(b"[1, 2, 3]\n" * 100)
    cache = compressions(jobs)
    info = os.stat(path)
    cache.coded(LOOP, str(path), info)
    path.write_bytes(b"[4, 5]\n" * 100)
    jobs.run_all()
    assert cache.coded(LOOP, str(path), info) is None
    assert len(jobs.queued) == 1  # asked again: tried again


def test_a_file_gzip_does_not_shrink_is_remembered_as_such(tmp_path: Path, jobs: ManualJobs) -> None:
    path = tmp_path / "random.txt"
    path.write_bytes(os.urandom(4096))
    cache = compressions(jobs)
    info = os.stat(path)
    cache.coded(LOOP, str(path), info)
    jobs.run_all()
    assert cache.coded(LOOP, str(path), info) == b""
    assert jobs.queued == []


def test_a_vanished_file_keeps_nothing_and_is_tried_again(tmp_path: Path, jobs: ManualJobs) -> None:
    path = tmp_path / "gone.txt"
    path.write_bytes(b"x" * 1000)
    cache = compressions(jobs)
    info = os.stat(path)
    cache.coded(LOOP, str(path), info)
    path.unlink()
    jobs.run_all()
    assert cache.coded(LOOP, str(path), info) is None
