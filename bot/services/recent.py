"""A few seconds of memory for what every request reads (workspace settings, people): a burst of
requests asks the database once instead of a hundred times. Entries expire on the injected clock, and
the service that writes a value forgets its entry; another replica's write shows within the TTL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from bot.clock import Clock

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    def __init__(self, clock: Clock, ttl: timedelta) -> None:
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[K, tuple[datetime, V]] = {}
        self._lock = threading.Lock()
        # Bumped by every `forget`: a value read before a forget is never kept after it.
        self._generation = 0

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        kept_at, value = entry
        now = self._clock.now()
        if not kept_at <= now < kept_at + self._ttl:  # expired, or the clock went back
            return None
        return value

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        """The value kept for `key`, or `load()`'s, kept unless it was forgotten while loading (a write
        that happened meanwhile must not be hidden by what was read before it)."""
        recent = self.get(key)
        if recent is not None:
            return recent
        with self._lock:
            generation = self._generation
        value = load()
        with self._lock:
            if self._generation == generation:
                if len(self._entries) > 10_000:  # a bound, not a policy: the next reads refill it
                    self._entries.clear()
                self._entries[key] = (self._clock.now(), value)
        return value

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._generation += 1
