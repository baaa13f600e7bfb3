"""Archives of a directory without sockets: the walk's rules, and the zip and tar.gz streams read back
by the standard library's zipfile and tarfile, member by member."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from handlers.static.archive import PIECE, ArchiveError, Member, tar_gz_stream, walk, zip_stream


def tree(root: Path) -> Path:
    """A folder with nested directories, an empty one, a large file, dot names, symlinks in and out,
    a loop, a FIFO and a file dated before zip's epoch."""
    top = root / "top"
    (top / "docs" / "deeper").mkdir(parents=True)
    (top / "empty").mkdir()
    (top / "docs" / "a.txt").write_text("a\n")
    (top / "docs" / "deeper" / "big.bin").write_bytes(os.urandom(3 * PIECE + 17))
    (top / "caf\u00e9.txt").write_text("utf-8 name\n")
    (top / "old.txt").write_text("1970\n")
    os.utime(top / "old.txt", (86400, 86400))
    (top / ".env").write_text("SECRET=1\n")
    (top / ".git").mkdir()
    (top / ".git" / "config").write_text("[core]\n")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    os.symlink(outside / "secret.txt", top / "link-out.txt")
    os.symlink(top / "docs" / "a.txt", top / "link-in.txt")
    os.symlink(top, top / "docs" / "loop")  # back to an ancestor
    os.mkfifo(top / "pipe")
    return top


def inside(root: Path) -> Callable[[str], bool]:
    """The static handler's rule without --follow-symlinks: the real path stays under the root."""
    real_root = os.path.realpath(root)
    return lambda path: os.path.realpath(path).startswith(real_root + os.sep)


def names(members: list[Member]) -> list[str]:
    return [member.name + ("/" if member.is_dir else "") for member in members]


def expected_files(top: Path, name: str, hidden: bool) -> dict[str, bytes]:
    """Every regular file under ``top`` that a listing would show, as an archive names it, with its bytes."""
    found = {}
    for path in sorted(top.rglob("*")):
        relative = path.relative_to(top)
        if "loop" in relative.parts or path.is_fifo() or path.is_dir():
            continue
        if not hidden and any(part.startswith(".") for part in relative.parts):
            continue
        if path.name == "link-out.txt":
            continue
        found[f"{name}/{relative.as_posix()}"] = path.read_bytes()
    return found


def test_the_walk_follows_the_listing_s_rules(tmp_path: Path) -> None:
    top = tree(tmp_path)
    members = list(walk(str(top), "top", show_hidden=False, allowed=inside(tmp_path / "top")))
    assert names(members) == [
        "top/",
        "top/docs/",
        "top/docs/deeper/",
        "top/docs/deeper/big.bin",
        "top/docs/a.txt",
        "top/empty/",
        "top/caf\u00e9.txt",
        "top/link-in.txt",
        "top/old.txt",
        "top/pipe",  # listed, but not a regular file: the streams leave it out
    ]


def test_hidden_names_and_symlinks_out_with_the_flags_that_allow_them(tmp_path: Path) -> None:
    top = tree(tmp_path)
    members = names(list(walk(str(top), "top", show_hidden=True, allowed=None)))
    assert {"top/.env", "top/.git/", "top/.git/config", "top/link-out.txt"} <= set(members)
    assert not [name for name in members if "/loop" in name], "a loop is walked once"


@pytest.mark.parametrize("hidden", [False, True])
def test_a_zip_holds_the_tree_file_by_file(tmp_path: Path, hidden: bool) -> None:
    top = tree(tmp_path)
    allowed = None if hidden else inside(top)
    pieces = list(zip_stream(walk(str(top), "top", show_hidden=hidden, allowed=allowed)))
    assert max(len(piece) for piece in pieces) < 2 * PIECE, "made a piece at a time"
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive:
        assert archive.testzip() is None  # every CRC matches
        files = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
        expected = expected_files(top, "top", hidden)
        if hidden:
            expected["top/link-out.txt"] = b"secret\n"
        assert files == expected
        folders = {info.filename for info in archive.infolist() if info.is_dir()}
        assert {"top/", "top/docs/", "top/docs/deeper/", "top/empty/"} <= folders
        assert archive.getinfo("top/old.txt").date_time == (1980, 1, 1, 0, 0, 0)  # zip starts in 1980
        assert archive.getinfo("top/docs/a.txt").external_attr >> 16 == os.stat(top / "docs" / "a.txt").st_mode


@pytest.mark.parametrize("hidden", [False, True])
def test_a_tar_gz_holds_the_tree_file_by_file(tmp_path: Path, hidden: bool) -> None:
    top = tree(tmp_path)
    allowed = None if hidden else inside(top)
    data = b"".join(tar_gz_stream(walk(str(top), "top", show_hidden=hidden, allowed=allowed)))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        members = archive.getmembers()
        files = {}
        for member in members:
            if member.isfile():
                extracted = archive.extractfile(member)
                assert extracted is not None
                files[member.name] = extracted.read()
        expected = expected_files(top, "top", hidden)
        if hidden:
            expected["top/link-out.txt"] = b"secret\n"
        assert files == expected
        assert {"top", "top/docs", "top/empty"} <= {member.name for member in members if member.isdir()}
        assert archive.getmember("top/old.txt").mtime == 86400
    assert len(data) > 3 * PIECE, "random bytes do not shrink"


def test_a_zip_entry_past_the_zip64_limit_gets_zip64_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 4 GiB of data is too slow for the suite: lower zipfile's limit so a small file crosses it. The
    # entry is then written exactly as a 5 GiB one would be (ZIP64 local header and data descriptor).
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 1000)
    (tmp_path / "top").mkdir()
    content = os.urandom(5000)
    (tmp_path / "top" / "large.bin").write_bytes(content)
    data = b"".join(zip_stream(walk(str(tmp_path / "top"), "top", show_hidden=False, allowed=None)))
    local_header = data.index(b"PK\x03\x04" + b"\x2d\x00", 30)  # version 4.5 needed: ZIP64
    assert data[local_header + 30 : local_header + 30 + len("top/large.bin")] == b"top/large.bin"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("top/large.bin") == content


def test_a_file_that_shrinks_while_archived_cuts_the_archive(tmp_path: Path) -> None:
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "shrinking.bin").write_bytes(os.urandom(4 * PIECE))
    stream = tar_gz_stream(walk(str(tmp_path / "top"), "top", show_hidden=False, allowed=None))
    next(stream)  # the header and the first piece are written
    os.truncate(tmp_path / "top" / "shrinking.bin", 10)
    with pytest.raises(ArchiveError, match="shrank"):
        list(stream)


def test_closing_the_stream_closes_the_file_it_reads(tmp_path: Path) -> None:
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "big.bin").write_bytes(os.urandom(4 * PIECE))
    before = len(os.listdir("/proc/self/fd"))
    stream = zip_stream(walk(str(tmp_path / "top"), "top", show_hidden=False, allowed=None))
    next(stream)
    assert len(os.listdir("/proc/self/fd")) == before + 1
    stream.close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_an_unreadable_top_directory_raises_before_any_byte(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        next(zip_stream(walk(str(tmp_path / "gone"), "gone", show_hidden=False, allowed=None)))
