"""Promises: "I'll get back to you by Friday", remembered, reminded, updated and closed.

Every message a promise causes is an outbox row written in the same transaction as the change, with
a key that names the promise, its version (bumped by each new ETA) and the stage, so planning twice
or clicking twice changes nothing. Composers re-read the promise at send time: a reminder for a
promise already kept is cancelled, not sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services import keys
from bot.services.delivery import Attention, DeliveryService, Outbound
from bot.services.due_dates import MAX_AHEAD, Due, DueDateError, TooFarAhead, split_due
from bot.services.hours import Schedule
from bot.services.people import PeopleService, schedule_in
from bot.services.ports import DeliveryError
from bot.services.text import CleanText, clean
from storage import outbox as outbox_store
from storage import promises as promise_store
from storage.db import SessionFactory, unit_of_work
from storage.models import Promise

log = logging.getLogger(__name__)

NOTICE = "promise.notice"
REMINDER_LEAD = timedelta(hours=2)
DAILY_NUDGES = 3
NUDGE_QUIET = timedelta(hours=12)
MAX_WHAT_CHARS = 500
# The words with their due time ("send the deck by Friday 3pm"): checked before any parsing.
MAX_TEXT_CHARS = MAX_WHAT_CHARS + 100
MAX_CONTACT_CHARS = 200
MAX_NOTE_CHARS = 500

Stage = Literal["heard", "made", "before", "due", "nudge", "snooze", "eta", "done", "cancelled"]
REMINDER_STAGES = frozenset({"before", "due", "nudge", "snooze"})


class PromiseRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    team_id: str = Field(min_length=1)
    promiser_id: str = Field(min_length=1)
    dedupe_key: str = Field(min_length=1, max_length=255)
    promisee_ids: tuple[str, ...] = ()
    contact_name: CleanText | None = None
    # Either the words after the promisee ("send the deck by Friday 3pm") or `what` and `due_at`.
    text: CleanText | None = None
    what: CleanText = ""
    due_at: datetime | None = None
    # With `due_at`: the day matters, not the hour (reminded in the morning of that day).
    date_only: bool = False
    channel_id: str | None = None
    origin_ts: str | None = None
    context_link: str | None = None
    # The promiser is sent a confirmation (a form has no reply of its own to carry it).
    confirm: bool = False
    # The people waiting are told by DM; False when the caller tells them another way.
    tell_promisees: bool = True


@dataclass(frozen=True)
class PromiseView:
    id: int
    team_id: str
    promiser_id: str | None
    promisee_ids: tuple[str, ...]
    contact_name: str | None
    what: str
    due_at: datetime
    date_only: bool
    status: str
    version: int
    created_at: datetime
    closed_at: datetime | None
    origin_channel_id: str | None
    origin_ts: str | None
    context_link: str | None
    close_note: str | None

    @property
    def late_by(self) -> timedelta | None:
        """How late it was closed (None when on time or still open)."""
        if self.closed_at is None or self.closed_at <= self.due_at:
            return None
        return self.closed_at - self.due_at


@dataclass(frozen=True)
class PromiseNotice:
    """One message about a promise, for one reader, in the reader's timezone."""

    promise: PromiseView
    stage: Stage
    reader_id: str
    reader_tz: str
    nudge: int = 0
    thread_ts: str | None = None
    # The promiser is away until this day: the people waiting are told, so silence is not a mystery.
    promiser_away_until: date | None = None


@dataclass(frozen=True)
class MadePromise:
    promise: PromiseView
    promiser_tz: str
    duplicate: bool = False


@dataclass(frozen=True)
class PromiseLists:
    mine: list[PromiseView]
    owed_to_me: list[PromiseView]
    tz: str


class PromiseRefused(Exception):
    """Expected; rendered as a friendly private reply. Nothing was recorded."""


class NoPromisee(PromiseRefused):
    pass


class SelfPromise(PromiseRefused):
    pass


class BotPromisee(PromiseRefused):
    def __init__(self, user_ids: list[str]) -> None:
        super().__init__(user_ids)
        self.user_ids = user_ids


class InactivePromisee(PromiseRefused):
    def __init__(self, user_ids: list[str]) -> None:
        super().__init__(user_ids)
        self.user_ids = user_ids


class NothingPromised(PromiseRefused):
    pass


class WhatTooLong(PromiseRefused):
    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length
        self.limit = MAX_WHAT_CHARS


class ContactTooLong(PromiseRefused):
    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length
        self.limit = MAX_CONTACT_CHARS


