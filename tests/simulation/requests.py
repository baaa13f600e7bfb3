"""The requests a simulated client sends, drawn from a seeded random source, and a small parser of
the responses it reads back (enough to split a byte stream into responses and check their framing).

Every request is complete: the simulation cuts streams short itself (a stall, a reset). Each is
answered by the server on its own, so the reference (a clean connection) always has an answer.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

from handlers.static.conditional import http_date, make_etag
from reactor.limits import Limits
from tests.simulation.site import CONTENTS, MTIME, UPLOADS

FILES = ("/hello.txt", "/empty.txt", "/medium.bin", "/big.bin", "/index.html", "/docs/a.txt", "/docs/b.txt")
PATHS = (*FILES, "/", "/docs/", "/docs", "/missing.txt", "/.secret", "/docs/../hello.txt", "/%2e%2e/etc/passwd")
INTERIM_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
BOUNDARY = "sim-form-5e5e5e5e5e5e5e5e"  # of a form's parts: no random body holds it
# What a client may say it takes: gzip (made on the fly for the text files of the site), or not.
ACCEPT_ENCODINGS = ("gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.5", "identity", "gzip;q=0")


@dataclass(frozen=True)
class SimRequest:
    data: bytes
    method: str
    head_length: int  # bytes of the head, blank line included: the body follows
    expect_continue: bool
    label: str  # what the trace calls it
    target: str = ""
    body: bytes = b""  # the body's payload (a chunked body decoded)
    closes: bool = False  # the client ends the connection with it (Connection: close, HTTP/1.0)
    coded: bool = False  # it accepts a coding: answered as the file is, or gzip-coded once that is made
    stores: tuple[tuple[str, bytes], ...] = ()  # an upload: the files it stores under the upload root
    folder: str = ""  # and the folder it makes there


def _request(
    method: str,
    target: str,
    fields: list[tuple[str, str]],
    body: bytes = b"",
    *,
    version: str = "HTTP/1.1",
    label: str = "",
    payload: bytes | None = None,
    stores: tuple[tuple[str, bytes], ...] = (),
    folder: str = "",
) -> SimRequest:
    payload = body if payload is None else payload
    head = f"{method} {target} {version}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in fields) + "\r\n"
    expect = any(name.lower() == "expect" for name, _ in fields)
    keep_alive = any(name.lower() == "connection" and value == "keep-alive" for name, value in fields)
    closes = any(name.lower() == "connection" and value == "close" for name, value in fields) or (
        version == "HTTP/1.0" and not keep_alive
    )
    coded = any(name.lower() == "accept-encoding" for name, _ in fields)
    encoded = head.encode("latin-1")
    label = label or f"{method} {target}"
    return SimRequest(
        encoded + body, method, len(encoded), expect, label, target, payload, closes, coded, stores, folder
    )


def _chunked(body: bytes, rng: random.Random) -> bytes:
    """``body`` in chunks of random sizes, sometimes with an extension, ending with an optional trailer."""
    out = bytearray()
    position = 0
    while position < len(body):
        size = rng.randint(1, max(1, len(body) - position))
        extension = ";ext=1" if rng.random() < 0.2 else ""
        out += f"{size:x}{extension}\r\n".encode() + body[position : position + size] + b"\r\n"
        position += size
    out += b"0\r\n" + (b"X-Trailer: yes\r\n" if rng.random() < 0.3 else b"") + b"\r\n"
    return bytes(out)


def _body(rng: random.Random, limits: Limits) -> bytes:
    size = rng.choice((0, 1, 10, 1000, 5000, min(limits.max_body, 40000)))
    return rng.randbytes(size)


def _etag(path: str, root: str) -> str:
    return make_etag(os.stat(os.path.join(root, path.lstrip("/"))))


def _range(rng: random.Random, size: int) -> str:
    start = rng.randint(0, size + 10)
    end = rng.randint(start, size + 100)
    return rng.choice(
        (
            f"bytes={start}-{end}",
            f"bytes={start}-",
            f"bytes=-{rng.randint(0, size + 5)}",
            f"bytes=0-0,{start}-{end}",
            "bytes=oops",
            f"bytes={size + 1}-",
        )
    )


def _malformed(rng: random.Random, limits: Limits) -> SimRequest:
    host = [("Host", "sim")]
    choice = rng.randrange(14)
    if choice == 0:
        return SimRequest(b"GARBAGE\r\n\r\n", "GET", 11, False, "garbage line")
    if choice == 1:
        return _request("GET", "/", [*host, ("Bad Header", "x")], label="field name with a space")
    if choice == 2:
        fields = [*host, ("Content-Length", "3"), ("Transfer-Encoding", "chunked")]
        return _request("POST", "/app/echo", fields, b"0\r\n\r\n", label="Content-Length with chunked")
    if choice == 3:
        fields = [*host, ("Transfer-Encoding", "chunked")]
        return _request("POST", "/app/echo", fields, b"zz\r\nabc\r\n0\r\n\r\n", label="bad chunk size")
    if choice == 4:
        return _request("GET", "/" + "a" * (limits.max_request_line + 10), host, label="request line too long")
    if choice == 5:
        many = [(f"X-Field-{index}", "v") for index in range(limits.max_headers + 5)]
        return _request("GET", "/hello.txt", [*host, *many], label="too many fields")
    if choice == 6:
        big = [("X-Big", "v" * min(limits.max_head, 60000))]
        return _request("GET", "/hello.txt", [*host, *big], label="head too large")
    if choice == 7:
        fields = [*host, ("Content-Length", str(limits.max_body + 1))]
        return _request("POST", "/app/echo", fields, b"x" * 100, label="body too large (Content-Length)")
    if choice == 8:
        fields = [*host, ("Transfer-Encoding", "chunked")]
        body = _chunked(b"y" * (limits.max_body + 10), rng) if limits.max_body <= 64 * 1024 else b"ffffffff\r\n"
        return _request("POST", "/app/echo", fields, body, label="chunked body too large")
    if choice == 9:
        return _request("BREW", "/pot", host, label="unknown method")
    if choice == 10:
        return _request("GET", "/", host, version="HTTP/2.0", label="HTTP/2.0")
    if choice == 11:
        return _request("GET", "/", [*host, ("X-Folded", "a\r\n b")], label="obsolete line folding")
    if choice == 12:
        return _request("GET", "/", [*host, ("Content-Length", "-1")], label="negative Content-Length")
    return _request("GET", "/", [("Host", "a"), ("Host", "b")], label="two Host fields")


def _accept_encoding(rng: random.Random) -> list[tuple[str, str]]:
    return [("Accept-Encoding", rng.choice(ACCEPT_ENCODINGS))] if rng.random() < 0.3 else []


def _upload_name(rng: random.Random) -> str:
    """A name no other upload of the run takes (two would race for it, which the reference cannot say)."""
    return f"u{rng.getrandbits(48):012x}.bin"


def _put(rng: random.Random, limits: Limits, host: list[tuple[str, str]]) -> SimRequest:
    """PUT of a file into the upload directory (Content-Length or chunked, 100-continue or not), or
    now and then to a place that refuses it: a directory, a dot-name, a folder that does not exist."""
    body = _body(rng, limits)
    name = _upload_name(rng)
    target = f"{UPLOADS}/{name}"
    stores: tuple[tuple[str, bytes], ...] = ((name, body),)
    refused = rng.random() < 0.1
    if refused:
        target = rng.choice((f"{UPLOADS}/", f"{UPLOADS}/.{name}", f"{UPLOADS}/nowhere/{name}"))
        stores = ()
    expect = [("Expect", "100-continue")] if rng.random() < 0.3 else []
    label = f"PUT {target} {len(body)}"
    if rng.random() < 0.3:
        fields = [*host, ("Transfer-Encoding", "chunked"), *expect]
        return _request("PUT", target, fields, _chunked(body, rng), label=label, payload=body, stores=stores)
    fields = [*host, ("Content-Length", str(len(body))), *expect]
    return _request("PUT", target, fields, body, label=label, stores=stores)


def _form(rng: random.Random, limits: Limits, host: list[tuple[str, str]]) -> SimRequest:
    """A multipart/form-data POST to the upload directory, as its listing's form sends: one to three
    files, and sometimes a new folder's name."""
    parts = []
    stores = []
    budget = limits.max_body // 2
    for _ in range(rng.choice((1, 1, 2, 3))):
        name = _upload_name(rng)
        data = rng.randbytes(min(budget, rng.choice((0, 1, 10, 1000, 5000, 30000))))
        budget -= len(data)
        stores.append((name, data))
        disposition = f'form-data; name="file"; filename="{name}"'
        head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n"
        parts.append(head.encode() + data + b"\r\n")
    folder = ""
    if rng.random() < 0.3:
        folder = f"d{rng.getrandbits(48):012x}"
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="mkdir"\r\n\r\n{folder}\r\n'.encode())
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    fields = [*host, ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}"), ("Content-Length", str(len(body)))]
    label = f"POST {UPLOADS}/ form of {len(stores)} file(s){' and a folder' if folder else ''}"
    return _request("POST", f"{UPLOADS}/", fields, body, label=label, stores=tuple(stores), folder=folder)


