"""Watching the served trees for changes (``--live-reload``), on the loop and never blocking it.

``TreeWatch`` reports each burst of changes once, as a list of paths: a save that writes three
files, or an editor's write-then-rename, is one batch, handed on DEBOUNCE seconds after its last
change (or LONGEST after its first, so a steady trickle still shows). On Linux the kernel tells
(inotify, one watch per directory, its descriptor registered with the loop like a socket); elsewhere
a stat walk runs every POLL_INTERVAL seconds, a slice of at most SLICE entries per loop iteration.
Dotfiles, editors' temporary files and bytecode caches are left out (``ignored``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence

from handlers.livereload import inotify
from reactor.loop.deadline import Deadline
from reactor.loop.eventloop import EVENT_READ, EventLoop
from reactor.loop.timers import Handle

logger = logging.getLogger(__name__)

DEBOUNCE = 0.1  # seconds without a change that end a batch (live-server waits 100 ms too)
LONGEST = 1.0  # and the most a batch waits after its first change
POLL_INTERVAL = 0.5  # seconds between two stat walks where there is no inotify
SLICE = 500  # directory entries the stat walk looks at per loop iteration

OnChange = Callable[[list[str]], object]

# Editors' temporary and backup files: vim's swap files and its write test "4913", Emacs's "#name#"
# and "name~", Kate's swap, JetBrains' safe-write copies, and the ".tmp" of many atomic savers. Dot
# names (vim's ".name.swp", Emacs's ".#name", gedit's ".goutputstream-*") are hidden anyway.
_TEMPORARY = re.compile(r"#.*#|.*~|4913|.*\.(?:sw[a-px]|tmp|kate-swp)|.*___jb_(?:tmp|old)___", re.DOTALL)
_CACHES = frozenset({"__pycache__"})  # Python writes bytecode there when a --wsgi app imports


def ignored(name: str) -> bool:
    """Whether a change to the file or directory ``name`` (one path segment) is left out."""
    return name.startswith(".") or name in _CACHES or _TEMPORARY.fullmatch(name) is not None


class TreeWatch:
    """The trees under ``roots`` watched on ``loop``: ``on_change(paths)`` once per burst of changes.
    inotify where the platform has it and it can watch every directory, else the stat walk (the log
    says which, and why)."""

    def __init__(self, loop: EventLoop, roots: Sequence[str], on_change: OnChange) -> None:
        self._batch = Debounce(loop, on_change)
        self._source: InotifyWatcher | PollingWatcher
        if inotify.available():
            try:
                self._source = InotifyWatcher(loop, roots, self._batch.add)
            except OSError as error:
                logger.warning("live reload: no inotify (%s): a stat walk every %g s instead", error, POLL_INTERVAL)
            else:
                logger.info("live reload: watching with inotify (directories: %d)", self._source.directories)
                return
        self._source = PollingWatcher(loop, roots, self._batch.add)

    @property
    def polling(self) -> bool:
        """The stat walk watches, not inotify."""
        return isinstance(self._source, PollingWatcher)

    @property
    def pending(self) -> bool:
        """Changes seen wait to be handed on."""
        return self._batch.pending

    def close(self) -> None:
        self._source.close()
        self._batch.close()


class Debounce:
    """Collects changed paths and hands them to ``on_change`` as one sorted list, ``quiet`` seconds
    after the last one came, or ``longest`` seconds after the first."""

    def __init__(self, loop: EventLoop, on_change: OnChange, quiet: float = DEBOUNCE, longest: float = LONGEST) -> None:
        self._loop = loop
        self._on_change = on_change
        self._quiet = quiet
        self._longest = longest
        self._paths: set[str] = set()
        self._first = 0.0
        self._deadline = Deadline(loop, self._fire)

    @property
    def pending(self) -> bool:
        """Changes wait to be handed on."""
        return bool(self._paths)

    def add(self, paths: Sequence[str]) -> None:
        if not paths:
            return
        now = self._loop.time()
        if not self._paths:
            self._first = now
        self._paths.update(paths)
        self._deadline.set(min(self._quiet, self._first + self._longest - now))

    def close(self) -> None:
        """Drop what waits: nothing is handed on any more."""
        self._paths.clear()
        self._deadline.clear()

    def _fire(self) -> None:
        paths, self._paths = sorted(self._paths), set()
        self._on_change(paths)


def _directories(top: str) -> Iterator[str]:
    """``top`` and the directories under it that are not ignored, symlinks not followed."""
    for directory, subdirectories, _files in os.walk(top):
        subdirectories[:] = [name for name in subdirectories if not ignored(name)]
        yield directory


class InotifyWatcher:
    """A watch on every directory of the trees; a new directory is watched as it appears. Each read of
    the descriptor hands the changed paths to ``on_change`` (undebounced). Raises OSError when inotify
    cannot watch every directory at the start (the watch limit, fs.inotify.max_user_watches)."""

    def __init__(self, loop: EventLoop, roots: Sequence[str], on_change: OnChange) -> None:
        self._loop = loop
        self._on_change = on_change
        self._inotify = inotify.Inotify()
        self._directories: dict[int, str] = {}  # watch descriptor -> directory
        try:
            for root in roots:
                for directory in _directories(root):
                    self._directories[self._inotify.add(directory)] = directory
        except OSError:
            self._inotify.close()
            raise
        loop.register(self._inotify.fileno(), EVENT_READ, self._on_readable, None)

    @property
    def directories(self) -> int:
        """How many directories are watched."""
        return len(self._directories)

    def close(self) -> None:
        if self._inotify.fileno() >= 0:
            self._loop.unregister(self._inotify.fileno())
            self._inotify.close()

    def _on_readable(self) -> None:
        changed: dict[str, None] = {}  # in the kernel's order, each path once
        for event in self._inotify.read():
            if event.mask & inotify.IN_Q_OVERFLOW:
                # Events were lost: which files changed is unknown, but something did.
                changed.update(dict.fromkeys(self._directories.values()))
                continue
            directory = self._directories.get(event.watch)
            if directory is None:
                continue
            if event.mask & inotify.IN_IGNORED:
                del self._directories[event.watch]
                continue
            if ignored(event.name):
                continue
            path = os.path.join(directory, event.name)
            if event.mask & inotify.IN_ISDIR:
                if event.mask & (inotify.IN_CREATE | inotify.IN_MOVED_TO):
                    self._watch_new(path)
                elif event.mask & inotify.IN_MOVED_FROM:
                    self._forget(path)  # its watches would report it under its old name
            changed[path] = None
        if changed:
            self._on_change(list(changed))

    def _watch_new(self, top: str) -> None:
        """Watch a directory that appeared, and what it holds already (made before its watch was)."""
        for directory in _directories(top):
            try:
                self._directories[self._inotify.add(directory)] = directory
            except OSError as error:
                logger.warning("live reload: changes under %s go unseen: %s", directory, error)

    def _forget(self, top: str) -> None:
        prefix = top + os.sep
        for watch, directory in list(self._directories.items()):
            if directory == top or directory.startswith(prefix):
                self._inotify.remove(watch)
                del self._directories[watch]


# What the stat walk compares of each file: inode, size, modification time in nanoseconds.
Identity = tuple[int, int, int]


class PollingWatcher:
    """Every ``interval`` seconds, a stat walk of the trees compared with the previous one; the paths
    of files added, removed or changed go to ``on_change``. The walk goes SLICE entries per loop
    iteration, so a large tree costs time but never holds the loop."""

    def __init__(
        self, loop: EventLoop, roots: Sequence[str], on_change: OnChange, interval: float = POLL_INTERVAL
    ) -> None:
        self._loop = loop
        self._roots = list(roots)
        self._on_change = on_change
        self._interval = interval
        self._known: dict[str, Identity] | None = None  # the last complete walk's files
        self._seen: dict[str, Identity] = {}  # this walk's so far
        self._pending: list[str] = []  # directories this walk has still to read
        self._entries: Iterator[os.DirEntry[str]] | None = None  # the rest of the directory being read
        self._handle: Handle | None = None
        self._start()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _start(self) -> None:
        self._seen = {}
        self._pending = list(reversed(self._roots))
        self._step()

    def _step(self) -> None:
        budget = SLICE
        while budget > 0:
            budget -= 1
            if self._entries is None:
                if not self._pending:
                    self._finish()
                    return
                try:
                    with os.scandir(self._pending.pop()) as entries:
                        self._entries = iter(list(entries))
                except OSError:
                    pass  # it went since its parent was read
                continue
            entry = next(self._entries, None)
            if entry is None:
                self._entries = None
            elif not ignored(entry.name):
                self._look_at(entry)
        self._handle = self._loop.call_soon(self._step)

    def _look_at(self, entry: os.DirEntry[str]) -> None:
        try:
            if entry.is_dir(follow_symlinks=False):
                self._pending.append(entry.path)
            else:
                info = entry.stat(follow_symlinks=False)
                self._seen[entry.path] = (info.st_ino, info.st_size, info.st_mtime_ns)
        except OSError:
            pass  # it went since the directory was read

    def _finish(self) -> None:
        known, self._known = self._known, self._seen
        if known is not None:
            seen = self._seen
            changed = [path for path in seen.keys() | known.keys() if seen.get(path) != known.get(path)]
            if changed:
                self._on_change(changed)
        self._handle = self._loop.call_later(self._interval, self._start)
