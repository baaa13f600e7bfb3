"""The live-reload variant of an HTML file (handlers/livereload/inject.py): the file's bytes with the script tag
before the last ``</body``, or at the end, and an ETag of its own."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handlers.livereload.inject import SCRIPT_PATH, SCRIPT_TAG, inject

ETAG = '"18ee9d06638e17fa-64"'


def test_the_tag_goes_before_the_closing_body_tag() -> None:
    page = b"<!doctype html><body><p>hi</p></body></html>\n"
    body, _etag = inject(page, ETAG)
    assert body == b"<!doctype html><body><p>hi</p>" + SCRIPT_TAG + b"</body></html>\n"


def test_the_last_closing_body_tag_in_any_case_is_the_one() -> None:
    page = b'<body><script>document.write("</body>")</script></BODY >\n'
    body, _etag = inject(page, ETAG)
    assert body == b'<body><script>document.write("</body>")</script>' + SCRIPT_TAG + b"</BODY >\n"


def test_a_page_without_a_closing_body_tag_gets_it_at_the_end() -> None:
    assert inject(b"<!doctype html><p>fragment", ETAG)[0] == b"<!doctype html><p>fragment" + SCRIPT_TAG
    assert inject(b"", ETAG)[0] == SCRIPT_TAG


def test_the_tag_loads_the_script_from_its_reserved_path() -> None:
    # A src, never inline code: a page under Content-Security-Policy: default-src 'self' runs it.
    assert f'<script src="{SCRIPT_PATH}"></script>'.encode() == SCRIPT_TAG


def test_the_etag_is_the_file_s_with_a_suffix_and_stays_a_strong_quoted_tag() -> None:
    _body, etag = inject(b"<body></body>", ETAG)
    assert etag.startswith(ETAG[:-1] + "-lr") and etag.endswith('"') and etag != ETAG
    assert inject(b"<body>other</body>", ETAG)[1] == etag  # a function of the file's tag alone


@given(st.binary(max_size=300), st.sampled_from([b"</body>", b"</BODY>", b"</Body >", b""]), st.binary(max_size=50))
def test_the_variant_is_the_file_with_the_tag_and_nothing_else(before: bytes, closing: bytes, after: bytes) -> None:
    page = before + closing + after
    body, _etag = inject(page, ETAG)
    at = page.lower().rfind(b"</body")
    at = len(page) if at < 0 else at
    assert body[:at] == page[:at] and body[at : at + len(SCRIPT_TAG)] == SCRIPT_TAG
    assert body[at + len(SCRIPT_TAG) :] == page[at:] and len(body) == len(page) + len(SCRIPT_TAG)
    if closing and b"</body" not in after.lower():
        assert body.endswith(SCRIPT_TAG + closing + after)
