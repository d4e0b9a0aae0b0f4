"""Check-ins: "every 2 weeks with @dan", a recurring nudge to get in touch, in the requester's hours."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services import keys
from bot.services.delivery import DeliveryService, Outbound
from bot.services.hours import MORNING, Schedule, zone_of
from bot.services.people import PeopleService, schedule_in
from bot.services.ports import DeliveryError
from bot.services.text import CleanText
from storage import checkins as checkin_store
from storage import outbox as outbox_store
from storage.db import SessionFactory, unit_of_work
from storage.models import Checkin

NOTICE = "checkin.notice"
Unit = Literal["day", "week", "month"]

_EVERY = re.compile(
    r"^every\s+(?:(\d{1,3}|a|an|one|two|three|four|six|other)\s+)?(day|week|fortnight|month|quarter|year)s?\b\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "other": 2}
# (unit, multiplier) for each word people use.
_UNITS: dict[str, tuple[Unit, int]] = {
    "day": ("day", 1),
    "week": ("week", 1),
    "fortnight": ("week", 2),
    "month": ("month", 1),
    "quarter": ("month", 3),
    "year": ("month", 12),
}
_LIMITS: dict[Unit, int] = {"day": 365, "week": 104, "month": 36}
MAX_TEXT_CHARS = 500
MAX_CONTACT_CHARS = 200
EXAMPLES = "`every week`, `every 2 weeks`, `every month`, `every 6 months`, `every quarter`"


class CheckinRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    team_id: str = Field(min_length=1)
    requester_id: str = Field(min_length=1)
    dedupe_key: str = Field(min_length=1, max_length=255)
    contact_user_id: str | None = None
    contact_name: CleanText | None = None
    # "every 2 weeks catch up on the roadmap"
    text: CleanText = ""


@dataclass(frozen=True)
class CheckinView:
    id: int
    team_id: str
    requester_id: str | None
    contact_user_id: str | None
    contact_name: str | None
    every_count: int
    every_unit: str
    note: str | None
    status: str
    next_at: datetime
    last_done_at: datetime | None


@dataclass(frozen=True)
class CheckinNotice:
    checkin: CheckinView
    reader_tz: str
    snoozed: bool = False


@dataclass(frozen=True)
class MadeCheckin:
    checkin: CheckinView
    tz: str
    duplicate: bool = False


class CheckinRefused(Exception):
    pass


class NoContact(CheckinRefused):
    pass


class SelfCheckin(CheckinRefused):
    pass


class BotContact(CheckinRefused):
    def __init__(self, user_id: str) -> None:
        super().__init__(user_id)
        self.user_id = user_id


class InactiveContact(CheckinRefused):
    def __init__(self, user_id: str) -> None:
        super().__init__(user_id)
        self.user_id = user_id


class CheckinBusy(CheckinRefused):
    """The chat platform could not answer for now; nothing was recorded."""

    def __init__(self, retry_after: float | None) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class CheckinTooLong(CheckinRefused):
    def __init__(self, length: int, limit: int) -> None:
        super().__init__(length, limit)
        self.length = length
        self.limit = limit


class BadInterval(CheckinRefused):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class CheckinNotFound(CheckinRefused):
    pass


class NotYourCheckin(CheckinRefused):
    pass


class CheckinStopped(CheckinRefused):
    def __init__(self, checkin: CheckinView) -> None:
        super().__init__(checkin.id)
        self.checkin = checkin


def parse_every(text: str) -> tuple[int, Unit, str]:
    """ "every 2 weeks catch up" -> (2, "week", "catch up"). Raises BadInterval."""
    match = _EVERY.match(text.strip())
    if not match:
        raise BadInterval(text)
    raw_count, word, rest = match.groups()
    count = 1 if raw_count is None else _WORDS.get(raw_count.lower()) or int(raw_count)
    unit, multiplier = _UNITS[word.lower()]
    count *= multiplier
    if not 1 <= count <= _LIMITS[unit]:
        raise BadInterval(text)
    return count, unit, rest.strip()


def add_interval(start: date, unit: str, count: int) -> date:
    if unit == "day":
        return start + timedelta(days=count)
    if unit == "week":
        return start + timedelta(weeks=count)
    month_index = start.month - 1 + count
    year, month = start.year + month_index // 12, month_index % 12 + 1
    # 31 January + 1 month is the last day of February, not 3 March.
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


class CheckinService:
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
        # A check-in can wait for someone away, and join their daily digest.
        delivery.register(NOTICE, self.compose, attention="digest")
        delivery.add_planner(self.plan_due)

    def make(self, request: CheckinRequest) -> MadeCheckin:
        schedule = self._people.schedule(request.team_id, request.requester_id)
        tz = schedule.tz
        with unit_of_work(self._sessions) as session:
            existing = checkin_store.find_by_key(
                session, team_id=request.team_id, dedupe_key=request.dedupe_key
            )
            if existing is not None:
                return MadeCheckin(checkin=self._view(existing, schedule), tz=tz, duplicate=True)
        contact_name = (request.contact_name or "").strip() or None
        if not request.contact_user_id and not contact_name:
            raise NoContact()
        if request.contact_user_id == request.requester_id:
            raise SelfCheckin()
        if len(request.text) > MAX_TEXT_CHARS:
            raise CheckinTooLong(len(request.text), MAX_TEXT_CHARS)
        if contact_name and len(contact_name) > MAX_CONTACT_CHARS:
            raise CheckinTooLong(len(contact_name), MAX_CONTACT_CHARS)
        count, unit, note = parse_every(request.text)
        if request.contact_user_id:
            self._check_contact(request.team_id, request.contact_user_id)
        today = self._clock.now().astimezone(zone_of(tz)).date()
        with unit_of_work(self._sessions) as session:
            checkin = checkin_store.insert(
                session,
                team_id=request.team_id,
                dedupe_key=request.dedupe_key,
                requester_id=request.requester_id,
                contact_user_id=request.contact_user_id,
                contact_name=contact_name,
                every_count=count,
                every_unit=unit,
                note=note or None,
                start_date=add_interval(today, unit, count),
                local_time=MORNING,
                created_at=self._clock.now(),
            )
            duplicate = checkin is None
            if checkin is None:
                # The same request twice at once: the other delivery recorded it.
                checkin = checkin_store.find_by_key(
                    session, team_id=request.team_id, dedupe_key=request.dedupe_key
                )
                if checkin is None:
                    raise CheckinNotFound()
            return MadeCheckin(checkin=self._view(checkin, schedule), tz=tz, duplicate=duplicate)

    def _check_contact(self, team_id: str, user_id: str) -> None:
        """The same rules as kudos and promises: a person who exists, is not a bot and is still here."""
        try:
            bots, gone = self._people.sort_out(team_id, (user_id,))
        except DeliveryError as error:
            raise CheckinBusy(error.retry_after) from None
        if bots:
            raise BotContact(user_id)
        if gone:
            raise InactiveContact(user_id)

    def occurrence_at(self, checkin: Checkin, occurrence: int, schedule: Schedule) -> datetime:
        """Occurrence 1 is `start_date`; one on a day they do not work (or are away) moves to their
        next working morning."""
        day = add_interval(checkin.start_date, checkin.every_unit, checkin.every_count * (occurrence - 1))
        return schedule.next_open(datetime.combine(day, checkin.local_time, schedule.zone))

    def plan_due(self, session: Session, now: datetime) -> int:
        """Enqueues the latest occurrence that has come (one catch-up, not a pile) and moves on."""
        planned = 0
        for checkin in self._maybe_due(session, now):
            if checkin.requester_id is None:
                continue
            schedule = schedule_in(session, team_id=checkin.team_id, user_id=checkin.requester_id)
            occurrence = checkin.next_occurrence
            if self.occurrence_at(checkin, occurrence, schedule) > now:
                continue
            while self.occurrence_at(checkin, occurrence + 1, schedule) <= now and occurrence < 10_000:
                occurrence += 1
            at = self.occurrence_at(checkin, occurrence, schedule)
            outbox_store.enqueue(
                session,
                team_id=checkin.team_id,
                dedupe_key=keys.checkin_occurrence(checkin.id, occurrence),
                kind=NOTICE,
                recipient_id=checkin.requester_id,
                payload={"checkin_id": checkin.id, "occurrence": occurrence},
                deliver_after=at,
                created_at=now,
            )
            if checkin_store.advance(
                session,
                team_id=checkin.team_id,
                checkin_id=checkin.id,
                from_occurrence=checkin.next_occurrence,
                to_occurrence=occurrence + 1,
            ):
                planned += 1
        return planned

    @staticmethod
    def _maybe_due(session: Session, now: datetime) -> Iterator[Checkin]:
        """Active check-ins whose next occurrence may have come: its local day began by now in any
        zone, so it is no later than the day after UTC's today."""
        day = now.date() + timedelta(days=1)
        after = 0
        while page := checkin_store.active_due_by(session, day=day, after_id=after, limit=500):
            yield from page
            after = page[-1].id

    def compose(self, message: Outbound) -> CheckinNotice | None:
        try:
            checkin = self.get(team_id=message.team_id, checkin_id=int(message.payload["checkin_id"]))
        except CheckinNotFound:
            return None
        if checkin.status != checkin_store.ACTIVE:
            return None
        return CheckinNotice(
            checkin=checkin,
            reader_tz=self._tz(message.team_id, message.recipient_id),
            snoozed=bool(message.payload.get("snoozed")),
        )

    def done(
        self, *, team_id: str, checkin_id: int, actor_id: str, skipped: bool = False, token: str | None = None
    ) -> CheckinView:
        """Done (or skipped) this time; `token` is the click's own id, so a click delivered twice counts once."""
        checkin = self._owned(team_id, checkin_id, actor_id)
        now = self._clock.now()
        if not skipped:
            with unit_of_work(self._sessions) as session:
                checkin_store.mark_done(
                    session,
                    team_id=team_id,
                    checkin_id=checkin_id,
                    requester_id=actor_id,
                    at=now,
                    token=token or now.isoformat(),
                )
        return self.get(team_id=team_id, checkin_id=checkin.id)

    def snooze(self, *, team_id: str, checkin_id: int, actor_id: str, token: str) -> datetime:
        checkin = self._owned(team_id, checkin_id, actor_id)
        at = self._people.schedule(team_id, actor_id).next_morning(self._clock.now())
        with unit_of_work(self._sessions) as session:
            outbox_store.enqueue(
                session,
                team_id=team_id,
                dedupe_key=keys.checkin_snooze(checkin.id, token),
                kind=NOTICE,
                recipient_id=actor_id,
                payload={"checkin_id": checkin.id, "snoozed": True},
                deliver_after=at,
                created_at=self._clock.now(),
            )
        return at

    def stop(self, *, team_id: str, checkin_id: int, actor_id: str) -> CheckinView:
        self._owned(team_id, checkin_id, actor_id)
        with unit_of_work(self._sessions) as session:
            checkin_store.stop(session, team_id=team_id, checkin_id=checkin_id)
            outbox_store.cancel_pending(
                session, team_id=team_id, key_prefix=keys.checkin(checkin_id), reason="stopped"
            )
        return self.get(team_id=team_id, checkin_id=checkin_id)

    def active(self, *, team_id: str, user_id: str) -> tuple[list[CheckinView], str]:
        schedule = self._people.schedule(team_id, user_id)
        with unit_of_work(self._sessions) as session:
            return [
                self._view(c, schedule)
                for c in checkin_store.active_for(session, team_id=team_id, requester_id=user_id)
            ], schedule.tz

    def get(self, *, team_id: str, checkin_id: int) -> CheckinView:
        with unit_of_work(self._sessions) as session:
            checkin = checkin_store.get(session, team_id=team_id, checkin_id=checkin_id)
            if checkin is None:
                raise CheckinNotFound()
            return self._view(checkin, self._schedule_stored(session, checkin))

    def _owned(self, team_id: str, checkin_id: int, actor_id: str) -> CheckinView:
        checkin = self.get(team_id=team_id, checkin_id=checkin_id)
        if checkin.requester_id != actor_id:
            raise NotYourCheckin()
        if checkin.status != checkin_store.ACTIVE:
            raise CheckinStopped(checkin)
        return checkin

    def _tz(self, team_id: str, user_id: str) -> str:
        return self._people.tz(team_id, user_id)

    @staticmethod
    def _schedule_stored(session: Session, checkin: Checkin) -> Schedule:
        if checkin.requester_id is None:
            return Schedule()
        return schedule_in(session, team_id=checkin.team_id, user_id=checkin.requester_id)

    def _view(self, checkin: Checkin, schedule: Schedule) -> CheckinView:
        return CheckinView(
            id=checkin.id,
            team_id=checkin.team_id,
            requester_id=checkin.requester_id,
            contact_user_id=checkin.contact_user_id,
            contact_name=checkin.contact_name,
            every_count=checkin.every_count,
            every_unit=checkin.every_unit,
            note=checkin.note,
            status=checkin.status,
            next_at=self.occurrence_at(checkin, checkin.next_occurrence, schedule),
            last_done_at=checkin.last_done_at,
        )
