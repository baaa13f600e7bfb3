"""Linux inotify(7) through ctypes: a descriptor the loop watches like a socket, that turns readable
when something changed in a watched directory. ``available()`` says whether this platform has it.

Only what a tree watcher needs: an instance, a watch per directory, and the events read back
(``parse`` is pure, so it is tested on bytes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import sys
from dataclasses import dataclass
from typing import NoReturn

# <sys/inotify.h>
IN_CLOSE_WRITE = 0x00000008  # a file opened for writing was closed: the end of a save
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_Q_OVERFLOW = 0x00004000  # the kernel's queue overflowed: events were lost
IN_IGNORED = 0x00008000  # the watch is gone (its directory was deleted or unmounted)
IN_ONLYDIR = 0x01000000
IN_DONT_FOLLOW = 0x02000000
IN_EXCL_UNLINK = 0x04000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

# What changes a served file: saved, created, deleted, renamed into or out of a directory. Not
# IN_MODIFY, which comes once per write() of a save, nor IN_ATTRIB (chmod, touch of the time only).
CHANGES = IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
_HEADER = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then len bytes of name
READ_SIZE = 64 * 1024  # holds hundreds of events (each at most 16 + NAME_MAX + 1 bytes)


@dataclass(frozen=True, slots=True)
class Event:
    watch: int  # the watch descriptor: which directory
    mask: int
    name: str  # the entry of that directory the event is about; "" for the directory itself


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    except OSError:
        return None
    return libc if hasattr(libc, "inotify_init1") else None


def available() -> bool:
    return _libc() is not None


def parse(data: bytes) -> list[Event]:
    """The events in ``data``, bytes read from an inotify descriptor (whole events only: the kernel
    never splits one across reads)."""
    events = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        watch, mask, _cookie, length = _HEADER.unpack_from(data, offset)
        offset += _HEADER.size
        name = data[offset : offset + length].split(b"\0", 1)[0]
        offset += length
        events.append(Event(watch, mask, os.fsdecode(name)))
    return events


class Inotify:
    """One inotify instance: ``fileno()`` for the loop, ``add`` and ``remove`` watches, ``read`` what
    happened. Raises OSError when the kernel refuses (no instance left: fs.inotify.max_user_instances)."""

    def __init__(self) -> None:
        libc = _libc()
        if libc is None:
            raise OSError("inotify is not available on this platform")
        self._libc = libc
        self._fd: int = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self._fd < 0:
            _raise_errno("inotify_init1")

    def fileno(self) -> int:
        return self._fd

    def add(self, directory: str) -> int:
        """Watch ``directory`` (never through a symlink) for CHANGES; return the watch descriptor.
        Raises OSError (ENOSPC: the fs.inotify.max_user_watches limit; ENOTDIR, ENOENT: it went)."""
        mask = CHANGES | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK
        watch: int = self._libc.inotify_add_watch(self._fd, os.fsencode(directory), mask)
        if watch < 0:
            _raise_errno(f"inotify_add_watch {directory}")
        return watch

    def remove(self, watch: int) -> None:
        """Stop a watch; one the kernel already dropped (IN_IGNORED) is no error."""
        self._libc.inotify_rm_watch(self._fd, watch)

    def read(self) -> list[Event]:
        """The events waiting now (none when there are none)."""
        try:
            return parse(os.read(self._fd, READ_SIZE))
        except BlockingIOError:
            return []

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _raise_errno(what: str) -> NoReturn:
    number = ctypes.get_errno()
    raise OSError(number, f"{what}: {os.strerror(number)}")
