"""A few seconds of memory for what every request reads (workspace settings, people): a burst of
requests asks the database once instead of a hundred times. Entries expire on the injected clock, and
the service that writes a value forgets its entry; another replica's write shows within the TTL."""

from __future__ import annotations

import threading
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

    def put(self, key: K, value: V) -> None:
        with self._lock:
            if len(self._entries) > 10_000:  # a bound, not a policy: the next reads refill it
                self._entries.clear()
            self._entries[key] = (self._clock.now(), value)

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)
