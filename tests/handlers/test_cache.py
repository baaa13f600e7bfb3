"""The revalidating cache, on a fake clock."""

from __future__ import annotations

from handlers.static.cache import RevalidatingCache
from reactor.testing import FakeClock


def test_entries_are_trusted_until_the_interval_then_checked() -> None:
    clock = FakeClock()
    checks: list[str] = []
    valid = {"a": True}

    def still_valid(key: str, value: int) -> bool:
        checks.append(key)
        return valid[key]

    cache: RevalidatingCache[str, int] = RevalidatingCache(100, still_valid, trust_for=1.0, clock=clock)
    cache.put("a", 1, 10)
    clock.advance(0.9)
    assert cache.get("a") == 1
    assert checks == [], "no check within the trusted interval"
    clock.advance(0.2)
    assert cache.get("a") == 1
    assert checks == ["a"]
    assert cache.get("a") == 1
    assert checks == ["a"], "a successful check starts a new interval"
    valid["a"] = False
    clock.advance(1.0)
    assert cache.get("a") is None
    assert len(cache) == 0 and cache.size == 0


def test_least_recently_used_entries_go_first_when_full() -> None:
    cache: RevalidatingCache[str, str] = RevalidatingCache(30, lambda key, value: True, clock=FakeClock())
    cache.put("a", "A", 10)
    cache.put("b", "B", 10)
    cache.put("c", "C", 10)
    assert cache.get("a") == "A"  # now b is the least recently used
    cache.put("d", "D", 10)
    assert cache.get("b") is None
    assert [cache.get(key) for key in "acd"] == ["A", "C", "D"]
    assert cache.size == 30


def test_an_entry_larger_than_the_cache_is_not_kept() -> None:
    cache: RevalidatingCache[str, str] = RevalidatingCache(10, lambda key, value: True, clock=FakeClock())
    cache.put("big", "x", 11)
    assert cache.get("big") is None
    assert cache.size == 0


def test_replacing_an_entry_keeps_the_size_right() -> None:
    cache: RevalidatingCache[str, str] = RevalidatingCache(100, lambda key, value: True, clock=FakeClock())
    cache.put("a", "x", 40)
    cache.put("a", "y", 30)
    assert cache.size == 30
    assert cache.get("a") == "y"
