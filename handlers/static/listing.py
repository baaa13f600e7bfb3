"""Directory listings: read a directory, sort it as the query string asks, render it as an HTML page
(readable without JavaScript) or as JSON.

Names come from the filesystem and may hold anything but "/" and NUL: every one is HTML-escaped for
the text and percent-encoded for the link (the CVE-2024-27306 class), so a file called
``<script>`` or ``a:b`` is only ever a name.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from urllib.parse import parse_qsl, unquote

from handlers.static.paths import quote_segment

SORT_KEYS = ("name", "size", "time")
STYLESHEET = resources.files("handlers.static").joinpath("listing.css").read_bytes()
# In the stylesheet's URL, so a browser may keep it for good: a changed stylesheet has another URL.
STYLESHEET_VERSION = hashlib.sha256(STYLESHEET).hexdigest()[:12]
_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


@dataclass(frozen=True)
class Entry:
    name: str
    is_dir: bool
    size: int
    mtime: float

    @property
    def href(self) -> str:
        """The link to this entry, relative to its directory."""
        # A relative reference whose first segment holds ":" reads as a scheme (RFC 3986 4.2): encode it.
        return quote_segment(self.name).replace(":", "%3A") + ("/" if self.is_dir else "")

    @property
    def text(self) -> str:
        """The name for people: bytes that are not UTF-8 show as U+FFFD."""
        return self.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass(frozen=True)
class Order:
    key: str = "name"  # one of SORT_KEYS
    descending: bool = False


@dataclass(frozen=True)
class Query:
    """What a directory's URL asks for with its query string: the listing in an order, the
    listing's stylesheet (``?style``: pages under ``Content-Security-Policy: default-src 'self'``
    may load a stylesheet from their own origin, not an inline one), or the directory's archive."""

    order: Order = Order()
    stylesheet: bool = False
    download: str | None = None  # ?download=zip or tar.gz: the directory as an archive (handlers.static.archive)


def parse_query(query: str) -> Query:
    """What a query string asks for (``?sort=size&order=desc``); unknown values fall back to name,
    ascending, as Caddy's browse does, rather than failing the listing."""
    # Few names matter; the query is bounded by the request line, so reading all of it is cheap, and
    # a query of many fields must not fail the listing (parse_qs' max_num_fields raises).
    fields: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        fields.setdefault(name, value)
    key = fields.get("sort", "name")
    order = Order(key if key in SORT_KEYS else "name", fields.get("order", "asc") == "desc")
    return Query(order, "style" in fields, fields.get("download"))


def scan(directory: str, *, show_hidden: bool = False, allowed: Callable[[str], bool] | None = None) -> list[Entry]:
    """The entries of ``directory``, unsorted. Names starting with "." are left out unless
    ``show_hidden``; a symlink is left out when ``allowed(path)`` says it may not be served, and so
    is an entry that vanishes or cannot be stat'ed while we read (a dangling symlink)."""
    entries = []
    with os.scandir(directory) as iterator:
        for item in iterator:
            if not show_hidden and item.name.startswith("."):
                continue
            if allowed is not None and item.is_symlink() and not allowed(item.path):
                continue
            try:
                info = item.stat()
            except OSError:
                continue
            is_dir = stat.S_ISDIR(info.st_mode)
            entries.append(Entry(item.name, is_dir, 0 if is_dir else info.st_size, info.st_mtime))
    return entries


def sort_entries(entries: list[Entry], order: Order) -> list[Entry]:
    """Directories first, then files, each sorted by ``order``; equal sizes or times keep name order
    (case-insensitive, as http.server sorts) whichever way the column runs."""
    by_name = sorted(entries, key=lambda entry: (entry.name.lower(), entry.name))
    if order.key == "name":
        ordered = by_name[::-1] if order.descending else by_name
    else:
        # sort() is stable, reverse=True included: ties stay in name order.
        ordered = sorted(
            by_name, key=lambda entry: entry.size if order.key == "size" else entry.mtime, reverse=order.descending
        )
    return [entry for entry in ordered if entry.is_dir] + [entry for entry in ordered if not entry.is_dir]


