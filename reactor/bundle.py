"""``python -m reactor.bundle [FILE]``: the whole server as one file, a zip application
(``python -m zipapp``) that any Python 3.10+ runs from any directory, with nothing installed:
``python3 reactor.pyz`` serves the current directory as ``python -m reactor`` does.

It holds the two packages the server is made of, ``reactor`` and ``handlers`` (their modules and
the pages' stylesheets and scripts), and nothing else: the standard library is all they import.
"""

from __future__ import annotations

import sys
import zipapp
from pathlib import Path

PROG = "python -m reactor.bundle"
HELP = f"""usage: {PROG} [FILE]

Write the whole server as one file, FILE (default: reactor.pyz), which any Python 3.10 or newer
runs from any directory with nothing installed: python3 reactor.pyz serves the current directory,
with the options of python -m reactor."""
PACKAGES = ("reactor", "handlers")
_SOURCE = Path(__file__).resolve().parents[1]  # the folder holding both packages (the clone, or site-packages)


def _included(path: Path) -> bool:
    """Whether a path under _SOURCE goes into the bundle: the packages, without compiled files."""
    return path.parts[0] in PACKAGES and "__pycache__" not in path.parts and path.suffix != ".pyc"


def build(target: Path) -> None:
    """Write the bundle to ``target``, executable, with a ``#!/usr/bin/env python3`` line."""
    zipapp.create_archive(
        _SOURCE,
        target,
        interpreter="/usr/bin/env python3",
        main="reactor.__main__:main",
        filter=_included,
        compressed=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(HELP)
        return 0
    if len(args) > 1:
        print(f"{PROG}: error: give at most one FILE", file=sys.stderr)
        return 2
    target = Path(args[0] if args else "reactor.pyz").expanduser()
    try:
        build(target)
    except OSError as error:
        print(f"{PROG}: error: cannot write {str(target)!r}: {error.strerror}", file=sys.stderr)
        return 2
    print(f"{target}: run it with python3 {target} in the folder to serve (options as python -m reactor)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
