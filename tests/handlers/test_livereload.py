"""The live-reload messages (handlers/livereload/reloader.py): what a batch of changed files tells the pages."""

from __future__ import annotations

from handlers.livereload.reloader import event


def test_a_batch_of_stylesheets_only_swaps_stylesheets() -> None:
    assert event(["/site/style.css", "/site/print.css"], "ab-3") == (
        False,
        b'event: css\nid: ab-3\ndata: ["print.css", "style.css"]\n\n',
    )


def test_anything_else_in_the_batch_reloads_the_page() -> None:
    assert event(["/site/style.css", "/site/index.html"], "ab-4") == (
        True,
        b'event: reload\nid: ab-4\ndata: ["index.html", "style.css"]\n\n',
    )
    assert event(["/site/docs"], "ab-5")[0]  # a directory made or removed
    assert event([], "ab-5")[0]  # what a page that missed changes is told


def test_a_name_with_a_newline_stays_on_one_data_line() -> None:
    _reload, message = event(["/site/two\nlines.html"], "ab-1")
    assert message == b'event: reload\nid: ab-1\ndata: ["two\\nlines.html"]\n\n'
    assert message.count(b"\n") == 4  # the event, id and data lines, and the blank line that ends it
