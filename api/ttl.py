"""A small per-worker cache whose entries expire: for data that changes rarely and is read on every request."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ("TTLCache",)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """Entries live `ttl` seconds; the whole cache is dropped when it grows past `max_entries` (no LRU bookkeeping
    on the hot path). A change made by this worker calls `clear()`; other workers see it within `ttl`."""

    __slots__ = ("_entries", "max_entries", "ttl")

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        """The cached value, or None when absent or expired."""
        hit = self._entries.get(key)
        if hit is None:
            return None
        if hit[0] <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return hit[1]

    def put(self, key: K, value: V) -> V:
        """Remember a value and return it."""
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl, value)
        return value

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The cached value, else what `load` answers (None is not cached: a missing row may appear soon)."""
        hit = self.get(key)
        if hit is not None:
            return hit
        value = await load()
        return None if value is None else self.put(key, value)

    def clear(self) -> None:
        """Forget everything (after this worker changed the underlying data)."""
        self._entries.clear()
