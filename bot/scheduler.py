"""The clock that drives delivery: a few fixed-id APScheduler jobs; the outbox rows are the truth.

Every replica runs the same jobs; the outbox's leases keep them from sending anything twice.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.services.delivery import DeliveryService

log = logging.getLogger(__name__)

PLAN_EVERY_SECONDS = 60
DELIVER_EVERY_SECONDS = 10


def build_scheduler(delivery: DeliveryService) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC,
        # A pass that overran, or a process that slept, runs once when it can, never twice at once.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )
    scheduler.add_job(
        _resilient("plan", delivery.plan),
        "interval",
        seconds=PLAN_EVERY_SECONDS,
        id="plan",
        replace_existing=True,
    )
    scheduler.add_job(
        _resilient("deliver", delivery.deliver_due),
        "interval",
        seconds=DELIVER_EVERY_SECONDS,
        id="deliver",
        replace_existing=True,
    )
    return scheduler


def _resilient(name: str, job: Callable[[], object]) -> Callable[[], None]:
    """A pass the database interrupted is simply run again at the next interval: one line, no alarm."""

    @functools.wraps(job)
    def run() -> None:
        try:
            job()
        except (DBAPIError, PoolTimeout) as error:
            log.warning("%s pass skipped, the database is unavailable: %s", name, type(error).__name__)

    return run