class NoteTooLong(PromiseRefused):
    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length
        self.limit = MAX_NOTE_CHARS


class BadDueDate(PromiseRefused):
    def __init__(self, error: DueDateError, tz: str) -> None:
        super().__init__(error)
        self.error = error
        self.tz = tz


class PromiseBusy(PromiseRefused):
    """The chat platform could not answer for now (rate limit, outage); nothing was recorded."""

    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason, retry_after)
        self.reason = reason
        self.retry_after = retry_after


class PromiseNotFound(PromiseRefused):
    pass


class NotYourPromise(PromiseRefused):
    def __init__(self, promise: PromiseView) -> None:
        super().__init__(promise.id)
        self.promise = promise


class PromiseClosed(PromiseRefused):
    def __init__(self, promise: PromiseView) -> None:
        super().__init__(promise.id)
        self.promise = promise


class PromiseService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Clock,
        people: PeopleService,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._people = people

    def register(self, delivery: DeliveryService) -> None:
        delivery.register(NOTICE, self.compose, attention=attention)
        delivery.add_planner(self.plan_nudges)

    # ---------------------------------------------------------------- making a promise

    def make(self, request: PromiseRequest) -> MadePromise:
        """Records the promise and the messages it implies, once per `dedupe_key`."""
        promiser_tz = self._tz(request.team_id, request.promiser_id)
        with unit_of_work(self._sessions) as session:
            existing = promise_store.find_by_key(
                session, team_id=request.team_id, dedupe_key=request.dedupe_key
            )
            if existing is not None:
                return MadePromise(promise=_view(existing), promiser_tz=promiser_tz, duplicate=True)
        contact_name = (request.contact_name or "").strip() or None
        if contact_name and len(contact_name) > MAX_CONTACT_CHARS:
            raise ContactTooLong(len(contact_name))
        if len(request.text or "") > MAX_TEXT_CHARS or len(request.what) > MAX_WHAT_CHARS:
            raise WhatTooLong(max(len(request.text or ""), len(request.what)))
        promisee_ids = self._promisees(request)
        what, due = self._what_and_when(request, promiser_tz)
        now = self._clock.now()
        promisees = {user_id: self._people.schedule(request.team_id, user_id) for user_id in promisee_ids}
        promiser = self._people.schedule(request.team_id, request.promiser_id)
        with unit_of_work(self._sessions) as session:
            promise = promise_store.insert(
                session,
                team_id=request.team_id,
                dedupe_key=request.dedupe_key,
                promiser_id=request.promiser_id,
                promisee_ids=promisee_ids,
                contact_name=contact_name,
                what=what,
                due_at=due.at,
                date_only=due.date_only,
                created_at=now,
                origin_channel_id=request.channel_id,
                origin_ts=request.origin_ts,
                context_link=request.context_link,
            )
            if promise is None:
                # The same request twice at once: the other delivery recorded it.
                again = promise_store.find_by_key(
                    session, team_id=request.team_id, dedupe_key=request.dedupe_key
                )
                return MadePromise(promise=_view(_require(again)), promiser_tz=promiser_tz, duplicate=True)
            view = _view(promise)
            for user_id, schedule in promisees.items() if request.tell_promisees else ():
                self._enqueue(
                    session, view, "heard", user_id, schedule.next_open(now), key=f"heard:{user_id}"
                )
            if request.confirm:
                self._enqueue(session, view, "made", request.promiser_id, now)
            self._plan_reminders(session, view, promiser, now)
        log.debug("promise %s recorded: %s to %s", view.id, request.promiser_id, ",".join(promisee_ids))
        return MadePromise(promise=view, promiser_tz=promiser_tz)

    def _promisees(self, request: PromiseRequest) -> tuple[str, ...]:
        promisee_ids = tuple(dict.fromkeys(request.promisee_ids))
        if not promisee_ids and not (request.contact_name or "").strip():
            raise NoPromisee()
        if request.promiser_id in promisee_ids:
            raise SelfPromise()
        try:
            bots, inactive = self._people.sort_out(request.team_id, promisee_ids)
        except DeliveryError as error:
            raise PromiseBusy(error.reason, error.retry_after) from None
        if bots:
            raise BotPromisee(bots)
        if inactive:
            raise InactivePromisee(inactive)
        return promisee_ids

    def _what_and_when(self, request: PromiseRequest, tz: str) -> tuple[str, Due]:
        now = self._clock.now()
        if request.due_at is not None:
            what = request.what.strip()
            if request.due_at <= now:
                raise BadDueDate(_past(request.due_at), tz)
            if request.due_at - now > MAX_AHEAD:
                raise BadDueDate(TooFarAhead(request.due_at.isoformat()), tz)
            due = Due(at=request.due_at, date_only=request.date_only)
        else:
            text = (request.text or "").strip()
            if not text:
                raise NothingPromised()
            try:
                what, due = split_due(text, now=now, tz=tz)
            except DueDateError as error:
                raise BadDueDate(error, tz) from None
        if not what:
            raise NothingPromised()
        if len(what) > MAX_WHAT_CHARS:
            raise WhatTooLong(len(what))
        return what, due

    def _plan_reminders(
        self, session: Session, promise: PromiseView, promiser: Schedule, now: datetime
    ) -> None:
        """The reminders before and at the due time of this version of the promise."""
        if promise.promiser_id is None:
            return
        if promise.date_only:
            # The morning of the day it is due, in the promiser's zone.
            due_day = promise.due_at.astimezone(promiser.zone).date()
            before = promiser.next_open(datetime.combine(due_day, time(0), promiser.zone))
            before = min(before, promise.due_at - timedelta(minutes=1))
        else:
            before = promiser.next_open(promise.due_at - REMINDER_LEAD)
            if before >= promise.due_at and not promiser.is_open(promise.due_at):
                # Due outside their hours, with none of them in the lead before it: the heads-up comes
                # toward the end of their last working day before it, while they can still act. (Due
                # as their day starts, the reminder at the due time finds them at work.)
                opens, closes = promiser.last_window_before(promise.due_at)
                before = max(opens, closes - REMINDER_LEAD)
        if now < before < promise.due_at:
            self._enqueue(session, promise, "before", promise.promiser_id, before, versioned=True)
        # The due time is one the person chose: it is kept exactly, working hours or not.
        self._enqueue(session, promise, "due", promise.promiser_id, promise.due_at, versioned=True)

    def _enqueue(
        self,
        session: Session,
        promise: PromiseView,
        stage: Stage,
        recipient_id: str,
        at: datetime,
        *,
        key: str | None = None,
        versioned: bool = False,
        nudge: int = 0,
        thread_ts: str | None = None,
        exact: bool = False,
    ) -> bool:
        suffix = key or stage
        dedupe_key = keys.promise_message(promise.id, suffix, version=promise.version if versioned else None)
        payload: dict[str, object] = {"promise_id": promise.id, "stage": stage, "version": promise.version}
        if exact:
            payload["exact"] = True
        if nudge:
            payload["nudge"] = nudge
        if thread_ts:
            payload["thread_ts"] = thread_ts
        return outbox_store.enqueue(
            session,
            team_id=promise.team_id,
            dedupe_key=dedupe_key,
            kind=NOTICE,
            recipient_id=recipient_id,
            payload=payload,
            deliver_after=at,
            created_at=self._clock.now(),
        )

    # ---------------------------------------------------------------- the buttons

    def done(self, *, team_id: str, promise_id: int, actor_id: str) -> PromiseView:
        return self._close(team_id, promise_id, actor_id, promise_store.DONE, note=None)

    def cancel(self, *, team_id: str, promise_id: int, actor_id: str, note: str | None) -> PromiseView:
        cleaned = clean(note or "").strip() or None
        if cleaned and len(cleaned) > MAX_NOTE_CHARS:
            raise NoteTooLong(len(cleaned))
        return self._close(team_id, promise_id, actor_id, promise_store.CANCELLED, note=cleaned)

    def _close(
        self, team_id: str, promise_id: int, actor_id: str, status: str, note: str | None
    ) -> PromiseView:
        promise = self._owned(team_id, promise_id, actor_id)
        promisees = {user_id: self._people.schedule(team_id, user_id) for user_id in promise.promisee_ids}
        now = self._clock.now()
        with unit_of_work(self._sessions) as session:
            if not promise_store.close(
                session, team_id=team_id, promise_id=promise_id, status=status, at=now, note=note
            ):
                raise PromiseClosed(self.get(team_id=team_id, promise_id=promise_id))
            outbox_store.cancel_pending(
                session, team_id=team_id, key_prefix=keys.promise(promise_id), reason=status
            )
            closed = _view(_require(promise_store.get(session, team_id=team_id, promise_id=promise_id)))
            stage: Stage = "done" if status == promise_store.DONE else "cancelled"
            for user_id, schedule in promisees.items():
                self._enqueue(
                    session, closed, stage, user_id, schedule.next_open(now), key=f"closed:{user_id}"
                )
        return closed

    def snooze(
        self, *, team_id: str, promise_id: int, actor_id: str, until: Literal["hour", "morning"], token: str
    ) -> datetime:
        """Another reminder in an hour (exactly) or at the start of the next working morning."""
        promise = self._owned(team_id, promise_id, actor_id)
        if promise.status != promise_store.OPEN:
            raise PromiseClosed(promise)
        now = self._clock.now()
        at = (
            now + timedelta(hours=1)
            if until == "hour"
            else self._people.schedule(team_id, actor_id).next_morning(now)
        )
        with unit_of_work(self._sessions) as session:
            self._enqueue(
                session, promise, "snooze", actor_id, at, key=f"snooze:{token}", exact=until == "hour"
            )
        return at

    def still_on_it(
        self, *, team_id: str, promise_id: int, actor_id: str, new_due_at: datetime
    ) -> PromiseView:
        """A new ETA: the old reminders go, new ones are planned, and the people waiting are told."""
        promise = self._owned(team_id, promise_id, actor_id)
        if promise.status != promise_store.OPEN:
            raise PromiseClosed(promise)
        if promise.due_at == new_due_at:
            return promise  # the same ETA again (a redelivered form): nothing new to tell anyone
        now = self._clock.now()
        tz = self._tz(team_id, actor_id)
        if new_due_at <= now:
            raise BadDueDate(_past(new_due_at), tz)
        if new_due_at - now > MAX_AHEAD:
            raise BadDueDate(TooFarAhead(new_due_at.isoformat()), tz)
        promisees = {user_id: self._people.schedule(team_id, user_id) for user_id in promise.promisee_ids}
        promiser = self._people.schedule(team_id, actor_id)
        with unit_of_work(self._sessions) as session:
            if not promise_store.reschedule(
                session,
                team_id=team_id,
                promise_id=promise_id,
                from_version=promise.version,
                due_at=new_due_at,
                date_only=False,
            ):
                # Closed or changed meanwhile (a double click): report what it is now.
                current = self.get(team_id=team_id, promise_id=promise_id)
                if current.status != promise_store.OPEN:
                    raise PromiseClosed(current)
                return current
            outbox_store.cancel_pending(
                session,
                team_id=team_id,
                key_prefix=keys.promise_version(promise_id, promise.version),
                reason="new ETA",
            )
            outbox_store.cancel_pending(
                session, team_id=team_id, key_prefix=keys.promise_snoozes(promise_id), reason="new ETA"
            )
            updated = _view(_require(promise_store.get(session, team_id=team_id, promise_id=promise_id)))
            self._plan_reminders(session, updated, promiser, now)
            if updated.origin_channel_id and updated.origin_ts:
                # Where the request was made, so everybody who saw it sees the update.
                self._enqueue(
                    session,
                    updated,
                    "eta",
                    updated.origin_channel_id,
                    now,
                    key="eta:thread",
                    versioned=True,
                    thread_ts=updated.origin_ts,
                )
            else:
                for user_id, schedule in promisees.items():
                    self._enqueue(
                        session,
                        updated,
                        "eta",
                        user_id,
                        schedule.next_open(now),
                        key=f"eta:{user_id}",
                        versioned=True,
                    )
        return updated

    # ---------------------------------------------------------------- reading

    def get(self, *, team_id: str, promise_id: int) -> PromiseView:
        with unit_of_work(self._sessions) as session:
            promise = promise_store.get(session, team_id=team_id, promise_id=promise_id)
            if promise is None:
                raise PromiseNotFound()
            return _view(promise)

    def lists(self, *, team_id: str, user_id: str) -> PromiseLists:
        tz = self._tz(team_id, user_id)
        with unit_of_work(self._sessions) as session:
            mine = [
                _view(p) for p in promise_store.open_by_promiser(session, team_id=team_id, user_id=user_id)
            ]
            owed = [
                _view(p) for p in promise_store.open_for_promisee(session, team_id=team_id, user_id=user_id)
            ]
        return PromiseLists(mine=mine, owed_to_me=owed, tz=tz)

    def tz_of(self, team_id: str, user_id: str) -> str:
        return self._tz(team_id, user_id)

    def _owned(self, team_id: str, promise_id: int, actor_id: str) -> PromiseView:
        promise = self.get(team_id=team_id, promise_id=promise_id)
        if promise.promiser_id != actor_id:
            raise NotYourPromise(promise)
        return promise

    def _tz(self, team_id: str, user_id: str) -> str:
        return self._people.tz(team_id, user_id)

    # ---------------------------------------------------------------- the delivery engine's side

    def compose(self, message: Outbound) -> PromiseNotice | None:
        """What to send for an outbox row, as of now; None when the promise moved on."""
        try:
            promise = self.get(team_id=message.team_id, promise_id=int(message.payload["promise_id"]))
        except PromiseNotFound:
            return None
        stage: Stage = message.payload["stage"]
        if stage == "made" and promise.status != promise_store.OPEN:
            return None
        if stage in REMINDER_STAGES and (
            promise.status != promise_store.OPEN or int(message.payload.get("version", 0)) != promise.version
        ):
            return None
        thread_ts = message.payload.get("thread_ts")
        # A thread has many readers: the renderer lets the platform show each their own time.
        reader_tz = "UTC" if thread_ts else self._tz(message.team_id, message.recipient_id)
        away_until = None
        if promise.promiser_id and message.recipient_id != promise.promiser_id:
            schedule = self._people.schedule(message.team_id, promise.promiser_id)
            if schedule.is_away(message.as_of or self._clock.now()):
                away_until = schedule.away_until
        return PromiseNotice(
            promise=promise,
            stage=stage,
            reader_id=message.recipient_id,
            reader_tz=reader_tz,
            nudge=int(message.payload.get("nudge", 0)),
            thread_ts=thread_ts,
            promiser_away_until=away_until,
        )

    def plan_nudges(self, session: Session, now: datetime) -> int:
        """Overdue promises: a nudge on each of the next working mornings (3), then weekly."""
        planned = 0
        for promise in _pages(
            lambda after: promise_store.overdue(session, now=now, after_id=after, limit=PAGE)
        ):
            if promise.promiser_id is None:
                continue
            promiser = schedule_in(session, team_id=promise.team_id, user_id=promise.promiser_id)
            latest: tuple[int, datetime] | None = None
            at = promise.due_at
            for n in range(1, 500):
                at = promiser.next_morning(at) if n <= DAILY_NUDGES else at + timedelta(days=7)
                if at > now:
                    break
                latest = (n, at)
            if latest is None:
                continue
            n, at = latest
            key = keys.promise_message(promise.id, f"nudge:{n}", version=promise.version)
            if not outbox_store.exists(
                session, team_id=promise.team_id, dedupe_key=key
            ) and outbox_store.any_since(
                session,
                team_id=promise.team_id,
                key_prefix=keys.promise(promise.id),
                recipient_id=promise.promiser_id,
                since=at - NUDGE_QUIET,
            ):
                continue  # a snooze or a reminder lands about now anyway: one message, not two
            # Only the latest nudge: after an outage, one catch-up message, not a pile.
            if self._enqueue(
                session,
                _view(promise),
                "nudge",
                promise.promiser_id,
                at,
                key=f"nudge:{n}",
                versioned=True,
                nudge=n,
            ):
                planned += 1
        return planned


