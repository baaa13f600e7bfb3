"""The committed seed corpus replayed through the fuzz target, so every run of the suite checks it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.target import check, split

CORPUS = Path(__file__).resolve().parent / "corpus"
SEEDS = sorted(CORPUS.iterdir())


def test_the_corpus_covers_valid_and_invalid_requests_both_limits_and_eof() -> None:
    decoded = [split(seed.read_bytes()) for seed in SEEDS]
    assert len(decoded) >= 40
    assert any(eof for eof, *_ in decoded) and not all(eof for eof, *_ in decoded)
    assert any(limits for _, limits, *_ in decoded) and not all(limits for _, limits, *_ in decoded)


@pytest.mark.parametrize("seed", SEEDS, ids=[seed.name for seed in SEEDS])
def test_each_seed_gives_the_same_events_in_every_chunking(seed: Path) -> None:
    check(seed.read_bytes())
