"""The deterministic test site: what it holds, that the manifest tells the truth, that it is rebuilt
byte for byte from its seed, and that it never writes into a folder that is not a site."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli
import pytest

from loadtest import servers
from loadtest.site import (
    BLOCK,
    LISTING_FILES,
    MANIFEST,
    MARKER,
    Manifest,
    SiteError,
    blob_range,
    build,
    fetch_manifest,
    main,
)
from tests.conftest import LiveServer


def test_the_manifest_lists_every_file_with_its_size_and_sha256(site: Path, manifest: Manifest) -> None:
    on_disk = {
        "/" + path.relative_to(site).as_posix()
        for path in site.rglob("*")
        if path.is_file() and path.name not in (MANIFEST, MARKER)
    }
    assert on_disk == set(manifest.files)
    for entry in manifest.files.values():
        data = (site / entry.path.lstrip("/")).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry.size, entry.sha256), entry.path


def test_it_has_pages_assets_images_of_several_sizes_a_large_file_and_a_listing(site: Path, manifest: Manifest) -> None:
    assert len(manifest.pages) > 10 and manifest.assets and manifest.images
    image_sizes = sorted({manifest.files[path].size for path in manifest.images})
    assert len(image_sizes) >= 4 and image_sizes[0] < 2048 and image_sizes[-1] > 256 * 1024
    assert manifest.files[manifest.large].size == 100 * 1024 * 1024
    listed = sorted(path.name for path in (site / manifest.listing.strip("/")).iterdir())
    assert listed == sorted(manifest.listing_names) and len(listed) == LISTING_FILES
    assert not any(name.startswith("index.") for name in listed), "an index would hide the listing"
    assert not (site / manifest.missing.strip("/")).exists()


def test_pages_link_only_files_of_the_site(site: Path, manifest: Manifest) -> None:
    for page in manifest.pages:
        html = (site / page.lstrip("/")).read_text()
        links = re.findall(r'(?:src|href)="(/[^"]+)"', html)
        assert links, page
        for link in links:
            assert link in manifest.files or link.endswith("/"), (page, link)


def test_text_assets_have_gzip_and_brotli_siblings_with_the_same_content(site: Path, manifest: Manifest) -> None:
    for path in manifest.assets:
        entry = manifest.files[path]
        original = (site / path.lstrip("/")).read_bytes()
        assert set(entry.encodings) == {"gzip", "br"}
        assert gzip.decompress((site / entry.encodings["gzip"].lstrip("/")).read_bytes()) == original
        assert brotli.decompress((site / entry.encodings["br"].lstrip("/")).read_bytes()) == original
        assert manifest.files[entry.encodings["gzip"]].size < entry.size


@pytest.mark.parametrize(
    ("start", "stop"),
    [(0, 1), (0, BLOCK), (BLOCK - 1, BLOCK + 1), (12345, 3 * BLOCK + 7), (100 * 1024 * 1024 - 100, 100 * 1024 * 1024)],
)
def test_any_range_of_a_blob_is_computed_without_the_file(
    site: Path, manifest: Manifest, start: int, stop: int
) -> None:
    with (site / manifest.large.lstrip("/")).open("rb") as file:
        file.seek(start)
        assert blob_range(manifest.seed, manifest.large, start, stop) == file.read(stop - start)


def test_the_same_seed_builds_the_same_bytes(tmp_path: Path, site: Path) -> None:
    again, written = build(tmp_path / "again")
    assert written
    assert (tmp_path / "again" / MANIFEST).read_bytes() == (site / MANIFEST).read_bytes()
    assert again.files == Manifest.from_json((site / MANIFEST).read_bytes()).files


def test_a_complete_site_is_kept_as_it_is(site: Path) -> None:
    manifest, written = build(site)
    assert not written
    assert manifest.files


def test_a_folder_that_is_not_a_site_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert main([str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not empty" in error
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_a_manifest_of_another_format_is_rejected() -> None:
    with pytest.raises(SiteError, match="format"):
        Manifest.from_json('{"format": 99}')


def test_the_manifest_is_read_from_the_server_that_serves_the_site(site_server: LiveServer, manifest: Manifest) -> None:
    assert fetch_manifest(f"http://127.0.0.1:{site_server.port}/", timeout=10) == manifest
    nobody = f"http://127.0.0.1:{servers.free_port()}"
    with pytest.raises(SiteError, match=f"cannot read {nobody}/{MANIFEST}: "):
        fetch_manifest(nobody, timeout=10)
