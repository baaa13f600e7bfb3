"""What a user can change about static file serving; the command line maps its flags onto this."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StaticOptions:
    listing: bool = True  # list directories without an index file (off: 403), nginx autoindex
    show_hidden: bool = False  # serve and list names starting with "." (.git, .env)
    follow_symlinks: bool = False  # follow symlinks that lead outside the root (nginx disable_symlinks off)
    cache_control: str | None = None  # Cache-Control value for file responses, 304s included
    error_pages: Mapping[int, str] = field(default_factory=dict)  # status -> URL path of a file (nginx error_page)
    spa: str | None = None  # URL path of the page that answers unknown paths asking for HTML
    cors: bool = False  # Access-Control-Allow-Origin: * and answers to preflight OPTIONS
    mime_types: Mapping[str, str] = field(default_factory=dict)  # extension -> Content-Type, added or replaced
    headers: tuple[tuple[str, str], ...] = ()  # added to every response (-H 'Name: value', nginx add_header always)
    # Uploads and compression (issue 13, part B).
    compress: bool = True  # gzip small text files on the fly, off the loop (nginx gzip on)
    upload: bool = False  # accept PUT and multipart/form-data POST (a form on listings)
    upload_overwrite: bool = False  # an upload may replace an existing file (otherwise 409)
    archive: bool = True  # a listed directory can be downloaded as a .zip or .tar.gz (miniserve's archives)
    live_reload: bool = False  # HTML files get the live-reload script (handlers/livereload/)
