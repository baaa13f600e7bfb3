"""What the answers must be, derived from the site alone: the bodies of files, ranges, echoes and
streams. The reference (the handler on a clean connection) is checked against this model, and every
faulty run against the reference, so a body wrong in both is caught too."""

from __future__ import annotations

import re
import zlib

from handlers.static.compression import gzip_bytes
from tests.simulation.requests import SimRequest, Unparseable, field, parse_response, response_body
from tests.simulation.site import CONTENTS, stream_body

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


def expected_body(request: SimRequest, status: int, content_range: str | None, coding: str | None) -> bytes | None:
    """The body the model knows for this answer, or None where it does not say. A gzip-coded 206
    holds a range of the coded file (the coded 200 is decoded before it is compared)."""
    path, _, query = request.target.partition("?")
    if request.method == "POST" and path == "/app/echo" and status == 200:
        return request.body
    if request.method != "GET":
        return None
    if path == "/app/file" and status == 200:
        return CONTENTS["big.bin"]
    if path == "/app/stream" and status == 200:
        values = dict(part.partition("=")[::2] for part in query.split("&"))
        return stream_body(int(values["n"]), int(values["size"]))
    name = path.lstrip("/")
    if name not in CONTENTS or name.startswith("."):
        return None
    if status == 200:
        return CONTENTS[name]
    if status == 206 and content_range is not None:
        match = _CONTENT_RANGE.fullmatch(content_range)
        if match is None:
            return None
        first, last, length = (int(group) for group in match.groups())
        whole = gzip_bytes(CONTENTS[name]) if coding == "gzip" else CONTENTS[name]
        if length != len(whole):
            return b"(Content-Range names a length the file does not have)"
        return whole[first : last + 1]
    return None


def check_reference(request: SimRequest, data: bytes, closes: bool) -> str:
    """What is wrong with ``data``, the reference's answer to ``request``; "" when nothing is."""
    try:
        response = parse_response(data, 0, request.method, closes)
    except Unparseable as error:
        return f"unparseable answer: {error}"
    if response is None:
        if request.target == "/app/late" and closes:
            return ""  # the application fails after its first piece: the body is cut, the connection ends
        return f"incomplete answer ({len(data)} bytes)"
    if response.end != len(data):
        return f"{len(data) - response.end} bytes after the answer"
    coding = field(data, response, "content-encoding")
    if coding not in (None, "gzip") or (coding and not _accepts_gzip(request)):
        return f"Content-Encoding {coding!r} to a request that does not accept it"
    expected = expected_body(request, response.status, field(data, response, "content-range"), coding)
    if expected is None:
        return ""
    try:
        body = response_body(data, response)
        if coding == "gzip" and response.status == 200:
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
    except (ValueError, zlib.error) as error:
        return f"bad body: {error}"
    if body != expected:
        return f"the {response.status} body is not what the site holds ({len(body)} bytes, not {len(expected)})"
    return ""


def _accepts_gzip(request: SimRequest) -> bool:
    """Whether the request's Accept-Encoding takes gzip (as requests.ACCEPT_ENCODINGS spell it)."""
    head = request.data[: request.head_length].decode("latin-1").lower()
    for line in head.split("\r\n"):
        name, _, value = line.partition(":")
        if name == "accept-encoding":
            return any(
                coding.strip() == "gzip" or coding.strip().startswith("gzip;q=0.") for coding in value.split(",")
            )
    return False
