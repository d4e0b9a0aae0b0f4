"""The delivery engine: outbox rows planned by the services, claimed with a lease, sent once.

APScheduler (or `extramile tick`) calls `tick`; the rows are the truth. Slack is reached through the
OutboxSender port, never inside a transaction.

A row is a message to send (a composer says what, as of now; the sender sends it) or recorded work
to carry out (a task: a request acknowledged before it could be checked). Either way it was written
before anything was promised, so a crash, a deploy or a replica dying loses nothing: the row waits.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from bot import logs
from bot.clock import Clock, SystemClock
from bot.services.ports import DeliveryError, PostedMessage
from bot.services.workspaces import REMOVED
from storage import outbox as outbox_store
from storage.db import SessionFactory, unit_of_work
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

T = TypeVar("T")

BATCH_SIZE = 50
LEASE = timedelta(minutes=5)
MAX_BATCHES_PER_TICK = 200
# A pass on the clock waits this long at most for a rate limit to pass (a paused workspace, a row told to
# come back) instead of ending, since the next pass may be a scheduler interval away; a longer wait is
# left to the passes after it.
MAX_PAUSE_WAIT = timedelta(seconds=10)
# Server errors back off from 30 s, doubling up to an hour between tries; 30 tries span about a day,
# so an outage of several hours delays messages instead of killing them.
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
MAX_ATTEMPTS = 30
# What one digest DM holds at most (a message has room for about this many, with their buttons).
MAX_DIGEST_ITEMS = 10


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
    # True when an earlier attempt may have reached the platform (its sender died mid-send, or the
    # answer was lost): the sender looks for it before sending.
    reclaimed: bool = False
    # When a sender first took it: if it went out before a crash, it went out after this.
    first_claimed_at: datetime | None = None
    # The instant of the pass delivering it (`tick --at` passes run as of another time than the clock).
    as_of: datetime | None = None


class Composer(Protocol):
    def __call__(self, message: Outbound) -> object | None:
        """What to send (a view the sender can render), or None when it is no longer relevant."""
        ...


Planner = Callable[[Session, datetime], int]
# How a kind of message treats a person's attention (see bot.services.attention).
Attention = Literal["now", "exact", "waits", "digest"]
DIGEST = "delivery.digest"


@dataclass(frozen=True)
class Held:
    """The person is away, or outside their working hours: the message waits until then."""

    until: datetime
    # Written on the row: rows held while away are brought forward when the person comes back early.
    why: str = outbox_store.HELD_AWAY


@dataclass(frozen=True)
class Folded:
    """The message went into the person's digest (already written)."""

    digest_key: str


@dataclass(frozen=True)
class Digest:
    """The day's messages for one person, each as its own composer made it, in the order they came due."""

    day: date
    items: tuple[object, ...]


class AttentionRouter(Protocol):
    def route(self, message: Outbound, attention: Attention, owner: str) -> Held | Folded | None:
        """Held, folded (with the digest's row written), or None to send it now."""
        ...


# Run in the transaction that marks the row sent (or dead): what follows from it is written with it.
SentHook = Callable[[Session, Outbound, PostedMessage], None]
DeadHook = Callable[[Session, Outbound, DeliveryError], None]
# Recorded work: idempotent (it may run again after a crash), writes rows, sends nothing itself.
Task = Callable[[Outbound], None]


# Run in the transaction that ends the row unsent, dead or cancelled (too late, nothing left to say).
DroppedHook = Callable[[Session, Outbound], None]


@dataclass(frozen=True)
class _Kind:
    composer: Composer
    on_sent: SentHook | None = None
    on_dead: DeadHook | None = None
    attention: Callable[[Outbound], Attention] | None = None
    on_dropped: DroppedHook | None = None


class OutboxSender(Protocol):
    def send(self, message: Outbound, view: object) -> PostedMessage:
        """Raises DeliveryError; `reason` "ratelimited" carries `retry_after`."""
        ...

    def describe(self, message: Outbound, view: object) -> str:
        """One line for `tick --dry-run`."""
        ...


# What became of one row's turn: sent (a message) or done (recorded work); tried again later after a
# failure (retried), because the platform said to slow down (rate_limited) or because its person is away
# (held); folded into a digest; dead; or cancelled (too late, or nothing left to say).
DeliveryResult = Literal["sent", "done", "retried", "rate_limited", "held", "folded", "dead", "cancelled"]


class DeliveryObserver(Protocol):
    """Told what happens to each row (metrics). Called on the delivering thread: it must be quick."""

    def delivered(self, kind: str, result: DeliveryResult) -> None: ...

    def told_to_wait(self, kind: str, seconds: float) -> None:
        """The platform refused a send for going over its rate limit and asked for `seconds` of quiet."""
        ...