PAGE = 500


def attention(message: Outbound) -> Attention:
    """A confirmation comes at once. The due time and an hour's snooze are times the promiser chose:
    kept exactly, unless they are away. Word to the people waiting and the heads-up before it is due
    wait for the reader's working hours; morning nudges can also join the reader's digest."""
    stage = message.payload.get("stage")
    if stage == "made":
        return "now"
    if stage == "due" or (stage == "snooze" and message.payload.get("exact")):
        return "exact"
    if stage == "nudge" or stage == "snooze":
        return "digest"
    return "waits"


def _pages(fetch: Callable[[int], list[Promise]]) -> Iterator[Promise]:
    """Every row, a page at a time, so no planner silently stops at a limit."""
    after = 0
    while page := fetch(after):
        yield from page
        after = page[-1].id


def _past(at: datetime) -> DueDateError:
    from bot.services.due_dates import PastDueDate

    return PastDueDate(at.isoformat(), at)


def _require(promise: Promise | None) -> Promise:
    if promise is None:
        raise PromiseNotFound()
    return promise


def _view(promise: Promise) -> PromiseView:
    return PromiseView(
        id=promise.id,
        team_id=promise.team_id,
        promiser_id=promise.promiser_id,
        promisee_ids=tuple(p.user_id for p in promise.promisees),
        contact_name=promise.contact_name,
        what=promise.what,
        due_at=promise.due_at,
        date_only=promise.date_only,
        status=promise.status,
        version=promise.version,
        created_at=promise.created_at,
        closed_at=promise.closed_at,
        origin_channel_id=promise.origin_channel_id,
        origin_ts=promise.origin_ts,
        context_link=promise.context_link,
        close_note=promise.close_note,
    )
