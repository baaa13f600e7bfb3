"""A directory as one download: its tree walked with the listing's rules and written as a zip or a
gzip-compressed tar, a piece at a time. Pure generators of bytes: no sockets; archiveanswer.py sends
them.

Nothing is held whole: a file is read a piece at a time and each piece goes out as soon as the
archive around it allows (zip and tar both put a member's header before its data), so memory stays at
one piece whatever the tree's size. What the walk takes is what the listings show: no dot names
unless ``show_hidden``, no symlink that ``allowed`` refuses (one leading out of the root, unless
symlinks may lead anywhere), only directories and regular files, and no directory twice on one path
(a symlink back to an ancestor would be a loop).
"""

from __future__ import annotations

import os
import stat
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from handlers.static import listing
from handlers.static.files import open_regular

PIECE = 256 * 1024  # bytes read from a file, and bytes of archive gathered before they are handed on
GZIP_LEVEL = 6  # handlers.static.compression's level: half the size of text for little CPU


class ArchiveError(Exception):
    """The tree changed under the walk in a way the archive cannot carry (a file that shrank)."""


@dataclass(frozen=True)
class Member:
    """One entry of the archive: its name there (``/``-separated, under the top folder) and where it is."""

    name: str
    path: str
    is_dir: bool


def walk(directory: str, top: str, *, show_hidden: bool, allowed: Callable[[str], bool] | None) -> Iterator[Member]:
    """The members of an archive of ``directory`` named ``top``: the directory itself, then what it
    holds, each directory before its contents, names in the listing's order. Raises OSError when
    ``directory`` cannot be read; a directory below it that cannot be read is left out, as an
    entry that vanished is."""
    rules = _Rules(show_hidden, allowed)
    entries = rules.scan(directory)
    yield Member(top, directory, True)
    yield from _contents(directory, top, entries, rules, frozenset({_identity(directory)}))


@dataclass(frozen=True)
class _Rules:
    """What a listing leaves out, applied to every directory of the tree."""

    show_hidden: bool
    allowed: Callable[[str], bool] | None

    def scan(self, directory: str) -> list[listing.Entry]:
        """The entries of ``directory`` in the listing's order. Raises OSError."""
        found = listing.scan(directory, show_hidden=self.show_hidden, allowed=self.allowed)
        return listing.sort_entries(found, listing.Order())


def _contents(
    directory: str, name: str, entries: list[listing.Entry], rules: _Rules, ancestors: frozenset[tuple[int, int]]
) -> Iterator[Member]:
    for entry in entries:
        path = os.path.join(directory, entry.name)
        member = Member(f"{name}/{entry.name}", path, entry.is_dir)
        if not entry.is_dir:
            yield member
            continue
        try:
            identity = _identity(path)
            if identity in ancestors:
                continue  # a symlink to a directory it is inside of: a loop
            inner = rules.scan(path)
        except OSError:
            continue  # unreadable, or gone since its directory was read
        yield member
        yield from _contents(path, member.name, inner, rules, ancestors | {identity})


def _identity(path: str) -> tuple[int, int]:
    """What tells directories apart, however they are reached. Raises OSError."""
    info = os.stat(path)
    return info.st_dev, info.st_ino


def _read_exactly(file: BinaryIO, size: int, name: str) -> Iterator[bytes]:
    """``size`` bytes of ``file`` a piece at a time: the size it had when the header was written.
    Raises ArchiveError when the file ends sooner (it shrank while archived); what it gained since
    is left out."""
    left = size
    while left:
        piece = file.read(min(PIECE, left))
        if not piece:
            raise ArchiveError(f"{name} shrank while it was archived")
        left -= len(piece)
        yield piece


