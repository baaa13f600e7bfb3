"""Watching the served trees (handlers/livereload/treewatch.py, inotify.py): which names are left out,
how bursts become one batch (on a fake clock), and both watchers on real directories: inotify where
Linux has it, the stat walk everywhere."""

from __future__ import annotations

import logging
import os
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from handlers.livereload import inotify
from handlers.livereload.treewatch import SLICE, Debounce, InotifyWatcher, PollingWatcher, TreeWatch, ignored
from reactor.loop.eventloop import EventLoop
from reactor.testing import FakeClock, tick

needs_inotify = pytest.mark.skipif(not inotify.available(), reason="inotify is Linux's")


@pytest.mark.parametrize(
    ("name", "left_out"),
    [
        ("index.html", False),
        ("style.css", False),
        ("4913.html", False),
        ("page.tmpl", False),
        ("logo.svg", False),
        ("tmp", False),
        (".git", True),
        (".env", True),
        (".index.html.swp", True),  # vim's swap file
        ("index.html.swp", True),
        ("index.html.swx", True),
        ("4913", True),  # vim's test that it may write in the directory
        ("index.html~", True),  # vim's and Emacs's backups
        ("#index.html#", True),  # Emacs's autosave
        (".#index.html", True),  # Emacs's lock
        ("index.html.tmp", True),
        ("index.html.kate-swp", True),
        ("index.html___jb_tmp___", True),  # JetBrains' safe write
        ("index.html___jb_old___", True),
        ("__pycache__", True),
    ],
)
def test_dotfiles_editors_temporary_files_and_bytecode_are_left_out(name: str, left_out: bool) -> None:
    assert ignored(name) is left_out


def inotify_event(watch: int, mask: int, name: bytes) -> bytes:
    padded = name + b"\0" * (-len(name) % 16 or (16 if name else 0))
    return struct.pack("iIII", watch, mask, 0, len(padded)) + padded


def test_inotify_events_are_parsed_from_the_kernel_s_bytes() -> None:
    data = inotify_event(1, inotify.IN_CLOSE_WRITE, b"a.html") + inotify_event(2, inotify.IN_IGNORED, b"")
    data += inotify_event(1, inotify.IN_CREATE | inotify.IN_ISDIR, "caf\u00e9".encode())
    assert inotify.parse(data) == [
        inotify.Event(1, inotify.IN_CLOSE_WRITE, "a.html"),
        inotify.Event(2, inotify.IN_IGNORED, ""),
        inotify.Event(1, inotify.IN_CREATE | inotify.IN_ISDIR, "caf\u00e9"),
    ]


class Batches:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.loop = EventLoop(clock=self.clock)
        self.batches: list[list[str]] = []
        self.debounce = Debounce(self.loop, self.batches.append, quiet=0.1, longest=1.0)

    def at(self, seconds: float) -> None:
        """Move the fake clock to ``seconds`` after the start and run what is due."""
        self.clock.now = 1000.0 + seconds
        tick(self.loop)


@pytest.fixture
def batches() -> Iterator[Batches]:
    batches = Batches()
    yield batches
    batches.loop.close()


def test_a_burst_is_handed_on_once_after_it_stops(batches: Batches) -> None:
    for when, path in ((0.0, "/s/b.html"), (0.05, "/s/a.css"), (0.09, "/s/b.html")):
        batches.at(when)
        batches.debounce.add([path])
    batches.at(0.18)
    assert batches.batches == [] and batches.debounce.pending
    batches.at(0.19)
    assert batches.batches == [["/s/a.css", "/s/b.html"]] and not batches.debounce.pending
    batches.at(0.5)
    batches.debounce.add(["/s/c.js"])  # a later change is a batch of its own
    batches.at(0.6)
    assert batches.batches[1:] == [["/s/c.js"]]


def test_a_steady_trickle_is_still_handed_on_after_the_longest_wait(batches: Batches) -> None:
    for step in range(40):  # a change every 30 ms, never 100 ms of quiet
        batches.at(step * 0.03)
        batches.debounce.add([f"/s/{step:02}.log"])
    # The first batch went at 1.0 s, handed on at the tick at 1.02 s: the changes at 0 to 0.99 s.
    assert batches.batches == [[f"/s/{step:02}.log" for step in range(34)]]


