"""People as the services see them: timezone and status, cached from the platform's directory, and
how and when they want to hear from ExtraMile (their working days and hours, an absence, a digest)."""

from __future__ import annotations

from datetime import date, time, timedelta

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services.hours import Schedule, WorkingHours
from bot.services.ports import DeliveryError, Directory, PersonInfo
from bot.services.recent import Recent
from bot.services.text import clean
from storage import outbox as outbox_store
from storage import people as people_store
from storage.db import SessionFactory, unit_of_work

CACHE_FOR = timedelta(hours=12)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Preferences(BaseModel):
    """A person's own settings; the defaults are everybody's until they change them."""

    model_config = ConfigDict(frozen=True)

    work_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday is 0
    work_start: time = time(9, 0)
    work_end: time = time(18, 0)
    away_until: date | None = None
    # Reminders that can wait come as one DM at the start of the working day.
    digest: bool = False
    # Offers to track what they write as a promise (where the workspace turned promise spotting on).
    promise_offers: bool = True

    @field_validator("work_days")
    @classmethod
    def _some_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        days = tuple(sorted(set(value)))
        if not days or not all(0 <= day <= 6 for day in days):
            raise ValueError("pick at least one working day")
        return days

    @model_validator(mode="after")
    def _hours_in_order(self) -> Preferences:
        if self.work_start >= self.work_end:
            raise ValueError("the working day has to end after it starts")
        return self

    def schedule(self, tz: str) -> Schedule:
        return Schedule(
            tz=tz,
            hours=WorkingHours(start=self.work_start, end=self.work_end, weekdays=frozenset(self.work_days)),
            away_until=self.away_until,
        )


def preferences_in(session: Session, *, team_id: str, user_id: str) -> Preferences:
    """A person's preferences, read in the caller's transaction (planners cannot call the platform)."""
    row = people_store.settings(session, team_id=team_id, user_id=user_id)
    if row is None:
        return Preferences()
    return Preferences(
        work_days=tuple(row.work_days),
        work_start=row.work_start,
        work_end=row.work_end,
        away_until=row.away_until,
        digest=row.digest,
        promise_offers=row.promise_offers,
    )


def schedule_in(session: Session, *, team_id: str, user_id: str) -> Schedule:
    """A person's schedule from what is stored: their cached zone (UTC until known) and preferences."""
    person = people_store.get(session, team_id=team_id, user_id=user_id)
    return preferences_in(session, team_id=team_id, user_id=user_id).schedule(person.tz if person else "UTC")


# On top of the database cache: a burst of requests about the same people reads it once.
REMEMBERED_FOR = timedelta(seconds=10)