def make_request(rng: random.Random, limits: Limits, root: str) -> SimRequest:
    """One request of a random kind: static files (HEAD, Range, conditional, gzip-coded), the WSGI
    application (bodies fixed and chunked, 100-continue, streams, sendfile, failures), uploads (PUT
    and forms), HTTP/1.0, or malformed."""
    host = [("Host", "sim")]
    close = [("Connection", "close")] if rng.random() < 0.08 else []
    kind = rng.choices(
        (
            "get",
            "head",
            "text",
            "range",
            "conditional",
            "post-static",
            "echo",
            "app",
            "put",
            "form",
            "http10",
            "malformed",
        ),
        weights=(6, 2, 2, 3, 3, 1, 3, 3, 2, 1, 1, 2),
    )[0]
    if kind == "text":  # the site's files that are gzipped on the fly, to a client that takes gzip
        fields = [*host, ("Accept-Encoding", rng.choice(ACCEPT_ENCODINGS[:3])), *close]
        return _request(rng.choice(("GET", "GET", "HEAD")), rng.choice(("/docs/a.txt", "/docs/b.txt")), fields)
    if kind == "get":
        return _request("GET", rng.choice(PATHS), [*host, *_accept_encoding(rng), *close])
    if kind == "head":
        return _request("HEAD", rng.choice(PATHS), [*host, *_accept_encoding(rng), *close])
    if kind == "range":
        path = rng.choice(FILES)
        size = len(CONTENTS[path.lstrip("/")])
        fields = [*host, ("Range", _range(rng, size)), *_accept_encoding(rng), *close]
        if rng.random() < 0.3:
            fields.append(("If-Range", _etag(path, root) if rng.random() < 0.5 else '"stale"'))
        return _request("GET", path, fields)
    if kind == "conditional":
        path = rng.choice(FILES)
        field = rng.choice(
            (
                ("If-None-Match", _etag(path, root)),
                ("If-None-Match", '"other", ' + _etag(path, root)),
                ("If-None-Match", '"other"'),
                ("If-Modified-Since", http_date(MTIME)),
                ("If-Modified-Since", http_date(MTIME - 10)),
                ("If-Match", '"other"'),
                ("If-Unmodified-Since", http_date(MTIME - 10)),
            )
        )
        return _request(rng.choice(("GET", "HEAD")), path, [*host, field, *_accept_encoding(rng), *close])
    if kind == "post-static":
        body = rng.randbytes(rng.choice((5, limits.max_discard + 10)))
        return _request("POST", "/hello.txt", [*host, ("Content-Length", str(len(body))), *close], body)
    if kind == "echo":
        body = _body(rng, limits)
        expect = [("Expect", "100-continue")] if rng.random() < 0.3 else []
        if rng.random() < 0.5:
            fields = [*host, ("Transfer-Encoding", "chunked"), *expect, *close]
            label = f"POST /app/echo chunked {len(body)}"
            return _request("POST", "/app/echo", fields, _chunked(body, rng), label=label, payload=body)
        fields = [*host, ("Content-Length", str(len(body))), *expect, *close]
        return _request("POST", "/app/echo", fields, body, label=f"POST /app/echo {len(body)}")
    if kind == "app":
        target = rng.choice(
            (
                f"/app/stream?n={rng.randint(0, 20)}&size={rng.choice((1, 100, 5000, 30000))}",
                "/app/file",
                "/app/write",
                "/app/error",
                "/app/late",
                "/app/nothing",
            )
        )
        return _request(rng.choice(("GET", "GET", "HEAD")), target, [*host, *close])
    if kind == "put":
        return _put(rng, limits, host)
    if kind == "form":
        return _form(rng, limits, host)
    if kind == "http10":
        path = rng.choice(("/hello.txt", "/big.bin", "/app/stream?n=3&size=10"))
        keep = [("Connection", "keep-alive")] if rng.random() < 0.5 else []
        return _request("GET", path, keep, version="HTTP/1.0")
    return _malformed(rng, limits)