@dataclass
class TickReport:
    planned: int = 0
    sent: int = 0
    done: int = 0
    rescheduled: int = 0
    dead: int = 0
    cancelled: int = 0
    folded: int = 0
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
        attention: AttentionRouter | None = None,
        observer: DeliveryObserver | None = None,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        """`wait(seconds)`: how a pass on the clock waits for a rate limit; True when it should stop
        instead. On the system clock it sleeps by default (`stop` ends the sleep); no other clock moves
        while we sleep, so on one (a test's) a pass waits only through the `wait` it is given."""
        self._sessions = sessions
        self._attention = attention
        self._observer = observer
        self._clock = clock
        self._sender = sender
        self.owner = owner or f"sender-{uuid.uuid4().hex[:12]}"
        self._lease = lease
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._kinds: dict[str, _Kind] = {}
        self._tasks: dict[str, Task] = {}
        self._planners: list[Planner] = []
        self._stopping = threading.Event()
        self._passes = threading.Lock()
        self._wait = wait or (self._stopping.wait if isinstance(clock, SystemClock) else None)
        # Workspaces the platform asked to leave alone, until when (on the clock); and, per workspace,
        # who the last refusal since a send was for. Only passes touch them, one at a time.
        self._paused_until: dict[str, datetime] = {}
        self._refused: dict[str, str] = {}
        # When the rows this pass was told to send later (Retry-After) come due again.
        self._comebacks: list[datetime] = []
        # A digest waits while its person is away, like what it holds.
        self._digest_rows: dict[int, list[int]] = {}
        self.register(
            DIGEST,
            self._compose_digest,
            on_sent=self._digest_sent,
            on_dead=self._digest_dead,
            attention="waits",
        )

    def register(
        self,
        kind: str,
        composer: Composer,
        *,
        on_sent: SentHook | None = None,
        on_dead: DeadHook | None = None,
        attention: Attention | Callable[[Outbound], Attention] = "now",
        on_dropped: DroppedHook | None = None,
    ) -> None:
        """`attention`: how a message of this kind treats the person it is for (see Attention), or a
        function deciding it row by row. `on_dropped`: what follows when a row of this kind ends unsent
        (dead or cancelled)."""
        rule = attention if callable(attention) else _always(attention)
        self._kinds[kind] = _Kind(composer, on_sent, on_dead, rule, on_dropped)

    def register_task(self, kind: str, task: Task) -> None:
        self._tasks[kind] = task

    def add_planner(self, planner: Planner) -> None:
        self._planners.append(planner)

    def plan(self, now: datetime | None = None) -> int:
        """Asks every service what is due and writes the rows; planning twice adds nothing."""
        now = now or self._clock.now()
        with unit_of_work(self._sessions) as session:
            planned = sum(planner(session, now) for planner in self._planners)
            # Planners don't ask whether a workspace still has ExtraMile: nothing is sent where it doesn't.
            outbox_store.cancel_for_removed_workspaces(session, reason=REMOVED)
            return planned

    def tick(self, now: datetime | None = None, *, dry_run: bool = False) -> TickReport:
        """One plan + deliver pass as of `now`; with dry_run, what would be sent, changing nothing."""
        now = now or self._clock.now()
        if dry_run:
            return self._preview(now)
        report = TickReport(planned=self.plan(now))
        self.deliver_due(now, report)
        return report

    def deliver_due(self, now: datetime | None = None, report: TickReport | None = None) -> TickReport:
        """Sends what is due as of `now` (default: the clock, read again for every batch). One pass
        at a time per process; none once `stop` was called. A workspace that asked for quiet is skipped
        meanwhile. When nothing else is due, a pass on the clock waits for the quiet to end and for the
        rows it was told to send later, if that is soon; a pass as of a fixed `now`, which cannot see
        time pass, ends."""
        report = report or TickReport()
        with self._passes:
            batches = 0
            while batches < MAX_BATCHES_PER_TICK:
                if self._stopping.is_set():
                    break
                as_of = now or self._clock.now()
                try:
                    batch = self.claim(as_of)
                except DBAPIError as error:
                    log.warning("delivery paused, the database is unavailable: %s", type(error).__name__)
                    break
                if not batch:
                    if now is None and self._wait_out_pause():
                        continue
                    break
                batches += 1
                if not self._deliver_batch(batch, as_of, report):
                    break
            self._comebacks.clear()
        return report

    def _deliver_batch(self, batch: list[Outbound], now: datetime, report: TickReport) -> bool:
        """False when the pass should end: stopping, or the database went away."""
        # Rows of a workspace that asked for quiet meanwhile: handed back untried, for after the pause.
        paused: list[Outbound] = []
        for position, message in enumerate(batch):
            if self._stopping.is_set():
                self._release(paused + batch[position:])
                return False
            if self._is_paused(message.team_id):
                paused.append(message)
                continue
            try:
                with logs.delivering(message.id):
                    self._deliver(message, now, report)
            except DBAPIError as error:
                # This row's lease runs out and it is tried again then (checked for a copy already
                # sent); the rest go back to the queue if they can.
                if isinstance(error, OperationalError | InterfaceError):
                    log.warning("delivery paused, the database is unavailable: %s", type(error).__name__)
                else:
                    log.exception("delivery paused, the database refused outbox row %s", message.id)
                self._release(paused + batch[position + 1 :])
                return False
        self._release(paused)
        return True

    def _release(self, unstarted: list[Outbound]) -> None:
        if not unstarted:
            return
        try:
            with unit_of_work(self._sessions) as session:
                released = outbox_store.release(session, row_ids=[m.id for m in unstarted], owner=self.owner)
        except DBAPIError:
            return  # their leases run out instead
        if released:
            log.info("released %d claimed outbox rows for another sender", released)

    def stop(self, timeout: float) -> bool:
        """No new pass starts; the one under way finishes the row it is on and hands back the rest.
        True when nothing was still being sent after `timeout` seconds."""
        self._stopping.set()
        if not self._passes.acquire(timeout=timeout):
            return False
        self._passes.release()
        return True

    def claim(self, now: datetime) -> list[Outbound]:
        """Claims rows due as of `now`. The lease runs from the clock, not from `now`: a pass that
        catches up on the past must not hand out leases that have already expired."""
        wall = self._clock.now()
        with unit_of_work(self._sessions) as session:
            rows = outbox_store.claim_due(
                session,
                now=now,
                owner=self.owner,
                lease_until=max(now, wall) + self._lease,
                claimed_at=wall,
                limit=self._batch_size,
                skip_teams=self._paused_teams(wall),
            )
            return [dataclasses.replace(_outbound(row), as_of=now) for row in rows]

    def _deliver(self, message: Outbound, now: datetime, report: TickReport) -> None:
        if message.expires_at is not None and now > message.expires_at:
            self._finish(message, outbox_store.CANCELLED, "too late to be worth sending")
            report.cancelled += 1
            self._observe(message, "cancelled")
            return
        task = self._tasks.get(message.kind)
        if task is not None:
            self._carry_out(task, message, now, report)
            return
        kind = self._kinds.get(message.kind)
        if kind is not None and kind.attention is not None and self._attention is not None:
            routed = self._attention.route(message, kind.attention(message), self.owner)
            if isinstance(routed, Held):
                self._reschedule(message, routed.until, routed.why, message.attempts, maybe_sent=False)
                report.rescheduled += 1
                self._observe(message, "held")
                return
            if isinstance(routed, Folded):
                report.folded += 1
                self._observe(message, "folded")
                return

        def compose() -> object | None:
            if kind is None:
                raise DeliveryError(f"no_composer:{message.kind}")
            return kind.composer(message)

        composed, view = self._attempt(message, now, report, compose)
        if not composed:
            return
        if view is None:
            self._finish(message, outbox_store.CANCELLED, "no longer relevant")
            report.cancelled += 1
            self._observe(message, "cancelled")
            return
        sent, posted = self._attempt(
            message, now, report, lambda: self._sender.send(message, view), sending=True
        )
        if not sent or posted is None:
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
            elif kind is not None and kind.on_sent is not None:
                kind.on_sent(session, message, posted)
        log.debug("outbox row %s (%s) sent", message.id, message.kind)
        self._refused.pop(message.team_id, None)
        report.sent += 1
        self._observe(message, "sent")

    def _carry_out(self, task: Task, message: Outbound, now: datetime, report: TickReport) -> None:
        done, _ = self._attempt(message, now, report, lambda: task(message))
        if done:
            self._finish(message, outbox_store.DONE, None)
            report.done += 1
            self._observe(message, "done")

    def _attempt(
        self,
        message: Outbound,
        now: datetime,
        report: TickReport,
        work: Callable[[], T],
        *,
        sending: bool = False,
    ) -> tuple[bool, T | None]:
        """Runs the row's work; a failure is recorded on the row (retry, backoff or dead) and the pass
        goes on, except the database going away, which ends the pass. A failure while `sending` may
        have happened after the platform took the message."""
        try:
            return True, work()
        except DeliveryError as error:
            self._failed(message, error, now, report, sending=sending)
        except DBAPIError:
            raise
        except Exception as error:
            self._failed(message, _incident(message, error), now, report, sending=sending)
        return False, None

    def _failed(
        self,
        message: Outbound,
        error: DeliveryError,
        now: datetime,
        report: TickReport,
        *,
        sending: bool = False,
    ) -> None:
        if error.reason == "ratelimited":
            # The platform said when to come back; this row waits, without using up a try.
            wait = error.retry_after or 1
            retry_at = now + timedelta(seconds=wait)
            self._reschedule(message, retry_at, error.reason, message.attempts, maybe_sent=False)
            report.rescheduled += 1
            self._observe(message, "rate_limited")
            if self._observer is not None:
                self._observer.told_to_wait(message.kind, wait)
            self._note_refusal(message, wait)
            self._comebacks.append(retry_at)
            return
        attempts = message.attempts + 1
        if error.permanent or attempts >= self._max_attempts:
            self._finish(message, outbox_store.DEAD, error.reason, attempts, error=error)
            report.dead += 1
            self._observe(message, "dead")
            kind = self._kinds.get(message.kind)
            # A kind that handles its own dead rows (the kudos post tells the giver) is no operator's alarm.
            level = logging.INFO if kind is not None and kind.on_dead is not None else logging.WARNING
            log.log(level, "outbox row %s (%s) is dead: %s", message.id, message.kind, error.reason)
            return
        retry_at = now + backoff(attempts)
        if message.expires_at is not None and retry_at > message.expires_at:
            # The next try would come too late to be worth making.
            self._finish(message, outbox_store.CANCELLED, f"too late to retry: {error.reason}", attempts)
            report.cancelled += 1
            self._observe(message, "cancelled")
            return
        # A server error or a timeout may come after Slack took the message: look before the next try.
        self._reschedule(message, retry_at, error.reason, attempts, maybe_sent=sending and not error.not_sent)
        report.rescheduled += 1
        self._observe(message, "retried")

    def _note_refusal(self, message: Outbound, wait: float) -> None:
        """Platforms limit each conversation (Slack: about a post a second) and each workspace, and a
        refusal does not say which. One refusal: that conversation is busy, only its row waits. Refusals
        for two conversations in a row, with no send between them: the workspace is over its cap, so
        everything to it pauses as long as asked, instead of every row being refused in turn."""
        team = message.team_id
        earlier = self._refused.get(team)
        self._refused[team] = message.recipient_id
        if earlier is None or earlier == message.recipient_id:
            return
        until = self._clock.now() + timedelta(seconds=wait)
        current = self._paused_until.get(team)
        if current is None or until > current:
            self._paused_until[team] = until
            log.debug("workspace %s is over its rate limit: sends to it pause for %s s", team, wait)

    def _paused_teams(self, now: datetime) -> list[str]:
        """The workspaces still paused at `now` (the others are forgotten)."""
        for team in [team for team, until in self._paused_until.items() if until <= now]:
            del self._paused_until[team]
        return list(self._paused_until)

    def _is_paused(self, team_id: str) -> bool:
        until = self._paused_until.get(team_id)
        return until is not None and until > self._clock.now()

    def _wait_out_pause(self) -> bool:
        """Waits until a paused workspace may be sent to again, or a row this pass was told to send
        later comes due, when that is soon: ending the pass would leave them to the next one, seconds
        later. False when the pass should end instead: nothing to wait for, a long wait, stopping, or a
        clock that stood still (waiting on it would never end)."""
        before = self._clock.now()
        self._comebacks = [at for at in self._comebacks if at > before]
        waits = [self._paused_until[team] for team in self._paused_teams(before)] + self._comebacks
        if not waits or self._wait is None:
            return False
        seconds = (min(waits) - before).total_seconds()
        if seconds > MAX_PAUSE_WAIT.total_seconds() or self._wait(seconds):
            return False
        return self._clock.now() > before

    def _observe(self, message: Outbound, result: DeliveryResult) -> None:
        if self._observer is not None:
            self._observer.delivered(message.kind, result)

    def _reschedule(
        self, message: Outbound, at: datetime, error: str, attempts: int, *, maybe_sent: bool
    ) -> None:
        log.debug("outbox row %s (%s) waits until %s: %s", message.id, message.kind, at.isoformat(), error)
        with unit_of_work(self._sessions) as session:
            outbox_store.reschedule(
                session,
                row_id=message.id,
                owner=self.owner,
                deliver_after=at,
                error=error[:255],
                attempts=attempts,
                maybe_sent=maybe_sent,
            )

    def _finish(
        self,
        message: Outbound,
        status: str,
        reason: str | None,
        attempts: int | None = None,
        *,
        error: DeliveryError | None = None,
    ) -> None:
        kind = self._kinds.get(message.kind)
        with unit_of_work(self._sessions) as session:
            finished = outbox_store.finish(
                session,
                row_id=message.id,
                owner=self.owner,
                status=status,
                error=reason[:255] if reason else None,
                attempts=message.attempts if attempts is None else attempts,
            )
            if finished and error is not None and kind is not None and kind.on_dead is not None:
                kind.on_dead(session, message, error)
            dropped = status in (outbox_store.DEAD, outbox_store.CANCELLED)
            if finished and dropped and kind is not None and kind.on_dropped is not None:
                kind.on_dropped(session, message)

    def _preview(self, now: datetime) -> TickReport:
        report = TickReport()
        session = self._sessions()
        try:
            with session.begin():
                report.planned = sum(planner(session, now) for planner in self._planners)
                rows = [
                    dataclasses.replace(_outbound(row), as_of=now)
                    for row in outbox_store.peek_due(session, now=now, limit=10_000)
                ]
                session.rollback()
        finally:
            session.close()
        for message in rows:
            kind = self._kinds.get(message.kind)
            view = kind.composer(message) if kind else None
            if view is not None:
                report.would_send.append(self._sender.describe(message, view))
        return report

    def _compose_digest(self, message: Outbound) -> Digest | None:
        """The messages folded into this digest, composed as of now: those with nothing left to say (a
        promise kept meanwhile) are cancelled, any beyond MAX_DIGEST_ITEMS wait for the next digest.
        Nothing left at all: no digest."""
        with unit_of_work(self._sessions) as session:
            folded = [
                _outbound(row)
                for row in outbox_store.folded_into(
                    session, team_id=message.team_id, digest_key=message.dedupe_key
                )
            ]
        now = message.as_of or self._clock.now()
        items: list[object] = []
        shown: list[int] = []
        dropped: list[int] = []
        for item in folded:
            kind = self._kinds.get(item.kind)
            expired = item.expires_at is not None and now > item.expires_at
            view = None if expired or kind is None else kind.composer(item)
            if view is None:
                dropped.append(item.id)  # its moment passed, or it has nothing left to say
            elif len(items) < MAX_DIGEST_ITEMS:
                items.append(view)
                shown.append(item.id)
        later = [item.id for item in folded if item.id not in shown and item.id not in dropped]
        with unit_of_work(self._sessions) as session:
            outbox_store.settle_folded(
                session,
                team_id=message.team_id,
                digest_key=message.dedupe_key,
                status=outbox_store.CANCELLED,
                at=now,
                reason="no longer relevant",
                row_ids=dropped,
            )
            outbox_store.unfold(session, team_id=message.team_id, row_ids=later, at=now)
        if not items:
            return None
        self._digest_rows[message.id] = shown
        return Digest(day=date.fromisoformat(str(message.payload["day"])), items=tuple(items))

    def _digest_sent(self, session: Session, message: Outbound, posted: PostedMessage) -> None:
        """Exactly the rows it showed went out with it."""
        outbox_store.settle_folded(
            session,
            team_id=message.team_id,
            digest_key=message.dedupe_key,
            status=outbox_store.SENT,
            at=message.as_of or self._clock.now(),
            row_ids=self._digest_rows.pop(message.id, []),
        )

    def _digest_dead(self, session: Session, message: Outbound, error: DeliveryError) -> None:
        """A digest that cannot be sent takes its rows with it (the person is gone, the DM is closed)."""
        self._digest_rows.pop(message.id, None)
        outbox_store.settle_folded(
            session,
            team_id=message.team_id,
            digest_key=message.dedupe_key,
            status=outbox_store.DEAD,
            at=message.as_of or self._clock.now(),
            reason=f"digest: {error.reason}"[:255],
        )


def _always(attention: Attention) -> Callable[[Outbound], Attention]:
    return lambda _: attention


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try: doubling from 30 s, at most an hour."""
    wait: timedelta = FIRST_BACKOFF * 2 ** min(attempts - 1, 20)
    return min(wait, MAX_BACKOFF)


def _incident(message: Outbound, error: Exception) -> DeliveryError:
    incident = uuid.uuid4().hex[:8]
    log.exception(
        "incident %s: outbox row %s (%s) failed", incident, message.id, message.kind, exc_info=error
    )
    return DeliveryError(f"internal:{type(error).__name__}:{incident}")


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
        reclaimed=row.maybe_sent,
        first_claimed_at=row.first_claimed_at,
    )
