"""The weekly team recap: kudos, values, loops closed, who joined, what is coming up, and a chart.

Each recap channel gets one post a week, at its weekday and hour in the workspace's zone: an outbox row
keyed by channel and ISO week, so replicas, restarts and catch-up ticks add nothing. It expires at the
end of its day: a recap is news on its day, not three days later. The chart is a second row, written
when the post went out: if it cannot be uploaded, the post stands without it.

The week a recap tells is the seven local days before its day (a Monday recap tells Monday to Sunday).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services import keys
from bot.services.celebrations import Celebration, CelebrationService
from bot.services.charts import recap_chart
from bot.services.delivery import DeliveryService, Outbound
from bot.services.hours import zone_of
from bot.services.kudos import KudosView, view_of
from bot.services.people import PeopleService
from bot.services.ports import PostedMessage
from bot.services.welcomes import NOTICE as WELCOME_NOTICE
from bot.services.workspaces import RecapSchedule, WorkspaceService
from storage import outbox as outbox_store
from storage import recaps as recap_store
from storage import workspaces as workspace_store
from storage.db import SessionFactory, unit_of_work
from storage.models import Kudos

POST = "recap.post"
CHART = "recap.chart"
HIGHLIGHTS = 3
TOP_VALUES = 3
COMING_UP_DAYS = 7
WEEK = timedelta(days=7)
DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Scope = Literal["members", "workspace"]


@dataclass(frozen=True)
class Recap:
    """One channel's week, counted for the people in its scope."""

    team_id: str
    channel_id: str
    scope: Scope
    tz: str
    first_day: date
    last_day: date  # inclusive
    kudos: int
    people_thanked: int
    top_values: tuple[tuple[str, int], ...]
    highlights: tuple[KudosView, ...]
    kept: int
    kept_on_time: int
    checkins_done: int
    overdue: int
    # Only when the workspace allows names; otherwise the recap gives a count.
    overdue_names: tuple[tuple[str, int], ...] | None
    joined: tuple[str, ...]
    coming_up: tuple[Celebration, ...]
    # Kudos per local day, this week and the week before, with the days' names.
    per_day: tuple[int, ...]
    per_day_before: tuple[int, ...]
    day_labels: tuple[str, ...]
    so_far: bool = False

    @property
    def quiet(self) -> bool:
        return self.kudos == 0 and self.kept == 0 and self.checkins_done == 0 and not self.joined

    @property
    def on_time_share(self) -> float | None:
        return self.kept_on_time / self.kept if self.kept else None


@dataclass(frozen=True)
class RecapPost:
    recap: Recap


@dataclass(frozen=True)
class RecapChart:
    channel_id: str
    title: str
    filename: str
    png: bytes


