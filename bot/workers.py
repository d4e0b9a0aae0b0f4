"""Thread pools for request work, able to say when everything acknowledged has been done.

Two pools, so a burst never delays an acknowledgement: `listeners` runs Bolt's listeners up to their
`ack()` (and is large, so a request never queues for a thread), `follow_ups` runs the slow work that
comes after an ack (database writes, posts, DMs) on a few threads, so it cannot starve the acks.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

LISTENER_THREADS = 256
FOLLOW_UP_THREADS = 4


class WorkPool(ThreadPoolExecutor):
    def __init__(self, max_workers: int, name: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=name)
        self._busy = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with self._idle:
            self._busy += 1
        # The work runs in a copy of the submitter's context, so its log lines keep the request's id.
        context = contextvars.copy_context()
        future = super().submit(context.run, _logged(fn), *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    @property
    def idle(self) -> bool:
        with self._idle:
            return self._busy == 0

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)


def _logged(fn: Callable[..., T]) -> Callable[..., T]:
    """Work after an ack has no caller to raise to: log the failure with an id an admin can find."""

    def run(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception("incident %s: background work failed", uuid.uuid4().hex[:8])
            raise

    return run


class Workers:
    def __init__(self) -> None:
        self.listeners = WorkPool(LISTENER_THREADS, "listener")
        self.follow_ups = WorkPool(FOLLOW_UP_THREADS, "follow-up")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once no listener and no follow-up is running (one can start the other)."""
        deadline = time.monotonic() + timeout
        while not (self.listeners.idle and self.follow_ups.idle):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.listeners.wait_idle(remaining)
            self.follow_ups.wait_idle(max(deadline - time.monotonic(), 0))
        return True

    def shutdown(self, *, wait: bool = True) -> None:
        """Work not started yet is dropped: it is a kick or a cache warm-up, never a promise (those
        are outbox rows)."""
        self.listeners.shutdown(wait=wait, cancel_futures=not wait)
        self.follow_ups.shutdown(wait=wait, cancel_futures=not wait)


class Coalesced:
    """Runs `work` on `pool` soon, however often it is asked for: asks that arrive while a run is
    queued or under way fold into one more run after it. A burst of a thousand kudos becomes a few
    delivery passes, not a thousand."""

    def __init__(self, work: Callable[[], object], pool: WorkPool) -> None:
        self._work = work
        self._pool = pool
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    def __call__(self) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        try:
            # A run serves every ask folded into it, not only the request that happened to start it.
            self._pool.submit(contextvars.Context().run, self._run)
        except RuntimeError:  # the pool is shutting down: nothing more will run
            with self._lock:
                self._running = False

    def _run(self) -> None:
        while True:
            try:
                self._work()
            except Exception:
                log.exception("incident %s: a coalesced run failed", uuid.uuid4().hex[:8])
            with self._lock:
                if not self._again:
                    self._running = False
                    return
                self._again = False