def run_until(loop: EventLoop, predicate: Callable[[], object], timeout: float = 5) -> None:
    """Run the real loop until ``predicate`` holds (never longer than ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the watcher never reported it"
        loop.call_later(0.05, int)  # select wakes at least this often
        loop.run_once()


class Seen:
    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, paths: list[str]) -> None:
        self.paths.extend(paths)


@pytest.fixture
def loop() -> Iterator[EventLoop]:
    loop = EventLoop()
    yield loop
    loop.close()


@needs_inotify
def test_inotify_reports_saves_creations_deletions_and_renames(loop: EventLoop, tmp_path: Path) -> None:
    (tmp_path / "old.html").write_text("old")
    seen = Seen()
    watcher = InotifyWatcher(loop, [str(tmp_path)], seen)
    try:
        (tmp_path / "new.html").write_text("new")
        (tmp_path / "old.html").rename(tmp_path / "renamed.html")
        (tmp_path / "renamed.html").unlink()
        run_until(loop, lambda: str(tmp_path / "renamed.html") in seen.paths and len(set(seen.paths)) == 3)
        assert set(seen.paths) == {str(tmp_path / name) for name in ("new.html", "old.html", "renamed.html")}
    finally:
        watcher.close()


@needs_inotify
def test_inotify_leaves_out_ignored_names_and_watches_new_directories(loop: EventLoop, tmp_path: Path) -> None:
    seen = Seen()
    watcher = InotifyWatcher(loop, [str(tmp_path)], seen)
    try:
        (tmp_path / ".hidden").write_text("x")
        (tmp_path / "page.html.swp").write_text("x")
        (tmp_path / "4913").write_text("x")
        (tmp_path / "docs").mkdir()
        run_until(loop, lambda: str(tmp_path / "docs") in seen.paths)
        (tmp_path / "docs" / "guide.html").write_text("guide")
        run_until(loop, lambda: str(tmp_path / "docs" / "guide.html") in seen.paths)
        # In the kernel's order: the left-out names, written first, would have come before.
        assert set(seen.paths) == {str(tmp_path / "docs"), str(tmp_path / "docs" / "guide.html")}
        assert watcher.directories == 2
    finally:
        watcher.close()


@needs_inotify
def test_inotify_does_not_watch_hidden_directories_nor_follow_a_directory_moved_out(
    loop: EventLoop, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    (root / ".git" / "objects").mkdir(parents=True)
    (root / "assets").mkdir()
    seen = Seen()
    watcher = InotifyWatcher(loop, [str(root)], seen)
    try:
        assert watcher.directories == 2  # the root and assets/, not .git/ nor what is under it
        (root / "assets").rename(tmp_path / "assets")
        run_until(loop, lambda: str(root / "assets") in seen.paths)
        assert watcher.directories == 1
        (tmp_path / "assets" / "elsewhere.css").write_text("p{}")  # no longer in the tree: not seen
        (root / "here.css").write_text("p{}")
        run_until(loop, lambda: str(root / "here.css") in seen.paths)
        assert seen.paths == [str(root / "assets"), str(root / "here.css")]
    finally:
        watcher.close()


class Walk:
    """A PollingWatcher on a fake clock, so a walk starts only when the test moves the clock."""

    def __init__(self, root: Path, interval: float = 0.5) -> None:
        self.clock = FakeClock()
        self.loop = EventLoop(clock=self.clock)
        self.seen = Seen()
        self.interval = interval
        self.watcher = PollingWatcher(self.loop, [str(root)], self.seen, interval=interval)

    def next_walk(self) -> int:
        """Run one whole walk; return the loop iterations it took."""
        self.clock.advance(self.interval)
        iterations = 0
        while True:
            tick(self.loop)
            iterations += 1
            if self.watcher._handle is not None and self.loop.select_timeout() != 0:  # waiting for its timer
                return iterations

    def close(self) -> None:
        self.watcher.close()
        self.loop.close()


def test_the_stat_walk_reports_files_added_changed_and_removed(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.html").write_text("a")
    (tmp_path / "b.css").write_text("b")
    walk = Walk(tmp_path)
    try:
        walk.next_walk()
        assert walk.seen.paths == []  # the first walk only learns the tree
        (tmp_path / "c.js").write_text("c")
        os.utime(tmp_path / "b.css", ns=(0, 10**9))
        (tmp_path / "sub" / "a.html").unlink()
        (tmp_path / ".hidden").write_text("h")
        (tmp_path / "b.css~").write_text("backup")
        walk.next_walk()
        assert sorted(walk.seen.paths) == sorted(str(tmp_path / name) for name in ("c.js", "b.css", "sub/a.html"))
    finally:
        walk.close()


def test_the_stat_walk_takes_a_large_tree_a_slice_per_loop_iteration(tmp_path: Path) -> None:
    for index in range(3 * SLICE):
        (tmp_path / f"{index}.txt").touch()
    walk = Walk(tmp_path)
    try:
        assert walk.next_walk() >= 3  # the loop ran other work between the slices
        (tmp_path / "0.txt").write_text("changed")
        walk.next_walk()
        assert walk.seen.paths == [str(tmp_path / "0.txt")]
    finally:
        walk.close()


@needs_inotify
def test_the_tree_watch_uses_inotify_and_falls_back_to_the_stat_walk_saying_why(
    loop: EventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seen = Seen()
    watch = TreeWatch(loop, [str(tmp_path)], seen)
    assert not watch.polling
    watch.close()

    def refused() -> inotify.Inotify:
        raise OSError(28, "inotify_add_watch: No space left on device")

    monkeypatch.setattr(inotify, "Inotify", refused)
    with caplog.at_level(logging.WARNING, logger="handlers.livereload.treewatch"):
        watch = TreeWatch(loop, [str(tmp_path)], seen)
    try:
        assert watch.polling
        assert "No space left on device" in caplog.text and "stat walk" in caplog.text
    finally:
        watch.close()
