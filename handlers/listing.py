"""Directory listings: read a directory, render it as an HTML page."""

from __future__ import annotations

import html
import os
import stat
import time
from dataclasses import dataclass
from urllib.parse import quote, unquote


@dataclass(frozen=True)
class Entry:
    name: str
    is_dir: bool
    size: int
    mtime: float


def scan(directory: str) -> list[Entry]:
    """The entries of ``directory``, directories first, then by name (case-insensitively, as
    http.server sorts). Entries that vanish or cannot be stat'ed while we read are left out."""
    entries = []
    with os.scandir(directory) as iterator:
        for item in iterator:
            try:
                info = item.stat()
            except OSError:
                continue  # a dangling symlink or a file removed under us
            is_dir = stat.S_ISDIR(info.st_mode)
            entries.append(Entry(item.name, is_dir, 0 if is_dir else info.st_size, info.st_mtime))
    entries.sort(key=lambda entry: (not entry.is_dir, entry.name.lower(), entry.name))
    return entries


def render(url_path: str, entries: list[Entry]) -> bytes:
    """An HTML page listing ``entries`` of the directory at ``url_path`` (percent-encoded, ending
    in "/"). Names are HTML-escaped for the text and percent-encoded for the links."""
    title = html.escape(unquote(url_path, errors="replace"))
    rows = []
    if url_path != "/":
        rows.append('<tr><td><a href="../">../</a></td><td></td><td></td></tr>')
    for entry in entries:
        suffix = "/" if entry.is_dir else ""
        href = quote(entry.name, errors="surrogateescape") + suffix
        text = html.escape(entry.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")) + suffix
        size = "-" if entry.is_dir else str(entry.size)
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.mtime))
        rows.append(
            f'<tr><td><a href="{html.escape(href)}">{text}</a></td><td class="size">{size}</td><td>{when}</td></tr>'
        )
    body = "\n".join(rows)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Index of {title}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em}}td{{padding:.1em 1.5em .1em 0}}.size{{text-align:right}}
</style>
</head>
<body>
<h1>Index of {title}</h1>
<table>
<thead><tr><th>Name</th><th>Size</th><th>Modified (UTC)</th></tr></thead>
<tbody>
{body}
</tbody>
</table>
</body>
</html>
"""
    return page.encode("utf-8")