# -- reading responses back --------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    start: int  # where it begins in the stream
    end: int  # where it ends
    closes: bool  # says Connection: close


class Unparseable(Exception):
    """The stream holds something that is not an HTTP/1.1 response."""


def parse_response(data: bytes, start: int, method: str, ended: bool) -> Response | None:
    """The response at ``start`` of ``data`` to a ``method`` request; None while it is incomplete.
    ``ended``: the stream is over (a body delimited by the close is complete). Raises Unparseable."""
    try:
        return _parse_response(data, start, method, ended)
    except ValueError as error:  # a length or chunk size that is no number
        raise Unparseable(f"bad framing at {start}: {error}") from None


def _parse_response(data: bytes, start: int, method: str, ended: bool) -> Response | None:
    head_end = data.find(b"\r\n\r\n", start)
    if head_end < 0:
        if ended and len(data) > start:
            raise Unparseable(f"stream ends inside a response head: {bytes(data[start : start + 80])!r}")
        return None
    lines = bytes(data[start:head_end]).decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise Unparseable(f"bad status line {lines[0]!r}")
    status = int(parts[1])
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise Unparseable(f"bad field line {line!r}")
        fields[name.strip().lower()] = value.strip()
    closes = "close" in fields.get("connection", "").lower()
    body = head_end + 4
    if 100 <= status < 200 or method == "HEAD" or status in (204, 304):
        return Response(status, start, body, closes)
    if "chunked" in fields.get("transfer-encoding", "").lower():
        position = body
        while True:
            line_end = data.find(b"\r\n", position)
            if line_end < 0:
                return None
            size = int(bytes(data[position:line_end]).split(b";")[0], 16)
            if size == 0:
                trailer_end = (
                    data.find(b"\r\n\r\n", line_end) if data[line_end + 2 : line_end + 4] != b"\r\n" else line_end
                )
                if trailer_end < 0:
                    return None
                end = trailer_end + 4
                return Response(status, start, end, closes) if len(data) >= end else None
            position = line_end + 2 + size + 2
            if len(data) < position:
                return None
    if "content-length" in fields:
        end = body + int(fields["content-length"])
        return Response(status, start, end, closes) if len(data) >= end else None
    return Response(status, start, len(data), True) if ended else None


