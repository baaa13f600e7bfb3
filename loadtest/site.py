"""A deterministic test site: ``python -m loadtest.site DIR``.

Everything is derived from one seed, so two builds with the same seed are byte for byte the same and a
load generator anywhere can check what it receives without a copy of the files:

    index.html, pages/page-NN.html   HTML pages; each links a stylesheet, scripts and images
    assets/*.css, assets/*.js        text assets, each with .gz (and .br when brotli is installed) siblings
    images/*.png                     noise PNGs of several sizes (1 KiB to 512 KiB)
    data/{1KiB,64KiB,1MiB,100MiB}.bin  fixed-size blobs; any byte range of them can be recomputed locally
    data/64KiB.txt                   text with no precompressed sibling, for compression on the fly
    listing/                         1,000 small files and no index: the server answers with a listing
    manifest.json                    every file's path, size and sha256, and which paths play which role

The manifest is served with the site, so a load generator reads it from the server under test.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import struct
import sys
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

FORMAT = 2  # bump when the layout or the content generation changes
SEED = 20261121
MANIFEST = "manifest.json"
MARKER = ".loadtest-site"  # written first, so a half-built site is recognised and rebuilt
KiB = 1024
MiB = 1024 * KiB
BLOCK = 64 * KiB  # blobs are made of independently seeded blocks: any range is cheap to recompute
BLOBS = {
    "/data/1KiB.bin": 1 * KiB,
    "/data/64KiB.bin": 64 * KiB,
    "/data/1MiB.bin": 1 * MiB,
    "/data/100MiB.bin": 100 * MiB,
}
LARGE = "/data/100MiB.bin"
# Text without precompressed siblings: what compression on the fly (--compress) is for.
COMPRESSIBLE = "/data/64KiB.txt"
COMPRESSIBLE_SIZE = 64 * KiB
LISTING = "/listing/"
LISTING_FILES = 1000
MISSING = "/missing/"  # nothing under this prefix exists: requests there must get 404
PAGES = 50
IMAGE_SIDES = {"1k": 18, "8k": 52, "64k": 146, "512k": 413}  # RGB noise: about side * side * 3 bytes
IMAGES_PER_SIZE = 5
STYLESHEETS = 4
SCRIPTS = 6


class SiteError(Exception):
    """The directory cannot hold a site, or the manifest is not one we understand."""


@dataclass(frozen=True)
class FileEntry:
    path: str  # URL path, starting with "/"
    size: int
    sha256: str  # hex
    encodings: dict[str, str]  # content coding -> URL path of the precompressed sibling


@dataclass(frozen=True)
class Manifest:
    seed: int
    files: dict[str, FileEntry]
    pages: list[str]
    assets: list[str]  # stylesheets and scripts: the text assets with precompressed siblings
    images: list[str]
    blobs: list[str]
    large: str
    listing: str
    listing_names: list[str]
    missing: str

    def to_json(self) -> str:
        files = [
            {"path": e.path, "size": e.size, "sha256": e.sha256, **({"encodings": e.encodings} if e.encodings else {})}
            for e in self.files.values()
        ]
        document = {
            "format": FORMAT,
            "seed": self.seed,
            "pages": self.pages,
            "assets": self.assets,
            "images": self.images,
            "blobs": self.blobs,
            "large": self.large,
            "listing": {"path": self.listing, "names": self.listing_names},
            "missing": self.missing,
            "files": files,
        }
        return json.dumps(document, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        """Raises SiteError for anything that is not a manifest of this format."""
        try:
            document = json.loads(text)
            if document.get("format") != FORMAT:
                raise SiteError(f"manifest format {document.get('format')!r}, expected {FORMAT}")
            files = {
                item["path"]: FileEntry(item["path"], int(item["size"]), item["sha256"], item.get("encodings", {}))
                for item in document["files"]
            }
            return cls(
                seed=int(document["seed"]),
                files=files,
                pages=list(document["pages"]),
                assets=list(document["assets"]),
                images=list(document["images"]),
                blobs=list(document["blobs"]),
                large=document["large"],
                listing=document["listing"]["path"],
                listing_names=list(document["listing"]["names"]),
                missing=document["missing"],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise SiteError(f"not a loadtest manifest: {error}") from None


def fetch_manifest(host: str, timeout: float) -> Manifest:
    """The manifest the server at ``host`` (http://HOST:PORT) serves. Raises SiteError when it cannot be
    read or is not one."""
    url = f"{host.rstrip('/')}/{MANIFEST}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return Manifest.from_json(response.read())
    except OSError as error:
        raise SiteError(f"cannot read {url}: {error}") from None


def blob_block(seed: int, path: str, index: int) -> bytes:
    """Block ``index`` of the blob at ``path`` (BLOCK bytes; the caller trims the last one)."""
    # A str seed goes through SHA-512 (random.seed version 2): the same bytes on every run and machine.
    return random.Random(f"{seed}:{path}:{index}").randbytes(BLOCK)


def blob_range(seed: int, path: str, start: int, stop: int) -> bytes:
    """Bytes ``start`` to ``stop`` (exclusive) of the blob at ``path``, computed without the file."""
    first, last = start // BLOCK, (stop - 1) // BLOCK
    data = b"".join(blob_block(seed, path, index) for index in range(first, last + 1))
    return data[start - first * BLOCK : stop - first * BLOCK]


def _blob_chunks(seed: int, path: str, size: int) -> Iterator[bytes]:
    for index in range((size + BLOCK - 1) // BLOCK):
        yield blob_block(seed, path, index)[: size - index * BLOCK]


def _png(rng: random.Random, side: int) -> bytes:
    """A valid RGB PNG of noise (so it does not compress): PNG spec chunks IHDR, IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + rng.randbytes(side * 3) for _ in range(side))  # filter byte 0 per row
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)  # 8-bit depth, colour type 2 (RGB)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def _text(rng: random.Random, size: int) -> bytes:
    """Exactly ``size`` bytes of lines of words: prose compresses about as well as HTML or CSS."""
    lines = []
    length = 0
    while length < size:
        line = _words(rng, rng.randint(8, 16)) + "\n"
        lines.append(line)
        length += len(line)
    return "".join(lines).encode()[:size]


