"""Content types by file extension, from a table of our own rather than the host's /etc/mime.types,
so the same file gets the same type on every machine."""

from __future__ import annotations

import posixpath

DEFAULT_TYPE = "application/octet-stream"

# Types whose bodies are text get "; charset=utf-8" (RFC 9110 8.3.2): browsers otherwise guess.
_TEXT_TYPES = {"application/javascript", "application/json", "application/xml", "image/svg+xml"}

TYPES: dict[str, str] = {
    # text
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",  # RFC 9239: text/javascript for .js and .mjs
    ".mjs": "text/javascript",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".xml": "application/xml",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".ics": "text/calendar",
    ".vtt": "text/vtt",
    ".py": "text/x-python",
    ".sh": "text/x-shellscript",
    ".c": "text/x-c",
    ".h": "text/x-c",
    ".rst": "text/x-rst",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    # images
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
    ".ico": "image/vnd.microsoft.icon",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".apng": "image/apng",
    # audio and video
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".avi": "video/x-msvideo",
    # fonts
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    # applications and archives
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".tgz": "application/gzip",
    ".bz2": "application/x-bzip2",
    ".xz": "application/x-xz",
    ".zst": "application/zstd",
    ".br": "application/x-brotli",
    ".tar": "application/x-tar",
    ".7z": "application/x-7z-compressed",
    ".rar": "application/vnd.rar",
    ".jar": "application/java-archive",
    ".epub": "application/epub+zip",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".rtf": "application/rtf",
    ".iso": "application/x-iso9660-image",
    ".bin": "application/octet-stream",
}


def with_charset(content_type: str) -> str:
    if content_type.startswith("text/") or content_type in _TEXT_TYPES:
        return content_type + "; charset=utf-8"
    return content_type


class MimeTypes:
    """Maps a file name to its Content-Type value; ``overrides`` add or replace extensions."""

    def __init__(self, overrides: dict[str, str] | None = None) -> None:
        table = dict(TYPES)
        for extension, content_type in (overrides or {}).items():
            table["." + extension.lower().lstrip(".")] = content_type
        self._types = {extension: with_charset(content_type) for extension, content_type in table.items()}

    def __call__(self, name: str) -> str:
        """The Content-Type for ``name``, by its last extension, case-insensitively."""
        extension = posixpath.splitext(name)[1].lower()
        return self._types.get(extension, DEFAULT_TYPE)
