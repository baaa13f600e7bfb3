"""The backend of the development-server example: a small JSON API, notes kept in memory, as a WSGI
application that this server runs itself. The site in ``site/`` calls it at ``/api/...`` through the
reverse proxy, and reloads itself when one of its files changes:

    python -m reactor -b 127.0.0.1 --wsgi examples.devserver.api:app 5000
    python -m reactor -b 127.0.0.1 -d examples/devserver/site --live-reload --proxy /api=http://127.0.0.1:5000/

then open http://127.0.0.1:8000/ and edit ``site/style.css`` or ``site/index.html``. In a real
project the backend is your framework's development server (Flask, Django, Express, Rails...).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable

StartResponse = Callable[[str, list[tuple[str, str]]], object]

_notes = ["Proxied through --proxy /api", "Styled by style.css: save it and watch"]
_lock = threading.Lock()  # the application runs on several worker threads
MAX_NOTE = 200  # characters


def _json(start_response: StartResponse, status: str, value: object) -> Iterable[bytes]:
    body = json.dumps(value).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def app(environ: dict[str, object], start_response: StartResponse) -> Iterable[bytes]:
    """GET /notes: the notes, as a JSON list. POST /notes with {"text": "..."}: add one (201)."""
    if environ["PATH_INFO"] != "/notes":
        return _json(start_response, "404 Not Found", {"error": "no such resource"})
    if environ["REQUEST_METHOD"] == "GET":
        with _lock:
            return _json(start_response, "200 OK", list(_notes))
    if environ["REQUEST_METHOD"] != "POST":
        return _json(start_response, "405 Method Not Allowed", {"error": "GET or POST"})
    stream = environ["wsgi.input"]
    length = int(str(environ.get("CONTENT_LENGTH") or 0))
    try:
        text = json.loads(stream.read(length))["text"].strip()  # type: ignore[attr-defined]
    except (ValueError, KeyError, TypeError, AttributeError):
        return _json(start_response, "400 Bad Request", {"error": 'want {"text": "..."}'})
    if not text or len(text) > MAX_NOTE:
        return _json(start_response, "400 Bad Request", {"error": f"1 to {MAX_NOTE} characters"})
    with _lock:
        _notes.append(text)
        return _json(start_response, "201 Created", list(_notes))