class _Sink:
    """Where zipfile and gzip write: bytes wait here until the generator hands them on."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes, /) -> int:
        self.buffer += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def zip_stream(members: Iterator[Member]) -> Generator[bytes, None, None]:
    """A zip of ``members``, in pieces of about PIECE bytes. Files are stored (not compressed: most
    large files, photos, videos, archives, do not shrink, and the CPU stays free), each followed by a
    data descriptor with its CRC and sizes, as a zip written without seeking must be. A member over
    4 GiB, or one starting beyond 4 GiB into the archive, gets ZIP64 fields (zipfile decides from the
    size given), which every current unzip reads."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for member in members:
            name = _text(member.name)
            if member.is_dir:
                archive.writestr(_zip_info(name + "/", os.stat(member.path)), b"")
                continue
            opened = _open(member)
            if opened is None:
                continue
            file, info = opened
            with file, archive.open(_zip_info(name, info), "w") as entry:
                for piece in _read_exactly(file, info.st_size, member.name):
                    entry.write(piece)
                    if len(sink.buffer) >= PIECE:
                        yield sink.take()
            if len(sink.buffer) >= PIECE:
                yield sink.take()
    yield sink.take()  # the central directory


def _zip_info(name: str, info: os.stat_result) -> zipfile.ZipInfo:
    """A zip entry for ``name`` from its stat: time (clamped to what zip can say), mode and size."""
    stamp = time.localtime(info.st_mtime)[:6]
    stamp = max(min(stamp, (2107, 12, 31, 23, 59, 59)), (1980, 1, 1, 0, 0, 0))
    entry = zipfile.ZipInfo(name, stamp)
    entry.external_attr = (info.st_mode & 0xFFFF) << 16
    if stat.S_ISDIR(info.st_mode):
        entry.external_attr |= 0x10  # MS-DOS directory attribute
    else:
        entry.file_size = info.st_size  # over 4 GiB: ZIP64 from the start
        if info.st_size * 1.05 > zipfile.ZIP64_LIMIT:
            # Say so in "version needed" too: zipfile before 3.11 writes the ZIP64 fields of a streamed
            # entry but leaves the version at 2.0, which stricter readers refuse.
            entry.extract_version = max(entry.extract_version, zipfile.ZIP64_VERSION)
    return entry


def tar_gz_stream(members: Iterator[Member]) -> Generator[bytes, None, None]:
    """A gzip-compressed POSIX (pax) tar of ``members``, in pieces of about PIECE bytes."""
    sink = _Sink()
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    tar_size = 0

    def add(data: bytes) -> None:
        nonlocal tar_size
        tar_size += len(data)
        sink.write(compressor.compress(data))

    for member in members:
        if member.is_dir:
            add(_tar_header(member.name, os.stat(member.path)))
            continue
        opened = _open(member)
        if opened is None:
            continue
        file, info = opened
        with file:
            add(_tar_header(member.name, info))
            for piece in _read_exactly(file, info.st_size, member.name):
                add(piece)
                if len(sink.buffer) >= PIECE:
                    yield sink.take()
            add(bytes(-info.st_size % tarfile.BLOCKSIZE))  # data is padded to whole blocks
        if len(sink.buffer) >= PIECE:
            yield sink.take()
    # Two zero blocks end the archive, padded to a whole record as tar and tarfile write it.
    add(bytes(2 * tarfile.BLOCKSIZE))
    add(bytes(-tar_size % tarfile.RECORDSIZE))
    sink.write(compressor.flush())
    yield sink.take()


def _tar_header(name: str, info: os.stat_result) -> bytes:
    entry = tarfile.TarInfo(name)
    entry.mtime = int(info.st_mtime)
    entry.mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISDIR(info.st_mode):
        entry.type = tarfile.DIRTYPE
    else:
        entry.size = info.st_size
    # pax headers carry long names, large sizes and UTF-8; a name that is not UTF-8 keeps its bytes.
    return entry.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _open(member: Member) -> tuple[BinaryIO, os.stat_result] | None:
    """The member's file opened as a single file is (never blocking on a FIFO), or None when it is
    not a regular file or is gone. Raises OSError when it cannot be read."""
    try:
        return open_regular(member.path)
    except FileNotFoundError:
        return None


def _text(name: str) -> str:
    """``name`` as zip can hold it: bytes of a name that are not UTF-8 become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass(frozen=True)
class Format:
    suffix: str
    content_type: str
    stream: Callable[[Iterator[Member]], Generator[bytes, None, None]]


# By the value of ``?download=``.
FORMATS = {
    "zip": Format(".zip", "application/zip", zip_stream),
    "tar.gz": Format(".tar.gz", "application/gzip", tar_gz_stream),
}
