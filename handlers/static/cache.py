"""A bounded cache whose entries are trusted for a while, then checked again.

The static handler keeps small files (bytes and their response fields encoded once) and rendered
listings here, so the common request costs no filesystem call at all. An entry is trusted for
``trust_for`` seconds after its last check; the next use after that asks ``still_valid``, which
re-does the cheap part of the work (a stat, a path resolution) and keeps or drops the entry. So a
file changed or deleted on disk is seen within ``trust_for`` seconds.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from reactor.loop.clock import Clock

K = TypeVar("K")
V = TypeVar("V")


class RevalidatingCache(Generic[K, V]):
    """At most ``max_size`` (summed sizes given to ``put``) of entries, least recently used dropped first."""

    def __init__(
        self,
        max_size: int,
        still_valid: Callable[[K, V], bool],
        trust_for: float = 1.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.max_size = max_size
        self._still_valid = still_valid
        self._trust_for = trust_for
        self._clock = clock
        self._entries: collections.OrderedDict[K, tuple[V, int, float]] = collections.OrderedDict()
        self.size = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        """The entry for ``key``, checked with ``still_valid`` if it was last checked long enough ago."""
        found = self._entries.get(key)
        if found is None:
            return None
        value, size, checked = found
        now = self._clock()
        if now - checked >= self._trust_for:
            if not self._still_valid(key, value):
                self.discard(key)
                return None
            self._entries[key] = (value, size, now)
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, size: int) -> None:
        """Keep ``value`` (``size`` bytes); an entry larger than the whole cache is not kept."""
        self.discard(key)
        if size > self.max_size:
            return
        self._entries[key] = (value, size, self._clock())
        self.size += size
        while self.size > self.max_size:
            _key, (_value, dropped, _checked) = self._entries.popitem(last=False)
            self.size -= dropped

    def discard_where(self, predicate: Callable[[K, V], bool]) -> None:
        """Drop every entry for which ``predicate(key, value)`` holds."""
        for key in [key for key, (value, _size, _checked) in self._entries.items() if predicate(key, value)]:
            self.discard(key)

    def clear(self) -> None:
        self._entries.clear()
        self.size = 0

    def discard(self, key: K) -> None:
        found = self._entries.pop(key, None)
        if found is not None:
            self.size -= found[1]