def _words(rng: random.Random, count: int) -> str:
    syllables = ["ka", "lo", "mi", "ren", "sta", "vu", "tor", "el", "qui", "dan", "ro", "sel", "nu", "pa", "zi"]
    return " ".join("".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(count))


def _stylesheet(rng: random.Random, number: int) -> bytes:
    rules = []
    for index in range(rng.randint(150, 900)):
        name = _words(rng, 1).replace(" ", "-")
        rules.append(
            f".{name}-{index} {{ margin: {rng.randint(0, 40)}px; color: #{rng.randrange(1 << 24):06x}; "
            f"font-size: {rng.randint(10, 32)}px; }}"
        )
    return f"/* loadtest stylesheet {number} */\n{chr(10).join(rules)}\n".encode()


def _script(rng: random.Random, number: int) -> bytes:
    functions = []
    for index in range(rng.randint(80, 600)):
        words = _words(rng, rng.randint(3, 12))
        functions.append(f"function f{number}_{index}(x) {{ return x + {rng.randint(0, 999)}; }} // {words}")
    return f"// loadtest script {number}\n{chr(10).join(functions)}\n".encode()


def _page(rng: random.Random, number: int, stylesheet: str, scripts: list[str], images: list[str]) -> bytes:
    paragraphs = "\n".join(f"<p>{_words(rng, rng.randint(40, 200))}</p>" for _ in range(rng.randint(3, 40)))
    figures = "\n".join(f'<img src="{image}" alt="figure {i}">' for i, image in enumerate(images))
    script_tags = "\n".join(f'<script src="{script}" defer></script>' for script in scripts)
    links = " ".join(f'<a href="/pages/page-{(number + step) % PAGES:02d}.html">next {step}</a>' for step in (1, 2, 3))
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>page {number}</title>
<link rel="stylesheet" href="{stylesheet}">
{script_tags}
</head>
<body>
<h1>page {number}</h1>
{paragraphs}
{figures}
<nav>{links}</nav>
</body>
</html>
""".encode()


def _index(pages: list[str]) -> bytes:
    items = "\n".join(f'<li><a href="{page}">{page}</a></li>' for page in pages)
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>loadtest site</title></head>
<body><h1>loadtest site</h1><ul>
{items}
</ul><p><a href="{LISTING}">1,000 files</a> <a href="{LARGE}">100 MiB</a></p></body>
</html>
""".encode()


def _brotli_compress() -> Callable[[bytes], bytes] | None:
    """brotli.compress if the optional brotli package (the load extra) is installed, else None."""
    try:
        import brotli  # noqa: PLC0415  # optional: the site is complete without .br files
    except ImportError:
        return None
    compress: Callable[[bytes], bytes] = brotli.compress
    return compress