def final_responses(data: bytes, methods: list[str], ended: bool) -> tuple[list[Response], list[Response], int]:
    """Split ``data`` into the final responses to ``methods`` (one each, in order) and the interim
    100s among them; returns (finals, interims, where the unparsed rest begins). Raises Unparseable."""
    finals: list[Response] = []
    interims: list[Response] = []
    position = 0
    while len(finals) < len(methods) and position < len(data):
        response = parse_response(data, position, methods[len(finals)], ended)
        if response is None:
            break
        (interims if 100 <= response.status < 200 else finals).append(response)
        position = response.end
    return finals, interims, position


def response_body(data: bytes, response: Response) -> bytes:
    """The payload of ``response`` (a whole one, found by parse_response), chunked coding removed."""
    head_end = data.index(b"\r\n\r\n", response.start) + 4
    raw = data[head_end : response.end]
    if b"transfer-encoding: chunked" not in data[response.start : head_end].lower():
        return raw
    payload = bytearray()
    position = 0
    while True:
        line_end = raw.index(b"\r\n", position)
        size = int(raw[position:line_end].split(b";")[0], 16)
        if size == 0:
            return bytes(payload)
        payload += raw[line_end + 2 : line_end + 2 + size]
        position = line_end + 2 + size + 2


def field(data: bytes, response: Response, name: str) -> str | None:
    """The value of the field ``name`` (lower case) in ``response``'s head, or None."""
    head = data[response.start : data.index(b"\r\n\r\n", response.start)].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None
