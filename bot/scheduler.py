"""The clock that drives delivery: a few fixed-id APScheduler jobs; the outbox rows are the truth.

Every replica runs the same jobs; the outbox's leases keep them from sending anything twice.
"""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler

from bot.services.delivery import DeliveryService

PLAN_EVERY_SECONDS = 60
DELIVER_EVERY_SECONDS = 10


def build_scheduler(delivery: DeliveryService) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC,
        # A pass that overran, or a process that slept, runs once when it can, never twice at once.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )
    scheduler.add_job(delivery.plan, "interval", seconds=PLAN_EVERY_SECONDS, id="plan", replace_existing=True)
    scheduler.add_job(
        delivery.deliver_due, "interval", seconds=DELIVER_EVERY_SECONDS, id="deliver", replace_existing=True
    )
    return scheduler