class _Writer:
    """Writes files under ``root`` and records them for the manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, FileEntry] = {}

    def write(self, path: str, data: bytes, encodings: dict[str, str] | None = None) -> None:
        self.write_chunks(path, iter([data]), encodings)

    def write_chunks(self, path: str, chunks: Iterator[bytes], encodings: dict[str, str] | None = None) -> None:
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with target.open("wb") as file:
            for chunk in chunks:
                file.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        self.files[path] = FileEntry(path, size, digest.hexdigest(), encodings or {})

    def write_text_asset(self, path: str, data: bytes) -> None:
        """The asset and its precompressed siblings (nginx gzip_static / brotli_static style)."""
        encodings = {"gzip": path + ".gz"}
        self.write(path + ".gz", gzip.compress(data, compresslevel=9, mtime=0))  # mtime 0: same bytes every build
        compress = _brotli_compress()
        if compress is not None:
            encodings["br"] = path + ".br"
            self.write(path + ".br", compress(data))
        self.write(path, data, encodings)


def _current_manifest(root: Path, seed: int) -> Manifest | None:
    """The manifest of the complete site of this format and seed that ``root`` holds (sizes checked,
    not hashes), or None when it holds none."""
    try:
        manifest = Manifest.from_json((root / MANIFEST).read_bytes())
    except (OSError, SiteError):
        return None
    if manifest.seed != seed:
        return None
    for entry in manifest.files.values():
        try:
            if (root / entry.path.lstrip("/")).stat().st_size != entry.size:
                return None
        except OSError:
            return None
    return manifest


def build(root: Path, seed: int = SEED) -> tuple[Manifest, bool]:
    """Write the site into ``root`` (created if needed) and return (its manifest, whether files were
    written). A complete site of the same seed is kept as it is.

    Raises SiteError if ``root`` is a non-empty directory that holds no site: we never write into
    someone's folder.
    """
    current = _current_manifest(root, seed)
    if current is not None:
        return current, False
    if root.exists() and not root.is_dir():
        raise SiteError(f"{root} is not a directory")
    if root.is_dir() and any(root.iterdir()) and not (root / MARKER).exists():
        raise SiteError(f"{root} is not empty and holds no loadtest site; give an empty or new directory")
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("written by python -m loadtest.site\n")
    (root / MANIFEST).unlink(missing_ok=True)  # written last: its presence means the build finished
    rng = random.Random(seed)
    writer = _Writer(root)

    stylesheets = [f"/assets/site-{n}.css" for n in range(STYLESHEETS)]
    scripts = [f"/assets/app-{n}.js" for n in range(SCRIPTS)]
    for number, path in enumerate(stylesheets):
        writer.write_text_asset(path, _stylesheet(rng, number))
    for number, path in enumerate(scripts):
        writer.write_text_asset(path, _script(rng, number))

    images = []
    for label, side in IMAGE_SIDES.items():
        for number in range(IMAGES_PER_SIZE):
            path = f"/images/photo-{label}-{number}.png"
            writer.write(path, _png(rng, side))
            images.append(path)

    pages = [f"/pages/page-{n:02d}.html" for n in range(PAGES)]
    for number, path in enumerate(pages):
        page_scripts = rng.sample(scripts, rng.randint(1, 3))
        page_images = rng.sample(images, rng.randint(2, 8))
        writer.write(path, _page(rng, number, rng.choice(stylesheets), page_scripts, page_images))
    writer.write("/index.html", _index(pages))

    for path, size in BLOBS.items():
        writer.write_chunks(path, _blob_chunks(seed, path, size))

    names = [f"file-{n:04d}.txt" for n in range(LISTING_FILES)]
    for name in names:
        writer.write(LISTING + name, f"{name}: {_words(rng, rng.randint(2, 30))}\n".encode())
    writer.write(COMPRESSIBLE, _text(rng, COMPRESSIBLE_SIZE))

    manifest = Manifest(
        seed=seed,
        files=dict(sorted(writer.files.items())),
        pages=["/index.html", *pages],
        assets=stylesheets + scripts,
        images=images,
        blobs=list(BLOBS),
        large=LARGE,
        listing=LISTING,
        listing_names=names,
        missing=MISSING,
    )
    temporary = root / (MANIFEST + ".tmp")
    temporary.write_text(manifest.to_json())
    os.replace(temporary, root / MANIFEST)
    return manifest, True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.site", description="Write the deterministic test site.")
    parser.add_argument("directory", type=Path, help="where to write it (created if missing; must be empty or a site)")
    parser.add_argument("--seed", type=int, default=SEED, help="content seed (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        manifest, written = build(args.directory, args.seed)
    except (SiteError, OSError) as error:
        print(f"python -m loadtest.site: error: {error}", file=sys.stderr)
        return 2
    total = sum(entry.size for entry in manifest.files.values())
    state = "written" if written else "already up to date"
    print(f"{args.directory}: {len(manifest.files)} files, {total / MiB:.1f} MiB, {state}; see {MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
