"""Birthdays and work anniversaries: shared by the person (or imported by an admin), celebrated at a
humane local hour in the celebrations channel, never with an age or a year of birth.

Rules: a weekend date is celebrated on the Friday before (or the Monday after, or on the day, per
workspace), worded for the real date; 29 February is celebrated on 28 February in other years;
people celebrating on the same day in the same timezone share one post.
"""

from __future__ import annotations

import calendar
import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services import keys
from bot.services.delivery import DeliveryService, Outbound
from bot.services.hours import zone_of
from bot.services.people import PeopleService, schedule_in
from bot.services.ports import DeliveryError
from bot.services.workspaces import WorkspaceService
from storage import channels as channels_store
from storage import dates as dates_store
from storage import outbox as outbox_store
from storage.db import SessionFactory, unit_of_work
from storage.models import PersonDates

POST = "celebration.post"
DM = "celebration.dm"
HEADS_UP = "celebration.heads_up"
LAST_POST_HOUR = time(17, 0)
# The planner looks at celebrations from this many days before a person's today, over this many days:
# a weekend rule can move one to the Friday before or the Monday after.
PLANNED_FROM = 3
PLANNED_DAYS = 8
UPCOMING_DAYS = 30

Kind = Literal["birthday", "anniversary"]
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name} | {
    name.lower(): number for number, name in enumerate(calendar.month_abbr) if name
}
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:,?\s+\d{4})?$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+\d{4})?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class DateRefused(ValueError):
    """A date we cannot use; the message says what to type instead."""


@dataclass(frozen=True)
class Celebration:
    user_id: str
    kind: Kind
    on: date  # the real date this year (28 February for a 29 February birthday in other years)
    years: int = 0  # for anniversaries


@dataclass(frozen=True)
class CelebrationPost:
    posted_on: date
    celebrations: list[Celebration] = field(default_factory=list)


@dataclass(frozen=True)
class CelebrationDM:
    posted_on: date
    celebration: Celebration


@dataclass(frozen=True)
class HeadsUp:
    """Tomorrow's celebration, for a teammate who may want to say something."""

    posted_on: date
    celebration: Celebration
    channel_id: str


@dataclass(frozen=True)
class SharedDates:
    birthday: tuple[int, int] | None
    start_date: date | None


@dataclass(frozen=True)
class ImportReport:
    imported: list[str]
    skipped: list[tuple[int, str]]  # (line number, why)


def parse_birthday(text: str) -> tuple[int, int]:
    """ "14 March", "March 14th", "14 Mar 1990" (the year is dropped), "1990-03-14", "--03-14"."""
    phrase = " ".join(text.lower().replace(",", " ").split())
    if match := _ISO.match(phrase):
        month, day = int(match.group(2)), int(match.group(3))
    elif phrase.startswith("--") and (match := re.match(r"^--(\d{2})-(\d{2})$", phrase)):
        month, day = int(match.group(1)), int(match.group(2))
    elif match := _DAY_MONTH.match(phrase):
        day, month = int(match.group(1)), _MONTHS.get(match.group(2), 0)
    elif match := _MONTH_DAY.match(phrase):
        month, day = _MONTHS.get(match.group(1), 0), int(match.group(2))
    else:
        raise DateRefused("Write the day and the month, like `14 March` (no year needed).")
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2024, month)[1]:
        raise DateRefused(f"`{text.strip()}` isn't a day of the year. Try `14 March`.")
    return month, day