class PeopleService:
    def __init__(self, *, sessions: SessionFactory, clock: Clock, directory: Directory) -> None:
        self._sessions = sessions
        self._clock = clock
        self._directory = directory
        self._recent: Recent[tuple[str, str], PersonInfo] = Recent(clock, REMEMBERED_FOR)
        self._preferences: Recent[tuple[str, str], Preferences] = Recent(clock, REMEMBERED_FOR)

    def get(self, team_id: str, user_id: str, *, fresh: bool = False) -> PersonInfo:
        """From the cache while fresh, else from the directory. When the directory fails (a rate
        limit, an outage), a stale cached answer beats none; with nothing cached, DeliveryError.
        `fresh` asks the directory first (who is an admin may have changed since it was cached)."""
        if fresh:
            return self._get(team_id, user_id, fresh=True)
        return self._recent.get_or_load((team_id, user_id), lambda: self._get(team_id, user_id))

    def _get(self, team_id: str, user_id: str, *, fresh: bool = False) -> PersonInfo:
        now = self._clock.now()
        with unit_of_work(self._sessions) as session:
            row = people_store.get(session, team_id=team_id, user_id=user_id)
            cached = (
                PersonInfo(
                    team_id=team_id,
                    user_id=user_id,
                    display_name=row.display_name,
                    tz=row.tz,
                    is_bot=row.is_bot,
                    is_deleted=row.is_deleted,
                    is_guest=row.is_guest,
                    is_admin=row.is_admin,
                )
                if row is not None
                else None
            )
            if not fresh and cached is not None and row is not None and now - row.refreshed_at < CACHE_FOR:
                return cached
        try:
            person = self._directory.person(team_id, user_id)
        except DeliveryError as error:
            if cached is not None and not error.gone:
                return cached
            raise
        self.remember(person)
        return person

    def tz(self, team_id: str, user_id: str) -> str:
        """The person's IANA zone; UTC when the platform cannot say and nothing is cached."""
        try:
            return self.get(team_id, user_id).tz
        except DeliveryError:
            return "UTC"

    def known_tz(self, team_id: str, user_id: str) -> str | None:
        """The zone cached for this person, without asking the platform (None when never seen)."""
        with unit_of_work(self._sessions) as session:
            person = people_store.get(session, team_id=team_id, user_id=user_id)
            return person.tz if person is not None else None

    def preferences(self, team_id: str, user_id: str) -> Preferences:
        def read() -> Preferences:
            with unit_of_work(self._sessions) as session:
                return preferences_in(session, team_id=team_id, user_id=user_id)

        return self._preferences.get_or_load((team_id, user_id), read)

    def save_preferences(self, team_id: str, user_id: str, preferences: Preferences) -> None:
        """Saves them; what waits for this person's return is re-timed by the new ones (back early)."""
        back = preferences.schedule(self.tz(team_id, user_id)).back_and_working(self._clock.now())
        with unit_of_work(self._sessions) as session:
            outbox_store.retime_held(session, team_id=team_id, recipient_id=user_id, at=back)
            people_store.save_settings(
                session,
                team_id=team_id,
                user_id=user_id,
                work_days=list(preferences.work_days),
                work_start=preferences.work_start,
                work_end=preferences.work_end,
                away_until=preferences.away_until,
                digest=preferences.digest,
                promise_offers=preferences.promise_offers,
                at=self._clock.now(),
            )
        self._preferences.forget((team_id, user_id))

    def schedule(self, team_id: str, user_id: str) -> Schedule:
        """When a message can reach this person: their zone, hours and absence."""
        return self.preferences(team_id, user_id).schedule(self.tz(team_id, user_id))

    def sort_out(self, team_id: str, user_ids: tuple[str, ...]) -> tuple[list[str], list[str]]:
        """(bots, people who are gone) among `user_ids`. A platform hiccup is raised as DeliveryError,
        never mistaken for somebody having left."""
        bots: list[str] = []
        gone: list[str] = []
        for user_id in user_ids:
            try:
                person = self.get(team_id, user_id)
            except DeliveryError as error:
                if not error.gone:
                    raise
                gone.append(user_id)
                continue
            if person.is_bot:
                bots.append(user_id)
            elif person.is_deleted:
                gone.append(user_id)
        return bots, gone

    def remember(self, person: PersonInfo) -> None:
        with unit_of_work(self._sessions) as session:
            people_store.upsert(
                session,
                team_id=person.team_id,
                user_id=person.user_id,
                # The directory's text, cut to what the cache holds: a name is for greeting people.
                display_name=clean(person.display_name)[:255],
                tz=person.tz if len(person.tz) <= 64 else "UTC",
                is_bot=person.is_bot,
                is_deleted=person.is_deleted,
                is_guest=person.is_guest,
                is_admin=person.is_admin,
                refreshed_at=self._clock.now(),
            )
        self._recent.forget((person.team_id, person.user_id))

    def changed(self, person: PersonInfo) -> int:
        """A profile changed (Slack's user_change): refresh the cache. A deactivated person gets
        nothing more: their pending messages are cancelled (the count is returned). Reactivated,
        they are planned for again by the usual planners."""
        self.remember(person)
        if not person.is_deleted:
            return 0
        with unit_of_work(self._sessions) as session:
            return outbox_store.cancel_for_recipient(
                session, team_id=person.team_id, recipient_id=person.user_id, reason="deactivated"
            )

    def group_members(self, team_id: str, group_id: str) -> list[str]:
        return self._directory.group_members(team_id, group_id)

    def is_private(self, team_id: str, channel_id: str) -> bool:
        return self._directory.is_private(team_id, channel_id)

    def channel_members(self, team_id: str, channel_id: str) -> list[str]:
        """Raises DeliveryError when the platform cannot say (the bot is not in the channel, a limit)."""
        return self._directory.channel_members(team_id, channel_id)
