"""Listing pages and documents, rendered from entries without a server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from handlers.static.listing import Entry, Order, human_size, parse_query, render_html, render_json, scan, sort_entries

ENTRIES = [
    Entry("b.txt", False, 2048, 300.0),
    Entry("A.txt", False, 10, 100.0),
    Entry("zdir", True, 0, 200.0),
    Entry("adir", True, 0, 400.0),
    Entry("c.txt", False, 10, 200.0),
]


def names(entries: list[Entry]) -> list[str]:
    return [entry.name for entry in entries]


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (5 << 20, "5.0 MiB"), (3 << 30, "3.0 GiB")],
)
def test_human_sizes(size: int, text: str) -> None:
    assert human_size(size) == text


@pytest.mark.parametrize(
    ("query", "order"),
    [
        ("", Order("name", False)),
        ("sort=size&order=desc", Order("size", True)),
        ("sort=time", Order("time", False)),
        ("order=desc", Order("name", True)),
        ("sort=owner&order=sideways", Order("name", False)),  # unknown values fall back
        ("sort=%73ize", Order("size", False)),
    ],
)
def test_parse_order(query: str, order: Order) -> None:
    assert parse_query(query).order == order


def test_directories_come_first_whatever_the_order() -> None:
    assert names(sort_entries(ENTRIES, Order())) == ["adir", "zdir", "A.txt", "b.txt", "c.txt"]
    assert names(sort_entries(ENTRIES, Order("name", True))) == ["zdir", "adir", "c.txt", "b.txt", "A.txt"]
    assert names(sort_entries(ENTRIES, Order("size", True))) == ["adir", "zdir", "b.txt", "A.txt", "c.txt"]
    assert names(sort_entries(ENTRIES, Order("size", False))) == ["adir", "zdir", "A.txt", "c.txt", "b.txt"]
    assert names(sort_entries(ENTRIES, Order("time", False))) == ["zdir", "adir", "A.txt", "c.txt", "b.txt"]
    assert names(sort_entries(ENTRIES, Order("time", True))) == ["adir", "zdir", "b.txt", "c.txt", "A.txt"]


def test_html_has_breadcrumb_parent_link_sizes_times_and_sort_links() -> None:
    page = render_html("/a%20b/c/", sort_entries(ENTRIES, Order("size", True)), Order("size", True)).decode()
    assert '<a href="/">/</a> <a href="/a%20b/">a b</a>/ <a href="/a%20b/c/">c</a>/' in page
    assert '<a href="../">../</a>' in page
    assert 'title="2048 bytes">2.0 KiB<' in page
    assert '<time datetime="1970-01-01T00:05:00Z">1970-01-01 00:05:00</time>' in page
    assert 'href="?sort=size&amp;order=asc">Size</a> \u25bc' in page  # sorted by size, descending: flips
    assert 'href="?sort=name&amp;order=asc">Name</a>' in page
    assert "<script" not in page


def test_the_root_has_no_parent_link() -> None:
    assert 'href="../"' not in render_html("/", ENTRIES, Order()).decode()


def test_hostile_names_are_escaped_and_quoted() -> None:
    entries = [
        Entry("<img src=x onerror=alert(1)>\"'.txt", False, 1, 0.0),
        Entry("javascript:alert(1)", False, 1, 0.0),
        Entry("\udcff.bin", False, 1, 0.0),  # not UTF-8 on disk
    ]
    page = render_html("/%3Cx%3E/", entries, Order()).decode()
    assert "<img" not in page and "<x>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;.txt" in page
    # Encoded as RFC 3986 3.3 asks of a segment; the "'" left by it is HTML-escaped in the attribute.
    assert 'href="%3Cimg%20src=x%20onerror=alert(1)%3E%22&#x27;.txt"' in page
    assert 'href="javascript%3Aalert(1)"' in page  # never a scheme
    assert 'href="%FF.bin"' in page and "\ufffd.bin" in page


def test_json_lists_the_same_entries() -> None:
    document = json.loads(render_json("/d/", sort_entries(ENTRIES, Order())))
    assert document["path"] == "/d/"
    assert [entry["name"] for entry in document["entries"]] == ["adir", "zdir", "A.txt", "b.txt", "c.txt"]
    assert document["entries"][0] == {
        "name": "adir",
        "type": "directory",
        "size": None,
        "modified": "1970-01-01T00:06:40Z",
        "url": "adir/",
    }
    assert document["entries"][3]["size"] == 2048 and document["entries"][3]["type"] == "file"


def test_scan_hides_dot_names_and_refused_symlinks(tmp_path: Path) -> None:
    (tmp_path / "seen.txt").write_text("x")
    (tmp_path / ".env").write_text("x")
    (tmp_path / ".git").mkdir()
    os.symlink("/etc/hostname", tmp_path / "out")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    assert names(scan(str(tmp_path), allowed=lambda path: not path.endswith("out"))) == ["seen.txt"]
    shown = scan(str(tmp_path), show_hidden=True)
    assert sorted(names(shown)) == sorted([".env", ".git", "out", "seen.txt"])


def test_a_query_of_many_fields_still_gives_an_order() -> None:
    query = "&".join(f"a={index}" for index in range(200)) + "&sort=size&order=desc"
    assert parse_query(query).order == Order("size", True)
    assert parse_query("sort=time&sort=size").order == Order("time", False), "the first one wins"


def test_the_upload_form_is_on_the_page_only_when_asked_for() -> None:
    with_form = render_html("/inbox/", ENTRIES, Order(), upload_form=True).decode()
    assert '<form method="post" enctype="multipart/form-data">' in with_form
    assert with_form.index("</table>") < with_form.index("<form") < with_form.index("</body>")
    assert "<form" not in render_html("/inbox/", ENTRIES, Order()).decode()
