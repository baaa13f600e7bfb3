"""The Try-it machinery itself: blocks read from Markdown, expected lines matched with their
placeholders, ``...`` and two streams, and a chapter run in a shell that reports what differs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.integration.processes import REPO
from tests.tutorial.tryit import ANY_LINES, matches, mismatch, run_chapter, try_it_blocks

CHAPTER = """# A chapter

```python
print("not run")
```

## Try it

```sh
python3 -m examples.tutorial.step3_selectors 8000 &
python3 -m examples.tutorial.client 8000 /
kill %1
```

You should see:

```text
listening on 127.0.0.1 port 8000 (http://127.0.0.1:8000/)
client: connected from 127.0.0.1:<port>
client: sent GET /
127.0.0.1:<port> accepted threads=1
127.0.0.1:<port> answered
client: 200 OK, 6 bytes: hello
client: closing
```
"""


def test_blocks_are_the_sh_blocks_with_their_expected_lines() -> None:
    (block,) = try_it_blocks(CHAPTER, "chapter.md")
    assert block.commands[0].startswith("python3 -m examples.tutorial.step3_selectors")
    assert block.expected[-1] == "client: closing" and block.line == 9


@pytest.mark.parametrize(
    "text",
    [
        "```sh\necho hi\n```\n",  # nothing after it
        "```sh\necho hi\n```\n\nYou will see:\n\n```text\nhi\n```\n",  # not the agreed words
        "```sh\necho hi\n```\n\nYou should see:\n\n```\nhi\n```\n",  # not a text block
    ],
)
def test_a_sh_block_without_its_expected_lines_is_an_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"chapter\.md:"):
        try_it_blocks(text, "chapter.md")


def test_a_placeholder_is_one_run_of_non_blanks() -> None:
    assert matches(["127.0.0.1:<port> accepted"], ["127.0.0.1:40312 accepted"])
    assert not matches(["127.0.0.1:<port> accepted"], ["127.0.0.1: accepted"])
    assert not matches(["sent <n> bytes"], ["sent 3 or 4 bytes"])
    assert matches(["queued=0 <= 16384"], ["queued=0 <= 16384"])  # "<=" is not a placeholder


def test_an_ellipsis_line_stands_for_any_lines_and_nothing_else_is_skipped() -> None:
    assert matches(["a", ANY_LINES, "d"], ["a", "b", "c", "d"])
    assert matches(["a", ANY_LINES, "d"], ["a", "d"])
    assert not matches(["a", "d"], ["a", "b", "d"])
    assert not matches(["a", ANY_LINES], ["b"])


def test_the_server_and_the_others_keep_their_own_order_not_each_others() -> None:
    expected = ["client: sent GET /", "127.0.0.1:1 request GET /", "client: 200 OK"]
    assert mismatch(expected, ["127.0.0.1:1 request GET /", "client: sent GET /", "client: 200 OK"]) is None
    problem = mismatch(expected, ["client: 200 OK", "client: sent GET /", "127.0.0.1:1 request GET /"])
    assert problem is not None and "other lines differ" in problem


lines = st.lists(st.text(st.characters(codec="ascii", exclude_characters="\n<>"), max_size=12), max_size=8)


@given(lines)
def test_any_output_matches_itself_and_an_ellipsis(output: list[str]) -> None:
    plain = [line for line in output if line != ANY_LINES]
    assert matches(plain, plain)
    assert matches([ANY_LINES], plain)


@given(lines, st.data())
def test_a_line_missing_from_the_output_is_noticed(output: list[str], data: st.DataObject) -> None:
    plain = [line for line in output if line != ANY_LINES]
    extra = data.draw(st.text(st.characters(codec="ascii", exclude_characters="\n<>."), min_size=1))
    position = data.draw(st.integers(0, len(plain)))
    assert not matches([*plain[:position], extra, *plain[position:]], plain)


def test_a_chapter_runs_in_a_shell_and_a_wrong_line_is_reported(tmp_path: Path) -> None:
    chapter = tmp_path / "chapter.md"
    chapter.write_text(CHAPTER)
    assert run_chapter(chapter, REPO, tmp_path) == []
    chapter.write_text(CHAPTER.replace("6 bytes: hello", "6 bytes: goodbye"))
    (failure,) = run_chapter(chapter, REPO, tmp_path)
    assert "chapter.md:9 " in failure and "goodbye" in failure and "other lines differ" in failure
