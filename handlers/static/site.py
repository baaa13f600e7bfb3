"""The served tree as one object: where it is on disk, the URL path it is mounted at, and the rules that
decide what a request path names. Every part of static serving asks it (the file cache, file answers,
listings, error pages, uploads), so the rules live in one place:

- request paths are parsed by handlers.static.paths (no "..", no encoded separators, no NUL);
- names starting with "." are private unless ``show_hidden`` (a leading ``.well-known`` excepted);
- unless ``follow_symlinks``, the real path of anything served (symlinks followed: a file, an index, a
  precompressed sibling, a listed entry) must lie inside the root.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence

from handlers.static.paths import Located, PathError, RequestPath, parse_request_path

INDEX_FILES = ("index.html", "index.htm")


class Site:
    """The files under ``root``, served at the URL path ``mount``."""

    __slots__ = ("root", "mount", "show_hidden", "follow_symlinks", "_root_prefix")

    def __init__(
        self, root: str, *, mount: str = "/", show_hidden: bool = False, follow_symlinks: bool = False
    ) -> None:
        self.root = os.path.realpath(root)
        self.mount = tuple(segment for segment in mount.split("/") if segment)
        self.show_hidden = show_hidden
        self.follow_symlinks = follow_symlinks
        self._root_prefix = self.root.rstrip(os.sep) + os.sep

    def __repr__(self) -> str:
        return f"<Site {self.root} at /{'/'.join(self.mount)}>"

    def place(self, raw_path: str) -> tuple[RequestPath, tuple[str, ...]]:
        """The parsed request path and its segments under the root. Raises PathError (404 outside
        the mount point)."""
        path = parse_request_path(raw_path)
        mount = self.mount
        if path.segments[: len(mount)] != mount:
            raise PathError(404, "not found")  # after normalising, the path left the mount point
        return path, path.segments[len(mount) :]

    def locate(self, raw_path: str) -> Located:
        """What a request path names: the parsed path, its location under the root, that location
        with symlinks resolved, and its stat. Raises PathError (404 for a private name) or OSError."""
        path, segments = self.place(raw_path)
        if not self.show_hidden and hidden(segments):
            raise PathError(404, "not found")  # as if absent: its existence is private too
        requested = os.path.join(self.root, *segments)
        real = self.resolve(requested)
        return Located(path, requested, real, os.stat(real))

    def target(self, raw_path: str) -> Located:
        """What a request path is answered with: as ``locate``, but for a directory named with a
        trailing slash that has an index file, that file. Still a directory: a redirect (no slash)
        or a listing. Raises PathError (also 404 for a file named with a trailing slash) or OSError."""
        path, requested, real, info = self.locate(raw_path)
        if stat.S_ISDIR(info.st_mode):
            if path.trailing_slash:
                index = self.find_index(requested)
                if index is not None:
                    requested, real, info = index
        elif path.trailing_slash:
            raise PathError(404, "not a directory")  # /file.txt/ names no directory
        return Located(path, requested, real, info)

    def find_index(self, requested: str) -> tuple[str, str, os.stat_result] | None:
        """The index file of a directory as its (requested, real) paths and stat, or None."""
        for name in INDEX_FILES:
            index = os.path.join(requested, name)
            try:
                index_real = self.resolve(index)
                info = os.stat(index_real)
            except (PathError, OSError):
                continue
            if stat.S_ISREG(info.st_mode):
                return index, index_real, info
        return None

    def resolve(self, path: str) -> str:
        """``path`` with symlinks resolved. Raises PathError(403) if that leaves the root, unless
        symlinks may lead anywhere (then ``path`` itself is returned: the kernel follows them)."""
        if self.follow_symlinks:
            return path
        real = os.path.realpath(path)
        if real != self.root and not real.startswith(self._root_prefix):
            raise PathError(403, "the path leads outside the served directory")
        return real

    def may_serve(self, path: str) -> bool:
        """Whether ``path`` (under the root) resolves inside it: what a listing shows."""
        try:
            self.resolve(path)
        except PathError:
            return False
        return True

    def configured_file(self, url_path: str, what: str) -> str:
        """The path under the root of a file named on the command line, checked now so a typo fails at
        start rather than on the first error. Hidden names are allowed: the user chose this one.
        Raises ValueError."""
        try:
            path = parse_request_path(url_path)
            candidate = os.path.join(self.root, *path.segments)
            if os.path.isfile(self.resolve(candidate)) and not path.trailing_slash:
                return candidate
        except PathError:
            pass
        raise ValueError(f"{what}: {url_path!r} is not a file in {self.root}")


def hidden(segments: Sequence[str]) -> bool:
    """True when a segment is a dot name (.git, .env), except a leading ``.well-known``: RFC 8615 made
    that directory for things that must be fetched (ACME challenges, security.txt)."""
    for index, segment in enumerate(segments):
        if segment.startswith(".") and not (index == 0 and segment == ".well-known"):
            return True
    return False
