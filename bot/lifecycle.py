"""Starting the delivery clock, and stopping the process without losing or repeating anything.

On SIGTERM (every deploy) uvicorn stops accepting, finishes the requests in flight, then runs the ASGI
lifespan shutdown, which calls `stop`: no new delivery pass starts, the pass under way finishes the row
it is sending and hands the rows it claimed but never started back to the queue, so another replica
(or this one, restarted) sends them at once instead of after their lease. Whatever was acknowledged is
in the database already; nothing here has to be saved.
"""

from __future__ import annotations

import logging
import time

from apscheduler.schedulers.background import BackgroundScheduler

from bot.scheduler import build_scheduler
from bot.services.delivery import DeliveryService
from bot.workers import Workers

log = logging.getLogger(__name__)

# How long a stop waits for the row being sent and for request work after the acks.
STOP_TIMEOUT_SECONDS = 10.0


class Lifecycle:
    def __init__(self, delivery: DeliveryService, workers: Workers) -> None:
        self._delivery = delivery
        self._workers = workers
        self._scheduler: BackgroundScheduler | None = None

    def start_clock(self) -> None:
        """The fixed plan and deliver jobs (`extramile run`; tests and the demo move time themselves)."""
        self._scheduler = build_scheduler(self._delivery)
        self._scheduler.start()

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> bool:
        """True when everything under way finished within `timeout` seconds."""
        started = time.monotonic()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        delivered = self._delivery.stop(timeout)
        idle = self._workers.wait_idle(max(timeout - (time.monotonic() - started), 0.0))
        self._workers.shutdown(wait=False)
        if delivered and idle:
            log.info("stopped cleanly in %.1f s", time.monotonic() - started)
        else:
            # The row being sent keeps its lease: whoever takes it next checks it was not sent already.
            log.warning("stopped after %.0f s with work still under way; its leases will run out", timeout)
        return delivered and idle
