"""The delivery engine: outbox rows planned by the services, claimed with a lease, sent once.

APScheduler (or `extramile tick`) calls `tick`; the rows are the truth. Slack is reached through the
OutboxSender port, never inside a transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services.ports import DeliveryError, PostedMessage
from storage import outbox as outbox_store
from storage.db import SessionFactory, unit_of_work
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

BATCH_SIZE = 50
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 6
MAX_BATCHES_PER_TICK = 200


@dataclass(frozen=True)
class Outbound:
    """An outbox row as the composers and the sender see it."""

    id: int
    team_id: str
    kind: str
    dedupe_key: str
    recipient_id: str
    payload: dict[str, Any]
    deliver_after: datetime
    attempts: int
    # After this instant the message is pointless ("good morning" at 23:00): it is cancelled, not sent.
    expires_at: datetime | None = None
    # True when an earlier sender claimed it and its lease ran out: it may have been sent already.
    reclaimed: bool = False


class Composer(Protocol):
    def __call__(self, message: Outbound) -> object | None:
        """What to send (a view the sender can render), or None when it is no longer relevant."""
        ...


Planner = Callable[[Session, datetime], int]


class OutboxSender(Protocol):
    def send(self, message: Outbound, view: object) -> PostedMessage:
        """Raises DeliveryError; `reason` "ratelimited" carries `retry_after`."""
        ...

    def describe(self, message: Outbound, view: object) -> str:
        """One line for `tick --dry-run`."""
        ...


@dataclass
class TickReport:
    planned: int = 0
    sent: int = 0
    rescheduled: int = 0
    dead: int = 0
    cancelled: int = 0
    would_send: list[str] = field(default_factory=list)


class DeliveryService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Clock,
        sender: OutboxSender,
        owner: str | None = None,
        lease: timedelta = LEASE,
        batch_size: int = BATCH_SIZE,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._sender = sender
        self.owner = owner or f"sender-{uuid.uuid4().hex[:12]}"
        self._lease = lease
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._composers: dict[str, Composer] = {}
        self._planners: list[Planner] = []

    def register(self, kind: str, composer: Composer) -> None:
        self._composers[kind] = composer

    def add_planner(self, planner: Planner) -> None:
        self._planners.append(planner)

    def plan(self, now: datetime | None = None) -> int:
        """Asks every service what is due and writes the rows; planning twice adds nothing."""
        now = now or self._clock.now()
        with unit_of_work(self._sessions) as session:
            return sum(planner(session, now) for planner in self._planners)

    def tick(self, now: datetime | None = None, *, dry_run: bool = False) -> TickReport:
        """One plan + deliver pass as of `now`; with dry_run, what would be sent, changing nothing."""
        now = now or self._clock.now()
        if dry_run:
            return self._preview(now)
        report = TickReport(planned=self.plan(now))
        self.deliver_due(now, report)
        return report

    def deliver_due(self, now: datetime | None = None, report: TickReport | None = None) -> TickReport:
        """Sends what is due as of `now` (default: the clock, read again for every batch)."""
        report = report or TickReport()
        for _ in range(MAX_BATCHES_PER_TICK):
            as_of = now or self._clock.now()
            batch = self.claim(as_of)
            if not batch:
                break
            for message in batch:
                self._deliver(message, as_of, report)
        return report

    def claim(self, now: datetime) -> list[Outbound]:
        """Claims rows due as of `now`. The lease runs from the clock, not from `now`: a pass that
        catches up on the past must not hand out leases that have already expired."""
        with unit_of_work(self._sessions) as session:
            rows = outbox_store.claim_due(
                session,
                now=now,
                owner=self.owner,
                lease_until=max(now, self._clock.now()) + self._lease,
                limit=self._batch_size,
            )
            return [_outbound(row) for row in rows]

    def _deliver(self, message: Outbound, now: datetime, report: TickReport) -> None:
        if message.expires_at is not None and now > message.expires_at:
            self._finish(message, outbox_store.CANCELLED, "too late to be worth sending")
            report.cancelled += 1
            return
        composer = self._composers.get(message.kind)
        try:
            if composer is None:
                raise DeliveryError(f"no_composer:{message.kind}")
            view = composer(message)
            if view is None:
                self._finish(message, outbox_store.CANCELLED, "no longer relevant")
                report.cancelled += 1
                return
            posted = self._sender.send(message, view)
        except DeliveryError as error:
            self._failed(message, error, now, report)
            return
        except Exception as error:
            incident = uuid.uuid4().hex[:8]
            log.exception("incident %s: outbox row %s failed", incident, message.id)
            self._failed(message, DeliveryError(f"internal:{type(error).__name__}:{incident}"), now, report)
            return
        with unit_of_work(self._sessions) as session:
            if not outbox_store.mark_sent(
                session,
                row_id=message.id,
                owner=self.owner,
                at=now,
                channel_id=posted.channel_id,
                ts=posted.ts,
            ):
                log.warning("outbox row %s was sent after its lease ran out", message.id)
        report.sent += 1

    def _failed(self, message: Outbound, error: DeliveryError, now: datetime, report: TickReport) -> None:
        if error.reason == "ratelimited":
            # Slack said when to come back; this row waits, the others go on.
            retry_at = now + timedelta(seconds=error.retry_after or 1)
            self._reschedule(message, retry_at, error.reason, message.attempts)
            report.rescheduled += 1
            return
        attempts = message.attempts + 1
        if error.permanent or attempts >= self._max_attempts:
            self._finish(message, outbox_store.DEAD, error.reason, attempts)
            report.dead += 1
            log.warning("outbox row %s (%s) is dead: %s", message.id, message.kind, error.reason)
            return
        backoff = timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))
        self._reschedule(message, now + backoff, error.reason, attempts)
        report.rescheduled += 1

    def _reschedule(self, message: Outbound, at: datetime, error: str, attempts: int) -> None:
        with unit_of_work(self._sessions) as session:
            outbox_store.reschedule(
                session,
                row_id=message.id,
                owner=self.owner,
                deliver_after=at,
                error=error[:255],
                attempts=attempts,
            )

    def _finish(self, message: Outbound, status: str, error: str, attempts: int | None = None) -> None:
        with unit_of_work(self._sessions) as session:
            outbox_store.finish(
                session,
                row_id=message.id,
                owner=self.owner,
                status=status,
                error=error[:255],
                attempts=message.attempts if attempts is None else attempts,
            )

    def _preview(self, now: datetime) -> TickReport:
        report = TickReport()
        session = self._sessions()
        try:
            with session.begin():
                report.planned = sum(planner(session, now) for planner in self._planners)
                rows = [_outbound(row) for row in outbox_store.peek_due(session, now=now, limit=10_000)]
                session.rollback()
        finally:
            session.close()
        for message in rows:
            composer = self._composers.get(message.kind)
            view = composer(message) if composer else None
            if view is not None:
                report.would_send.append(self._sender.describe(message, view))
        return report


def _outbound(row: OutboxMessage) -> Outbound:
    return Outbound(
        id=row.id,
        team_id=row.team_id,
        kind=row.kind,
        dedupe_key=row.dedupe_key,
        recipient_id=row.recipient_id,
        payload=dict(row.payload or {}),
        deliver_after=row.deliver_after,
        attempts=row.attempts,
        expires_at=row.expires_at,
        reclaimed=row.last_error == outbox_store.LEASE_EXPIRED,
    )