def human_size(size: int) -> str:
    """``512 B``, ``1.5 KiB``, ``3.0 GiB``: binary units, one decimal."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in _UNITS:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            break
    return f"{value:.1f} {unit}"


def iso_time(timestamp: float) -> str:
    """ISO 8601 in UTC to the second: ``2024-05-01T12:03:04Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _breadcrumb(url_path: str) -> str:
    """Links to the root and to each directory on the way to ``url_path`` (percent-encoded, ending
    in "/"), the last one being the page itself."""
    links = ['<a href="/">/</a>']
    href = "/"
    for segment in url_path.strip("/").split("/") if url_path != "/" else []:
        href += segment + "/"
        text = html.escape(unquote(segment, errors="replace"))
        links.append(f'<a href="{html.escape(href)}">{text}</a>/')
    return " ".join(links)


def _column(label: str, key: str, order: Order) -> str:
    """A column header that sorts by ``key``: ascending first, and flipping when already sorted by it."""
    descending = order.key == key and not order.descending
    arrow = (" \u25bc" if order.descending else " \u25b2") if order.key == key else ""
    query = f"?sort={key}&amp;order={'desc' if descending else 'asc'}"
    align = ' class="size"' if key == "size" else ""
    return f'<th{align}><a href="{query}">{label}</a>{arrow}</th>'


def render_html(
    url_path: str, entries: list[Entry], order: Order, *, upload_form: bool = False, archive_links: bool = False
) -> bytes:
    """An HTML page listing ``entries`` (already sorted) of the directory at ``url_path``
    (percent-encoded, ending in "/"): a breadcrumb, a parent link, sortable columns; with
    ``archive_links`` links to download the directory as a .zip or a .tar.gz (handlers.static.archive), with
    ``upload_form`` forms that post files, or a new folder's name, to the directory (handlers.upload.uploads)."""
    title = html.escape(unquote(url_path, errors="replace"))
    rows = []
    if url_path != "/":
        rows.append('<tr><td><a href="../">../</a></td><td class="size"></td><td></td></tr>')
    for entry in entries:
        suffix = "/" if entry.is_dir else ""
        if entry.is_dir:
            size = '<td class="size">-</td>'
        else:
            size = f'<td class="size" title="{entry.size} bytes">{human_size(entry.size)}</td>'
        stamp = iso_time(entry.mtime)
        rows.append(
            f'<tr><td><a href="{html.escape(entry.href)}">{html.escape(entry.text)}{suffix}</a></td>{size}'
            f'<td><time datetime="{stamp}">{stamp[:10]} {stamp[11:19]}</time></td></tr>'
        )
    body = "\n".join(rows)
    columns = _column("Name", "name", order) + _column("Size", "size", order) + _column("Modified (UTC)", "time", order)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Index of {title}</title>
<link rel="stylesheet" href="?style={STYLESHEET_VERSION}">
</head>
<body>
<nav aria-label="breadcrumb">Index of {_breadcrumb(url_path)}</nav>
{_ARCHIVE_LINKS if archive_links else ""}<table>
<thead><tr>{columns}</tr></thead>
<tbody>
{body}
</tbody>
</table>
{_UPLOAD_FORM if upload_form else ""}</body>
</html>
"""
    return page.encode("utf-8")


_ARCHIVE_LINKS = """<p class="download">Download this folder as
<a href="?download=zip" download>.zip</a> or <a href="?download=tar.gz" download>.tar.gz</a></p>
"""

# Posted to the page's own URL (an empty action): the directory, with the listing's query kept. The
# second form makes a folder there (handlers.upload.uploads.FOLDER_FIELD).
_UPLOAD_FORM = """<form method="post" enctype="multipart/form-data">
<input type="file" name="file" multiple required> <button type="submit">Upload</button>
</form>
<form method="post" enctype="multipart/form-data">
<input type="text" name="mkdir" required placeholder="folder name" aria-label="folder name">
<button type="submit">New folder</button>
</form>
"""


def render_json(url_path: str, entries: list[Entry]) -> bytes:
    """The listing as JSON: the directory's path and, per entry (already sorted), its name, type,
    size in bytes (null for directories), modification time (ISO 8601, UTC) and relative URL."""
    document = {
        "path": unquote(url_path, errors="replace"),
        "entries": [
            {
                "name": entry.text,
                "type": "directory" if entry.is_dir else "file",
                "size": None if entry.is_dir else entry.size,
                "modified": iso_time(entry.mtime),
                "url": entry.href,
            }
            for entry in entries
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