def parse_start_date(text: str, *, today: date) -> date:
    """ "2021-04-12" or "12 April 2021": a full date, not in the future."""
    phrase = " ".join(text.lower().replace(",", " ").split())
    try:
        if match := _ISO.match(phrase):
            start = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        elif (match := re.match(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\s+(\d{4})$", phrase)) and match.group(
            2
        ) in _MONTHS:
            start = date(int(match.group(3)), _MONTHS[match.group(2)], int(match.group(1)))
        elif (match := re.match(r"^([a-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?\s+(\d{4})$", phrase)) and match.group(
            1
        ) in _MONTHS:
            start = date(int(match.group(3)), _MONTHS[match.group(1)], int(match.group(2)))
        else:
            raise DateRefused("Write the date you started, like `2021-04-12` or `12 April 2021`.")
    except ValueError as error:
        if isinstance(error, DateRefused):
            raise
        raise DateRefused(f"`{text.strip()}` isn't a date. Try `2021-04-12`.") from None
    if start > today:
        raise DateRefused("That's in the future. Share your start date once you've started!")
    if start.year < 1950:
        raise DateRefused("That looks a little too long ago. Try `2021-04-12`.")
    return start


def on_in_year(month: int, day: int, year: int) -> date:
    """29 February falls on 28 February in years without one."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def posting_day(on: date, rule: str) -> date:
    if on.weekday() < 5 or rule == "same_day":
        return on
    if rule == "monday":
        return on + timedelta(days=7 - on.weekday())
    return on - timedelta(days=on.weekday() - 4)


class CelebrationService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Clock,
        people: PeopleService,
        workspaces: WorkspaceService,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._people = people
        self._workspaces = workspaces

    def register(self, delivery: DeliveryService) -> None:
        delivery.register(POST, self.compose_post)
        delivery.register(DM, self.compose_dm, attention="waits")
        delivery.register(HEADS_UP, self.compose_heads_up, attention="digest")
        delivery.add_planner(self.plan)

    # ---------------------------------------------------------------- who is in the celebrations channel

    def member_joined(self, *, team_id: str, channel_id: str, user_id: str) -> bool:
        """Kept as reported, with no lookup (this runs before the platform is acknowledged): bots are
        left out when a heads-up is planned, if already known, or when it is sent. True when kept."""
        if channel_id != self._workspaces.get(team_id).celebrations_channel_id:
            return False
        with unit_of_work(self._sessions) as session:
            channels_store.add(session, team_id=team_id, channel_id=channel_id, user_id=user_id)
        return True

    def member_left(self, *, team_id: str, channel_id: str, user_id: str) -> None:
        with unit_of_work(self._sessions) as session:
            channels_store.remove(session, team_id=team_id, channel_id=channel_id, user_id=user_id)

    def refresh_members(self, *, team_id: str, channel_id: str, user_ids: list[str]) -> int:
        """Keeps the people (not bots) among `user_ids`, caching each one's timezone on the way."""
        people = [user_id for user_id in user_ids if self._is_person(team_id, user_id)]
        with unit_of_work(self._sessions) as session:
            channels_store.replace(session, team_id=team_id, channel_id=channel_id, user_ids=people)
        return len(people)

    def _is_person(self, team_id: str, user_id: str) -> bool:
        try:
            person = self._people.get(team_id, user_id)
        except DeliveryError as error:
            # Not known yet (a rate limit): kept, and planned for once their profile is cached.
            return not error.gone
        return not (person.is_bot or person.is_deleted)

    # ---------------------------------------------------------------- sharing and forgetting dates

    def share_birthday(
        self, *, team_id: str, user_id: str, text: str, source: str = "self"
    ) -> tuple[int, int]:
        month, day = parse_birthday(text)
        self._local_today(team_id, user_id)  # caches their timezone for the planner, which cannot ask Slack
        with unit_of_work(self._sessions) as session:
            dates_store.set_birthday(
                session,
                team_id=team_id,
                user_id=user_id,
                month=month,
                day=day,
                source=source,
                at=self._clock.now(),
            )
        return month, day

    def share_start_date(self, *, team_id: str, user_id: str, text: str, source: str = "self") -> date:
        start = parse_start_date(text, today=self._local_today(team_id, user_id))
        with unit_of_work(self._sessions) as session:
            dates_store.set_start_date(
                session, team_id=team_id, user_id=user_id, start=start, source=source, at=self._clock.now()
            )
        return start

    def clear(self, *, team_id: str, user_id: str, kind: Kind) -> None:
        with unit_of_work(self._sessions) as session:
            if kind == "birthday":
                dates_store.set_birthday(
                    session,
                    team_id=team_id,
                    user_id=user_id,
                    month=None,
                    day=None,
                    source="self",
                    at=self._clock.now(),
                )
            else:
                dates_store.set_start_date(
                    session, team_id=team_id, user_id=user_id, start=None, source="self", at=self._clock.now()
                )
            outbox_store.cancel_pending(
                session, team_id=team_id, key_prefix=keys.celebrations_of(user_id), reason="cleared"
            )

    def shared(self, *, team_id: str, user_id: str) -> SharedDates:
        with unit_of_work(self._sessions) as session:
            row = dates_store.get(session, team_id=team_id, user_id=user_id)
            if row is None:
                return SharedDates(birthday=None, start_date=None)
            birthday = (
                (row.birthday_month, row.birthday_day) if row.birthday_month and row.birthday_day else None
            )
            return SharedDates(birthday=birthday, start_date=row.start_date)

    def upcoming(self, *, team_id: str, viewer_id: str, days: int = UPCOMING_DAYS) -> list[Celebration]:
        """Celebrations in the next `days` days, by the viewer's calendar (people who shared dates)."""
        return self.between(team_id=team_id, first=self._local_today(team_id, viewer_id), days=days)

    def between(self, *, team_id: str, first: date, days: int) -> list[Celebration]:
        """Celebrations on the `days` days from `first` (people who shared dates, deactivated left out)."""
        with unit_of_work(self._sessions) as session:
            rows = [row for row, _ in dates_store.active_in_team(session, team_id=team_id)]
        found = [
            celebration
            for row in rows
            for celebration in _celebrations(
                row.user_id, row.birthday_month, row.birthday_day, row.start_date, first, days
            )
        ]
        return sorted(found, key=lambda c: (c.on, c.user_id, c.kind))

    def import_csv(
        self, *, team_id: str, path: Path, lookup_email: Callable[[str, str], str]
    ) -> ImportReport:
        """Rows of (Slack user id or email, birthday, start date), all in one transaction. A file that
        cannot be read as CSV, or lacks the columns, changes nothing and raises DateRefused."""
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
                columns = {name.strip().lower() for name in (rows[0].keys() if rows else [])}
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise DateRefused(f"{path} can't be read as CSV: {error}") from None
        if not rows or "user" not in columns or not ({"birthday", "start_date"} & columns):
            raise DateRefused(
                "The file needs a header row: user,birthday,start_date (user is a Slack id or an email)."
            )
        imported: list[str] = []
        skipped: list[tuple[int, str]] = []
        today = self._clock.now().date()
        now = self._clock.now()
        accepted: list[tuple[str, tuple[int, int] | None, date | None]] = []
        # Emails are looked up first: no platform call happens inside the transaction below.
        for line, raw in enumerate(rows, start=2):
            row = {(key or "").strip().lower(): (value or "").strip() for key, value in raw.items()}
            who = row.get("user", "")
            if not who:
                skipped.append((line, "no user"))
                continue
            try:
                birthday = parse_birthday(row["birthday"]) if row.get("birthday") else None
                start = parse_start_date(row["start_date"], today=today) if row.get("start_date") else None
            except DateRefused as error:
                skipped.append((line, f"{who}: {error}"))
                continue
            if birthday is None and start is None:
                skipped.append((line, f"{who}: no dates"))
                continue
            user_id = who
            if "@" in who:
                try:
                    user_id = lookup_email(team_id, who)
                except DeliveryError as error:
                    skipped.append((line, f"{who}: no Slack user with that email ({error.reason})"))
                    continue
            accepted.append((user_id, birthday, start))
        with unit_of_work(self._sessions) as session:
            for user_id, birthday, start in accepted:
                if birthday:
                    dates_store.set_birthday(
                        session,
                        team_id=team_id,
                        user_id=user_id,
                        month=birthday[0],
                        day=birthday[1],
                        source="import",
                        at=now,
                    )
                if start:
                    dates_store.set_start_date(
                        session, team_id=team_id, user_id=user_id, start=start, source="import", at=now
                    )
                imported.append(user_id)
        for user_id in imported:
            self._local_today(team_id, user_id)  # caches their timezone for the planner
        return ImportReport(imported=imported, skipped=skipped)

    # ---------------------------------------------------------------- planning and composing

    def plan(self, session: Session, now: datetime) -> int:
        """Today's and tomorrow's celebrations in each person's zone, at the workspace's hour."""
        planned = 0
        settings_by_team: dict[str, tuple[str | None, int, str, bool]] = {}
        for row, tz in _dated_people(session, now):
            if row.team_id not in settings_by_team:
                settings = self._workspaces.get(row.team_id)
                settings_by_team[row.team_id] = (
                    settings.celebrations_channel_id,
                    settings.celebration_hour,
                    settings.weekend_rule,
                    settings.celebration_heads_up,
                )
            channel_id, hour, rule, heads_up = settings_by_team[row.team_id]
            zone = zone_of(tz)
            local_today = now.astimezone(zone).date()
            for celebration in _celebrations(
                row.user_id,
                row.birthday_month,
                row.birthday_day,
                row.start_date,
                local_today - timedelta(days=PLANNED_FROM),
                PLANNED_DAYS,
            ):
                posted_on = posting_day(celebration.on, rule)
                if not local_today <= posted_on <= local_today + timedelta(days=1):
                    continue
                at = datetime.combine(posted_on, time(hour, 0), zone)
                expires = datetime.combine(posted_on, LAST_POST_HOUR, zone)
                payload = {
                    "posted_on": posted_on.isoformat(),
                    "tz": tz,
                    "user_id": row.user_id,
                    "kind": celebration.kind,
                }
                if channel_id:
                    planned += outbox_store.enqueue(
                        session,
                        team_id=row.team_id,
                        dedupe_key=keys.celebration_post(posted_on.isoformat(), tz),
                        kind=POST,
                        recipient_id=channel_id,
                        payload={"posted_on": posted_on.isoformat(), "tz": tz},
                        deliver_after=at,
                        expires_at=expires,
                        created_at=now,
                    )
                if heads_up and channel_id and posted_on == local_today + timedelta(days=1):
                    planned += self._plan_heads_up(
                        session, row.team_id, channel_id, celebration, posted_on, at, tz, now
                    )
                planned += outbox_store.enqueue(
                    session,
                    team_id=row.team_id,
                    dedupe_key=keys.celebration_dm(row.user_id, celebration.kind, posted_on.isoformat()),
                    kind=DM,
                    recipient_id=row.user_id,
                    payload=payload,
                    deliver_after=at,
                    expires_at=expires,
                    created_at=now,
                )
        return planned

    def _plan_heads_up(
        self,
        session: Session,
        team_id: str,
        channel_id: str,
        celebration: Celebration,
        posted_on: date,
        post_at: datetime,
        tz: str,
        now: datetime,
    ) -> int:
        """One DM per teammate in the celebrations channel, the day before, in their working hours."""
        planned = 0
        day_before = datetime.combine(
            posted_on - timedelta(days=1), post_at.timetz().replace(tzinfo=None), zone_of(tz)
        )
        for teammate_id, _ in channels_store.members_with_zones(
            session, team_id=team_id, channel_id=channel_id
        ):
            if teammate_id == celebration.user_id:
                continue
            at = schedule_in(session, team_id=team_id, user_id=teammate_id).next_open(day_before)
            if at >= post_at:
                continue  # no working hours before the celebration itself: the post will do
            planned += outbox_store.enqueue(
                session,
                team_id=team_id,
                dedupe_key=keys.celebration_heads_up(celebration.user_id, posted_on.isoformat(), teammate_id),
                kind=HEADS_UP,
                recipient_id=teammate_id,
                payload={
                    "posted_on": posted_on.isoformat(),
                    "user_id": celebration.user_id,
                    "kind": celebration.kind,
                },
                deliver_after=at,
                expires_at=post_at,
                created_at=now,
            )
        return planned

    def compose_heads_up(self, message: Outbound) -> HeadsUp | None:
        settings = self._workspaces.get(message.team_id)
        if not (settings.celebration_heads_up and settings.celebrations_channel_id):
            return None
        try:
            teammate = self._people.get(message.team_id, message.recipient_id)
        except DeliveryError as error:
            if error.gone:
                return None
            raise  # a rate limit or an outage: tried again later
        if teammate.is_bot or teammate.is_deleted:
            return None
        dm = self.compose_dm(message)
        if dm is None:
            return None
        return HeadsUp(
            posted_on=dm.posted_on, celebration=dm.celebration, channel_id=settings.celebrations_channel_id
        )

    def compose_post(self, message: Outbound) -> CelebrationPost | None:
        """Everybody celebrating that day in that zone, as of now (late sharers join, leavers drop)."""
        posted_on = date.fromisoformat(str(message.payload["posted_on"]))
        tz = str(message.payload["tz"])
        rule = self._workspaces.get(message.team_id).weekend_rule
        with unit_of_work(self._sessions) as session:
            rows = [
                row
                for row, row_tz in dates_store.active_in_team(session, team_id=message.team_id)
                if row_tz == tz
            ]
            celebrations = [
                c
                for row in rows
                for c in _celebrations(
                    row.user_id,
                    row.birthday_month,
                    row.birthday_day,
                    row.start_date,
                    posted_on - timedelta(days=3),
                    8,
                )
                if posting_day(c.on, rule) == posted_on
            ]
        if not celebrations:
            return None
        return CelebrationPost(
            posted_on=posted_on, celebrations=sorted(celebrations, key=lambda c: (c.kind, c.user_id))
        )

    def compose_dm(self, message: Outbound) -> CelebrationDM | None:
        posted_on = date.fromisoformat(str(message.payload["posted_on"]))
        user_id, kind = str(message.payload["user_id"]), str(message.payload["kind"])
        rule = self._workspaces.get(message.team_id).weekend_rule
        with unit_of_work(self._sessions) as session:
            row = dates_store.get(session, team_id=message.team_id, user_id=user_id)
            if row is None:
                return None
            matching = [
                c
                for c in _celebrations(
                    user_id,
                    row.birthday_month,
                    row.birthday_day,
                    row.start_date,
                    posted_on - timedelta(days=3),
                    8,
                )
                if c.kind == kind and posting_day(c.on, rule) == posted_on
            ]
        return CelebrationDM(posted_on=posted_on, celebration=matching[0]) if matching else None

    def _local_today(self, team_id: str, user_id: str) -> date:
        return self._clock.now().astimezone(zone_of(self._people.tz(team_id, user_id))).date()


def _dated_people(session: Session, now: datetime) -> list[tuple[PersonDates, str]]:
    """The people whose celebrations the planner looks at in their zone today: each zone's today is
    within a day of UTC's, so a window a day wider each side than the planner's covers them all."""
    first = now.date() - timedelta(days=PLANNED_FROM + 1)
    last = now.date() + timedelta(days=PLANNED_DAYS - PLANNED_FROM)
    return sorted(
        dates_store.celebrated_between(session, first=first, last=last),
        key=lambda row: (row[0].team_id, row[0].user_id),
    )


def _celebrations(
    user_id: str, month: int | None, day: int | None, start: date | None, first: date, days: int
) -> list[Celebration]:
    """Birthday and anniversary dates that fall in [first, first + days)."""
    last = first + timedelta(days=days)
    found: list[Celebration] = []
    for year in (first.year, first.year + 1):
        if month and day:
            on = on_in_year(month, day, year)
            if first <= on < last:
                found.append(Celebration(user_id=user_id, kind="birthday", on=on))
        if start:
            on = on_in_year(start.month, start.day, year)
            if first <= on < last and year > start.year:
                found.append(Celebration(user_id=user_id, kind="anniversary", on=on, years=year - start.year))
    return found
