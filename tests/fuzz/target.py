"""The parser's fuzz target, shared by the atheris runner (fuzz_parser.py) and the test that replays
the committed corpus (test_fuzz_corpus.py).

An input is four control bytes and then the byte stream. Control byte 0: bit 0 ends the stream with
EOF (the peer closes), bit 1 selects small limits so that the 414/431/413 paths are reached by short
inputs. Control bytes 1-3 place three cuts in the stream (as fractions of its length), so the
fuzzer controls how the stream is split into reads.
"""

from __future__ import annotations

from tests.http.helpers import feed

CONTROL_BYTES = 4
SMALL_LIMITS = {"max_request_line": 40, "max_head": 160, "max_headers": 4, "max_body": 64}
BYTE_BY_BYTE_UP_TO = 256  # feeding longer streams one byte at a time slows the fuzzer for little


def split(data: bytes) -> tuple[bool, dict[str, int], list[int], bytes]:
    """Decode an input into (eof, parser limits, cut offsets, stream)."""
    control, stream = data[:CONTROL_BYTES].ljust(CONTROL_BYTES, b"\0"), data[CONTROL_BYTES:]
    eof = bool(control[0] & 1)
    limits = SMALL_LIMITS if control[0] & 2 else {}
    cuts = sorted({fraction * len(stream) // 256 for fraction in control[1:]})
    return eof, limits, cuts, stream


def check(data: bytes) -> None:
    """Feed the stream whole, cut where the control bytes say, and byte by byte when short. Raises
    AssertionError if two ways disagree; any exception but ProtocolError escapes from feed() (it
    turns ProtocolError into a final ("error", status) event), which the fuzzer reports as a crash."""
    eof, limits, cuts, stream = split(data)
    expected = feed([stream], eof, **limits)
    pieces = [stream[start:end] for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert feed(pieces, eof, **limits) == expected, f"cut at {cuts}"
    if len(stream) <= BYTE_BY_BYTE_UP_TO:
        assert feed([stream[i : i + 1] for i in range(len(stream))], eof, **limits) == expected, "byte by byte"