class RecapService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Clock,
        people: PeopleService,
        workspaces: WorkspaceService,
        celebrations: CelebrationService,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._people = people
        self._workspaces = workspaces
        self._celebrations = celebrations

    def register(self, delivery: DeliveryService) -> None:
        delivery.register(POST, self.compose_post, on_sent=self._posted)
        delivery.register(CHART, self.compose_chart)
        delivery.add_planner(self.plan)

    # ---------------------------------------------------------------- planning

    def plan(self, session: Session, now: datetime) -> int:
        """This week's post for every recap channel, once, unless its day is already over."""
        planned = 0
        for team_id, recaps, tz in workspace_store.with_recaps(session):
            zone = zone_of(tz or "UTC")
            for channel_id, raw in recaps.items():
                schedule = RecapSchedule.model_validate(raw)
                day = _this_weeks(now, zone, schedule.weekday)
                slot = datetime.combine(day, time(schedule.hour), zone)
                day_ends = datetime.combine(day + timedelta(days=1), time(0), zone)
                week = _iso_week(day)
                if now >= day_ends:
                    # This week's day is over: next week's comes in its turn. (A row planned for a
                    # later time, before the schedule moved, now expires and is dropped.)
                    outbox_store.retime_pending(
                        session,
                        team_id=team_id,
                        dedupe_key=keys.recap(channel_id, week),
                        deliver_after=slot,
                        expires_at=day_ends,
                    )
                    continue
                added = outbox_store.enqueue(
                    session,
                    team_id=team_id,
                    dedupe_key=keys.recap(channel_id, week),
                    kind=POST,
                    recipient_id=channel_id,
                    payload={"day": day.isoformat(), "week": week},
                    deliver_after=slot,
                    expires_at=day_ends,
                    created_at=now,
                )
                if not added:  # planned before: follow the schedule if an admin moved it this week
                    outbox_store.retime_pending(
                        session,
                        team_id=team_id,
                        dedupe_key=keys.recap(channel_id, week),
                        deliver_after=slot,
                        expires_at=day_ends,
                    )
                planned += added
        return planned

    # ---------------------------------------------------------------- composing

    def compose_post(self, message: Outbound) -> RecapPost | None:
        recap = self._for_row(message)
        return RecapPost(recap=recap) if recap is not None else None

    def _posted(self, session: Session, message: Outbound, posted: PostedMessage) -> None:
        """The chart follows the post (a second row): if its upload fails, the post stands."""
        outbox_store.enqueue(
            session,
            team_id=message.team_id,
            dedupe_key=keys.recap_chart(message.recipient_id, str(message.payload["week"])),
            kind=CHART,
            recipient_id=message.recipient_id,
            payload=dict(message.payload),
            # Due as of the pass that posted the recap: `tick --at` replays a day the clock is not on.
            deliver_after=message.as_of or self._clock.now(),
            expires_at=message.expires_at,
            created_at=self._clock.now(),
        )

    def compose_chart(self, message: Outbound) -> RecapChart | None:
        recap = self._for_row(message)
        if recap is None or recap.kudos == 0:
            return None  # a quiet week needs no picture
        return RecapChart(
            channel_id=message.recipient_id,
            title=f"Kudos, week of {recap.first_day:%-d %b}",
            filename=f"kudos-{message.payload['week']}.png",
            png=chart_of(recap),
        )

    def _for_row(self, message: Outbound) -> Recap | None:
        settings = self._workspaces.get(message.team_id)
        schedule = settings.recaps.get(message.recipient_id)
        if schedule is None:
            return None  # the channel stopped getting recaps meanwhile
        day = date.fromisoformat(str(message.payload["day"]))
        zone = zone_of(settings.zone)
        return self.recap(
            team_id=message.team_id,
            channel_id=message.recipient_id,
            scope=schedule.scope,
            since=datetime.combine(day - WEEK, time(0), zone),
            until=datetime.combine(day, time(0), zone),
        )

    def _quotable(self, team_id: str, channel_id: str, kudos: list[KudosView]) -> list[KudosView]:
        """Kudos whose words may be quoted here: posted in this channel, or in one everybody can read.
        A private channel's kudos still count; their words stay where they were said."""
        private: dict[str, bool] = {}
        quotable = []
        for view in kudos:
            post_channel = view.post_channel_id
            if not post_channel:
                continue
            if post_channel != channel_id and post_channel not in private:
                private[post_channel] = self._people.is_private(team_id, post_channel)
            if post_channel == channel_id or not private[post_channel]:
                quotable.append(view)
                if len(quotable) == HIGHLIGHTS:
                    break  # enough: no more channels to ask about
        return quotable

    def preview(self, *, team_id: str, channel_id: str) -> Recap:
        """This week's recap so far, for the channel it is asked in (its schedule, or Monday's)."""
        settings = self._workspaces.get(team_id)
        schedule = settings.recaps.get(channel_id) or RecapSchedule()
        zone = zone_of(settings.zone)
        now = self._clock.now()
        day = _this_weeks(now, zone, schedule.weekday)
        if datetime.combine(day, time(schedule.hour), zone) <= now:
            day += WEEK  # this week's went out: the next one is being written
        # The week the next recap will tell: the seven days before its day, as far as they have come.
        since = datetime.combine(day - WEEK, time(0), zone)
        until = min(now, datetime.combine(day, time(0), zone))
        return self.recap(
            team_id=team_id, channel_id=channel_id, scope=schedule.scope, since=since, until=until
        )

    def recap(
        self, *, team_id: str, channel_id: str, scope: Scope, since: datetime, until: datetime
    ) -> Recap:
        """The week [since, until) for the channel's members, or for everybody."""
        settings = self._workspaces.get(team_id)
        tz = settings.zone
        zone = zone_of(tz)
        # Asked of the platform before any transaction: who the channel's members are.
        members = None if scope == "workspace" else set(self._people.channel_members(team_id, channel_id))

        def in_scope(user_id: str | None) -> bool:
            return user_id is not None and (members is None or user_id in members)

        with unit_of_work(self._sessions) as session:
            both_weeks = recap_store.kudos_between(session, team_id=team_id, since=since - WEEK, until=until)
            kept = [
                p
                for p in recap_store.promises_kept(session, team_id=team_id, since=since, until=until)
                if in_scope(p.promiser_id)
            ]
            checkins = [
                u
                for u in recap_store.checkins_done(session, team_id=team_id, since=since, until=until)
                if in_scope(u)
            ]
            overdue = [
                u for u in recap_store.overdue_promisers(session, team_id=team_id, at=until) if in_scope(u)
            ]
            joined = outbox_store.recipients_queued(
                session,
                team_id=team_id,
                kind=WELCOME_NOTICE,
                key_like=keys.welcome_dms(),
                since=since,
                until=until,
            )
            counted = [
                k
                for k in both_weeks
                if in_scope(k.giver_id) or any(in_scope(r.user_id) for r in k.recipients)
            ]
            this_week = [k for k in counted if k.created_at >= since]
            before = [k for k in counted if k.created_at < since]
            candidates = [view_of(k) for k in _highlights(this_week)]
        highlights = tuple(self._quotable(team_id, channel_id, candidates))
        first_day = since.astimezone(zone).date()
        last_day = (until - timedelta(microseconds=1)).astimezone(zone).date()
        days = [first_day + timedelta(days=n) for n in range(7)]
        values = Counter(value.value for k in this_week for value in k.values)
        coming_up = tuple(
            c
            for c in self._celebrations.between(
                team_id=team_id, first=until.astimezone(zone).date(), days=COMING_UP_DAYS
            )
            if in_scope(c.user_id)
        )
        return Recap(
            team_id=team_id,
            channel_id=channel_id,
            scope=scope,
            tz=tz,
            first_day=first_day,
            last_day=last_day,
            kudos=len(this_week),
            people_thanked=len({r.user_id for k in this_week for r in k.recipients}),
            top_values=tuple(sorted(values.items(), key=lambda item: (-item[1], item[0]))[:TOP_VALUES]),
            highlights=highlights,
            kept=len(kept),
            kept_on_time=sum(p.on_time for p in kept),
            checkins_done=len(checkins),
            overdue=len(overdue),
            overdue_names=tuple(
                sorted(Counter(u for u in overdue if u).items(), key=lambda item: (-item[1], item[0]))
            )
            if settings.recap_names
            else None,
            joined=tuple(dict.fromkeys(u for u in joined if in_scope(u))),
            coming_up=coming_up,
            per_day=_per_day(this_week, days, zone),
            per_day_before=_per_day(before, [d - WEEK for d in days], zone),
            day_labels=tuple(DAY_LABELS[d.weekday()] for d in days),
            so_far=until < datetime.combine(first_day + WEEK, time(0), zone),
        )


def chart_of(recap: Recap) -> bytes:
    return recap_chart(
        day_labels=recap.day_labels,
        this_week=recap.per_day,
        last_week=recap.per_day_before,
        values=recap.top_values,
    )


def _highlights(kudos: list[Kudos]) -> list[Kudos]:
    """Kudos worth quoting, best first: with words, thanking the most people, then the latest."""
    worded = [k for k in kudos if k.message.strip()]
    return sorted(worded, key=lambda k: (-len(k.recipients), -k.created_at.timestamp(), -k.id))


def _per_day(kudos: Iterable[Kudos], days: list[date], zone: ZoneInfo) -> tuple[int, ...]:
    counts = Counter(k.created_at.astimezone(zone).date() for k in kudos)
    return tuple(counts.get(day, 0) for day in days)


def _this_weeks(now: datetime, zone: ZoneInfo, weekday: int) -> date:
    """The date of `weekday` in the (Monday to Sunday) week that holds `now` in `zone`."""
    today = now.astimezone(zone).date()
    return today + timedelta(days=weekday - today.weekday())


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
