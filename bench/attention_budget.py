"""The attention budget: how many messages a person gets from ExtraMile in a working day.

Thirty days of a 200-person workspace, played through the real bot: signed HTTP requests to the app
(`/kudos`, `/promise`, `/checkin`, `/birthday`, `/anniversary`, clap reactions, questions and promises
written in channels, newcomers joining), the real services for what a person does with a button (done,
a new ETA, a week away), and the delivery pass `extramile tick` runs, at every instant something is due
(and every 15 minutes, for the planners). A seeded script: several timezones and working patterns,
leads who are thanked and asked far more than most, promises kept, late and forgotten.

Reported, per person and working day (their own local day), the DMs and ephemerals the bot started
(replies to what the person has just done are counted apart): the median and p99, the ones sent
outside the recipient's working hours at a time they did not choose, and the share of reminders that
carry an action. The baseline, from the same run, is one message for every row the bot wrote for a
person, on the day it was written: what a bot without digests, holds and second thoughts would send.

    python bench/attention_budget.py [--days 30] [--people 200] [--seed 7] [--database URL]
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import io
import itertools
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402

from bot.app import ExtraMile, build_app  # noqa: E402
from bot.cli import main as extramile  # noqa: E402
from bot.clock import FrozenClock  # noqa: E402
from bot.server import RunningServer  # noqa: E402
from bot.services.people import Preferences  # noqa: E402
from bot.services.workspaces import RecapSchedule  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.slack.fake_api import Call, FakeSlack  # noqa: E402
from handlers.slack.signed_requests import SignedSender, event_callback  # noqa: E402
from storage import outbox as outbox_store  # noqa: E402
from storage.db import create_db_engine, upgrade  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402

TEAM = "T0SIM"
SECRET = "attention-budget-secret"
# A Monday, midnight UTC: the thirty days run from here.
START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
TICK_EVERY = timedelta(minutes=15)
TEAM_SIZE = 25

ZONES = (
    ("Europe/London", 35),
    ("America/New_York", 20),
    ("Europe/Berlin", 15),
    ("America/Los_Angeles", 10),
    ("Asia/Kolkata", 10),
    ("Australia/Sydney", 5),
    ("Asia/Tokyo", 5),
)
# Working patterns: the default day, early and late shifts, four days a week, a Sunday-Thursday week.
PATTERNS: tuple[tuple[dict[str, Any], int], ...] = (
    ({}, 55),
    ({"work_start": clock_time(7, 30), "work_end": clock_time(16, 0)}, 15),
    ({"work_start": clock_time(11, 0), "work_end": clock_time(19, 30)}, 10),
    ({"work_days": (0, 1, 2, 3), "work_end": clock_time(17, 0)}, 10),
    ({"work_days": (6, 0, 1, 2, 3)}, 10),
)
# Chances, per person and working day, of doing each thing once.
RATES = {"kudos": 0.12, "clap": 0.10, "promise": 0.08, "question": 0.15, "chat_promise": 0.05}
LEAD_WEIGHT = 6  # a lead is thanked and asked this many times as often as anyone else
EVENINGS = 0.05  # the share of what people do after hours, from their phone
DUE_PHRASES = ("tomorrow 3pm", "tomorrow 11am", "in 2 days", "next Tuesday", "tomorrow")
THINGS = ("the pricing deck", "the Q3 numbers", "the rollout plan", "notes from the call", "the draft")
# Kinds whose message reminds someone of something to do: each should carry a button to do it.
REMINDER_STAGES = {"before", "due", "nudge", "snooze"}


@dataclass
class Person:
    user_id: str
    name: str
    tz: str
    preferences: Preferences
    channel_id: str
    lead: bool
    since: datetime  # when they joined (the start, for everybody there on day one)
    away: list[tuple[date, date]] = field(default_factory=list)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(ZoneInfo(self.tz))

    def working_at(self, at: datetime) -> bool:
        """In their working hours, and not on a day they are away."""
        local = self.local(at)
        prefs = self.preferences
        if any(first <= local.date() <= last for first, last in self.away):
            return False
        return local.weekday() in prefs.work_days and prefs.work_start <= local.time() < prefs.work_end

    def next_working(self, at: datetime) -> datetime:
        return self.preferences.schedule(self.tz).next_open(at)


@dataclass(order=True)
class Step:
    at: datetime
    seq: int
    what: Callable[[], None] = field(compare=False)


class Workspace:
    """The simulated people, their fake Slack and the real app, and what each of them does."""

    def __init__(self, app: ExtraMile, fake: FakeSlack, sender: SignedSender, clock: FrozenClock) -> None:
        self.app = app
        self.fake = fake
        self.sender = sender
        self.clock = clock
        self.people: dict[str, Person] = {}
        self.steps: list[Step] = []
        self._seq = itertools.count()
        self._triggers = itertools.count(1)
        self._events = itertools.count(1)
        # (user, instant) of everything a person did: a message that instant to them is a reply.
        self.acted: set[tuple[str, datetime]] = set()
        self.failed: list[str] = []
        # Every call the fake Slack took, with the simulated instant it was made at.
        self.log: list[tuple[datetime, Call]] = []

    def collect(self) -> None:
        """Stamps the calls made since the last look with the instant the world is at."""
        calls = self.fake.calls
        now = self.clock.now()
        self.log.extend((now, call) for call in calls[len(self.log) :])

    # ------------------------------------------------------------------ scheduling

    def at(self, when: datetime, what: Callable[[], None]) -> None:
        heapq.heappush(self.steps, Step(when, next(self._seq), what))

    def _did(self, user_id: str) -> None:
        self.acted.add((user_id, self.clock.now()))

    # ------------------------------------------------------------------ what people do, over HTTP

    def command(self, user_id: str, name: str, text: str) -> None:
        self._did(user_id)
        person = self.people[user_id]
        trigger = next(self._triggers)
        response = self.sender.command(
            {
                "team_id": TEAM,
                "team_domain": "sim",
                "channel_id": person.channel_id,
                "channel_name": person.channel_id.lower(),
                "user_id": user_id,
                "user_name": person.name,
                "command": name,
                "text": text,
                "api_app_id": "A0SIM",
                "is_enterprise_install": "false",
                "response_url": self.fake.response_url(f"{user_id}/{trigger}"),
                "trigger_id": f"{trigger}.sim",
            }
        )
        if response.status != 200:
            self.failed.append(f"{name} {text}: HTTP {response.status}")
        self.app.workers.wait_idle()

    def event(self, event: dict[str, Any]) -> None:
        response = self.sender.event(
            event_callback(TEAM, event, event_id=f"EvSIM{next(self._events)}", app_id="A0SIM")
        )
        if response.status != 200:
            self.failed.append(f"{event['type']}: HTTP {response.status}")
        self.app.workers.wait_idle()

    def say(self, user_id: str, text: str, *, thread_of: str | None = None) -> str:
        """`user_id` writes in their team's channel: the message is in Slack, then its event arrives."""
        self._did(user_id)
        channel_id = self.people[user_id].channel_id
        ts = f"{self.clock.now().timestamp():.0f}.{next(self._events):06d}"
        self.event(self.fake.write(channel_id, user_id, text, ts=ts, thread_ts=thread_of))
        return ts

    def clap(self, user_id: str, author_id: str) -> None:
        """A clap on a teammate's message (written a moment before, without a word to the bot)."""
        self._did(user_id)
        channel_id = self.people[author_id].channel_id
        ts = f"{self.clock.now().timestamp() - 60:.0f}.{next(self._events):06d}"
        self.fake.add_message(channel_id, author_id, "shipped the fix for the login loop", ts=ts)
        self.event(
            {
                "type": "reaction_added",
                "user": user_id,
                "reaction": "clap",
                "item_user": author_id,
                "item": {"type": "message", "channel": channel_id, "ts": ts},
                "event_ts": f"{time.time():.6f}",
            }
        )

    def join(self, person: Person) -> None:
        """A newcomer accepts their invitation: Slack's team_join, the moment they are there."""
        self.people[person.user_id] = person
        self._did(person.user_id)
        self.fake.add_user(person.user_id, person.name, tz=person.tz)
        self.event(
            {
                "type": "team_join",
                "user": {
                    "id": person.user_id,
                    "name": person.name,
                    "tz": person.tz,
                    "profile": {"display_name": person.name},
                },
            }
        )
        self.app.services.people.save_preferences(TEAM, person.user_id, person.preferences)

    # ------------------------------------------------------------------ what people do with buttons

    def promise_kept(self, promiser_id: str, promise_id: int) -> None:
        self._did(promiser_id)
        view = self.app.services.promises.get(team_id=TEAM, promise_id=promise_id)
        if view.status == "open":
            self.app.services.promises.done(team_id=TEAM, promise_id=promise_id, actor_id=promiser_id)
            self.app.services.delivery.deliver_due(self.clock.now())

    def new_eta(self, promiser_id: str, promise_id: int, new_due_at: datetime) -> None:
        self._did(promiser_id)
        view = self.app.services.promises.get(team_id=TEAM, promise_id=promise_id)
        if view.status == "open":
            self.app.services.promises.still_on_it(
                team_id=TEAM, promise_id=promise_id, actor_id=promiser_id, new_due_at=new_due_at
            )
            self.app.services.delivery.deliver_due(self.clock.now())

    def go_away(self, user_id: str, until: date) -> None:
        person = self.people[user_id]
        person.preferences = person.preferences.model_copy(update={"away_until": until})
        person.away.append((self.clock.now().astimezone(ZoneInfo(person.tz)).date(), until))
        self.app.services.people.save_preferences(TEAM, user_id, person.preferences)

    def newest_promise(self, promiser_id: str) -> int | None:
        mine = self.app.services.promises.lists(team_id=TEAM, user_id=promiser_id).mine
        return max((p.id for p in mine), default=None)


def cast(rng: random.Random, count: int) -> list[Person]:
    zones = [zone for zone, _ in ZONES]
    zone_weights = [weight for _, weight in ZONES]
    patterns = [pattern for pattern, _ in PATTERNS]
    pattern_weights = [weight for _, weight in PATTERNS]
    people = []
    for n in range(count):
        preferences = Preferences(**rng.choices(patterns, pattern_weights)[0], digest=rng.random() < 0.1)
        people.append(
            Person(
                user_id=f"U{n:05d}",
                name=f"person{n}",
                tz=rng.choices(zones, zone_weights)[0],
                preferences=preferences,
                channel_id=f"C0TEAM{n // TEAM_SIZE:02d}",
                lead=n % TEAM_SIZE == 0 or n % TEAM_SIZE == 1,
                since=START,
            )
        )
    return people


def local_moment(rng: random.Random, person: Person, day: date) -> datetime:
    """When a person does something on a day of theirs: in their hours, or now and then in the evening."""
    zone = ZoneInfo(person.tz)
    if rng.random() < EVENINGS:
        start, end = clock_time(20, 0), clock_time(22, 30)
    else:
        start, end = person.preferences.work_start, person.preferences.work_end
    first = datetime.combine(day, start, zone)
    span = (datetime.combine(day, end, zone) - first).total_seconds()
    return (first + timedelta(seconds=rng.uniform(0, span))).astimezone(UTC).replace(second=0, microsecond=0)


def script(world: Workspace, rng: random.Random, days: int) -> None:
    """Writes every step of the month into `world`'s queue; a promise's fate is drawn when it is made."""
    end = START + timedelta(days=days)
    people = list(world.people.values())

    def teammate(person: Person) -> Person:
        mates = [p for p in world.people.values() if p.channel_id == person.channel_id and p is not person]
        return rng.choices(mates, [LEAD_WEIGHT if p.lead else 1 for p in mates])[0]

    # Before the month: dates shared, check-ins asked for.
    setup = START - timedelta(hours=12)
    for person in people:
        if rng.random() < 0.7:
            birthday = date(2001, 1, 1) + timedelta(days=rng.randrange(365))
            text = f"{birthday.day} {birthday:%B}"
            world.at(setup, lambda p=person, t=text: world.command(p.user_id, "/birthday", t))
        if rng.random() < 0.5:
            started = date(rng.randrange(2015, 2026), 1, 1) + timedelta(days=rng.randrange(365))
            text = started.isoformat()
            world.at(setup, lambda p=person, t=text: world.command(p.user_id, "/anniversary", t))
        if rng.random() < 0.2:
            text = f"<@{teammate(person).user_id}> every {rng.choice(('week', '2 weeks', 'month'))}"
            world.at(setup, lambda p=person, t=text: world.command(p.user_id, "/checkin", t))
    # A week away for one person in twenty, starting on a Monday of the month.
    for person in rng.sample(people, len(people) // 20):
        monday = START.date() + timedelta(days=7 * rng.randrange(max(1, days // 7)))
        leave = datetime.combine(monday, clock_time(0), ZoneInfo(person.tz)).astimezone(UTC) - timedelta(
            days=2
        )
        world.at(
            max(leave, setup), lambda p=person, d=monday: world.go_away(p.user_id, d + timedelta(days=4))
        )
    # Newcomers: on Tuesdays and Thursdays, 09:30 in London.
    joiners = 0
    for day in range(days):
        moment = START + timedelta(days=day, hours=9, minutes=30)
        if moment.weekday() in (1, 3):
            newcomer = cast(rng, 1)[0]
            joiners += 1
            newcomer.user_id, newcomer.name = f"U9{joiners:04d}", f"newcomer{joiners}"
            newcomer.lead, newcomer.since = False, moment
            world.at(moment, lambda n=newcomer: world.join(n))

    for person in people:
        zone = ZoneInfo(person.tz)
        first_day = START.astimezone(zone).date()
        for offset in range(days + 1):
            day = first_day + timedelta(days=offset)
            if day.weekday() not in person.preferences.work_days:
                continue
            for activity, rate in RATES.items():
                if rng.random() >= rate:
                    continue
                at = local_moment(rng, person, day)
                if not START <= at < end:
                    continue
                mate = teammate(person)
                if activity == "kudos":
                    text = f"<@{mate.user_id}|{mate.name}> thanks for the help with {rng.choice(THINGS)}"
                    world.at(at, lambda p=person, t=text: world.command(p.user_id, "/kudos", t))
                elif activity == "clap":
                    world.at(at, lambda p=person, m=mate: world.clap(p.user_id, m.user_id))
                elif activity == "promise":
                    text = f"<@{mate.user_id}|{mate.name}> send {rng.choice(THINGS)} by {rng.choice(DUE_PHRASES)}"
                    world.at(at, lambda p=person, t=text: promise(world, rng, p, t))
                elif activity == "question":
                    text = f"<@{mate.user_id}> could you take a look at {rng.choice(THINGS)} for me?"
                    world.at(at, lambda p=person, m=mate, t=text: question(world, rng, p, m, t))
                elif activity == "chat_promise":
                    text = f"I'll send {rng.choice(THINGS)} over by tomorrow 3pm"
                    world.at(at, lambda p=person, t=text: world.say(p.user_id, t))


def promise(world: Workspace, rng: random.Random, person: Person, text: str) -> None:
    """Makes the promise, then draws its fate: kept early, kept late (maybe after a new ETA), forgotten."""
    world.command(person.user_id, "/promise", text)
    promise_id = world.newest_promise(person.user_id)
    if promise_id is None:
        world.failed.append(f"/promise {text}: nothing recorded")
        return
    view = world.app.services.promises.get(team_id=TEAM, promise_id=promise_id)
    now = world.clock.now()
    fate = rng.random()
    if fate < 0.6:  # kept, before it is due
        done = person.next_working(now + (view.due_at - now) * rng.uniform(0.2, 0.9))
        world.at(
            min(done, view.due_at - timedelta(minutes=1)),
            lambda: world.promise_kept(person.user_id, promise_id),
        )
    elif fate < 0.85:  # late: a day or two, now and then after a new ETA
        if rng.random() < 0.3:
            moved = person.next_working(view.due_at + timedelta(hours=1))
            new_due = moved + timedelta(days=2)
            world.at(moved, lambda: world.new_eta(person.user_id, promise_id, new_due))
        done = person.next_working(view.due_at + timedelta(hours=rng.uniform(20, 60)))
        world.at(done, lambda: world.promise_kept(person.user_id, promise_id))
    # else forgotten: the nudges run their course


def question(world: Workspace, rng: random.Random, asker: Person, asked: Person, text: str) -> None:
    """Asks in the channel; seven in ten get an answer in the thread within a few working hours."""
    ts = world.say(asker.user_id, text)
    if rng.random() < 0.7:
        answer_at = asked.next_working(world.clock.now() + timedelta(minutes=rng.uniform(10, 240)))
        world.at(answer_at, lambda: world.say(asked.user_id, "sure, on it", thread_of=ts))


# ---------------------------------------------------------------------- the run


@dataclass
class Sent:
    recipient_id: str
    at: datetime
    kind: str
    stage: str | None
    reply: bool  # the confirmation of something the recipient did (their command's answer)
    chosen: bool  # at a time the recipient chose exactly (a promise's due time, an exact snooze)
    own_moment: bool  # sent the instant the recipient did something (an offer after their message)
    has_action: bool

    @property
    def reminder(self) -> bool:
        return (self.kind == "promise.notice" and self.stage in REMINDER_STAGES) or self.kind in (
            "checkin.notice",
            "question.nudge",
        )


def run(days: int, count: int, seed: int, database: str | None) -> dict[str, Any]:
    rng = random.Random(seed)
    with (
        tempfile.TemporaryDirectory(prefix="extramile-attention-") as folder,
        FakeSlack(team_id=TEAM) as fake,
    ):
        url = database or f"sqlite:///{Path(folder) / 'attention.db'}"
        settings = Settings(
            SLACK_BOT_TOKEN=SecretStr("xoxb-sim"),
            SLACK_SIGNING_SECRET=SecretStr(SECRET),
            SLACK_API_URL=fake.url,  # type: ignore[arg-type]
            DATABASE_URL=url,
            _env_file=None,  # type: ignore[call-arg]
        )
        engine = create_db_engine(url)
        upgrade(engine)
        clock = FrozenClock(START - timedelta(days=1))
        app = build_app(settings, engine=engine, clock=clock)
        people = cast(rng, count)
        for person in people:
            fake.add_user(person.user_id, person.name, tz=person.tz)
        channels = sorted({p.channel_id for p in people})
        for channel_id in channels:
            fake.add_channel(
                channel_id,
                channel_id.lower(),
                members=[p.user_id for p in people if p.channel_id == channel_id],
            )
        fake.add_channel("C0HELLO", "say-hello")
        fake.add_channel("C0PARTY", "celebrations")
        workspace = app.services.workspaces.get(TEAM)
        app.services.workspaces.save(
            workspace.model_copy(
                update={
                    "welcome_channel_id": "C0HELLO",
                    "celebrations_channel_id": "C0PARTY",
                    "timezone": "Europe/London",
                    "recaps": {c: RecapSchedule(weekday=0, hour=9) for c in channels},
                    "spot_promises": True,
                    "question_nudges": True,
                }
            )
        )
        for person in people:
            app.services.people.save_preferences(TEAM, person.user_id, person.preferences)
        server = RunningServer(app.web)
        try:
            world = Workspace(app, fake, SignedSender(server.url, SECRET), clock)
            world.people = {p.user_id: p for p in people}
            script(world, rng, days)
            started = time.monotonic()
            ticks = play(world, START + timedelta(days=days), settings)
            elapsed = time.monotonic() - started
            sent = what_was_sent(world)
            with app.sessions() as session:
                written = [
                    (row.recipient_id, row.created_at)
                    for row in outbox_store.list_rows(session, statuses=outbox_store.STATUSES, limit=10**7)
                    if row.kind != "delivery.digest"
                ]
        finally:
            server.stop()
            app.workers.shutdown()
            engine.dispose()
    return {
        "sent": sent,
        "written": written,
        "people": world.people,
        "ticks": ticks,
        "elapsed": elapsed,
        "failed": world.failed,
    }


def play(world: Workspace, end: datetime, settings: Settings) -> int:
    """Runs every step in order, with a delivery pass whenever something is due: what `extramile run`
    would do, without waiting for it. Once a simulated day the pass is the `extramile tick --at` command
    itself, on the same database."""
    app = world.app
    ticks = 0
    next_boundary = START - timedelta(days=1)
    last_cli_day: date | None = None
    now = world.clock.now()
    while now < end:
        candidates = [next_boundary]
        if world.steps:
            candidates.append(world.steps[0].at)
        with app.sessions() as session:
            pending = outbox_store.list_rows(session, statuses=[outbox_store.PENDING], limit=1)
        if pending and pending[0].deliver_after > now:
            candidates.append(pending[0].deliver_after)
        now = max(now, min(candidates))
        if now >= end:
            break
        world.clock.set(now)
        while world.steps and world.steps[0].at <= now:
            heapq.heappop(world.steps).what()
            world.collect()
        if now >= START and now.date() != last_cli_day:
            last_cli_day = now.date()
            tick_command(settings, now)
        else:
            app.services.delivery.tick(now)
        world.collect()
        ticks += 1
        if now >= next_boundary:
            next_boundary = now - (now - START) % TICK_EVERY + TICK_EVERY
        if not world.steps and now > end:
            break
    return ticks


def tick_command(settings: Settings, at: datetime) -> None:
    """`extramile tick --at AT`, as an operator types it, in this process (a new app on the database)."""
    env = {
        "DATABASE_URL": settings.DATABASE_URL,
        "SLACK_BOT_TOKEN": settings.SLACK_BOT_TOKEN.get_secret_value() if settings.SLACK_BOT_TOKEN else "",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": str(settings.SLACK_API_URL),
        "LOG_LEVEL": "WARNING",
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            code = extramile(["tick", "--at", at.isoformat()])
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    if code != 0:
        raise RuntimeError(f"extramile tick --at {at.isoformat()} exited {code}")


# Messages that answer what their reader has just done: the confirmation of their own command.
REPLY_KINDS = {"kudos.reply", "export.files"}
REPLY_STAGES = {("promise.notice", "made")}


def what_was_sent(world: Workspace) -> list[Sent]:
    """Every DM and ephemeral the fake Slack took for a person, joined to the outbox row it came from
    (by its message metadata, or for an ephemeral by its reader, channel and instant)."""
    with world.app.sessions() as session:
        rows = {
            row.id: row for row in outbox_store.list_rows(session, statuses=[outbox_store.SENT], limit=10**7)
        }
    unmatched: dict[tuple[str, str | None, datetime], list[OutboxMessage]] = defaultdict(list)
    for row in sorted(rows.values(), key=lambda r: r.id):
        if row.sent_at is not None:
            unmatched[(row.recipient_id, row.sent_channel_id, row.sent_at)].append(row)
    sent = []
    for at, call in world.log:
        if not call.ok:
            continue
        recipient = _person_reached(call)
        if recipient is None or recipient not in world.people:
            continue
        metadata = call.params.get("metadata")
        outbox_id = (
            (metadata or {}).get("event_payload", {}).get("outbox_id") if isinstance(metadata, dict) else None
        )
        row = rows.get(int(outbox_id)) if outbox_id is not None else None
        if row is None and call.method == "chat.postEphemeral":
            candidates = unmatched.get((recipient, str(call.params.get("channel")), at)) or []
            row = candidates.pop(0) if candidates else None
        kind = row.kind if row is not None else call.method
        stage = (row.payload or {}).get("stage") if row is not None else None
        blocks = call.params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        sent.append(
            Sent(
                recipient_id=recipient,
                at=at,
                kind=kind,
                stage=stage,
                reply=call.method == "response_url" or kind in REPLY_KINDS or (kind, stage) in REPLY_STAGES,
                chosen=kind == "promise.notice"
                and (stage == "due" or (stage == "snooze" and bool((row.payload or {}).get("exact")))),
                own_moment=(recipient, at) in world.acted,
                has_action=_has_action(blocks),
            )
        )
    return sent


def _person_reached(call: Call) -> str | None:
    if call.method == "chat.postMessage":
        channel = str(call.params.get("channel") or "")
        if channel.startswith("D"):
            return channel[1:]
        if channel.startswith("U"):
            return channel
        return None
    if call.method == "chat.postEphemeral":
        return str(call.params.get("user"))
    if call.method == "response_url":
        return str(call.params["tag"]).split("/", 1)[0]
    return None


def _has_action(blocks: list[dict[str, Any]]) -> bool:
    for block in blocks:
        if block.get("type") == "actions" and block.get("elements"):
            return True
        accessory = block.get("accessory") or {}
        if accessory.get("type") in ("button", "overflow", "static_select"):
            return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", help="a database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    result = run(args.days, args.people, args.seed, args.database)
    report(result, args.days, "PostgreSQL" if args.database else "SQLite")
    return 0


def quantile(values: list[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[max(0, -(-int(share * 1000) * len(ordered) // 1000) - 1)] if ordered else 0


def working_days(person: Person, end: datetime) -> list[date]:
    """The person's own working days in the window, less the days they were away."""
    zone = ZoneInfo(person.tz)
    day, last = person.since.astimezone(zone).date(), (end - timedelta(seconds=1)).astimezone(zone).date()
    days = []
    while day <= last:
        if day.weekday() in person.preferences.work_days and not any(a <= day <= b for a, b in person.away):
            days.append(day)
        day += timedelta(days=1)
    return days


def report(result: dict[str, Any], days: int, database: str) -> None:
    people: dict[str, Person] = result["people"]
    sent: list[Sent] = result["sent"]
    end = START + timedelta(days=days)
    in_window = [m for m in sent if START <= m.at < end]
    started = [m for m in in_window if not m.reply]
    per_day: Counter[tuple[str, date]] = Counter()
    baseline: Counter[tuple[str, date]] = Counter()
    for message in in_window:
        day = (message.recipient_id, people[message.recipient_id].local(message.at).date())
        if not message.reply:
            per_day[day] += 1
    for recipient_id, created_at in result["written"]:
        if recipient_id in people and START <= created_at < end:
            baseline[(recipient_id, people[recipient_id].local(created_at).date())] += 1
    slots = [(p.user_id, day) for p in people.values() for day in working_days(p, end)]
    working = set(slots)
    off_days = Counter(
        (m.kind, m.stage)
        for m in started
        if (m.recipient_id, people[m.recipient_id].local(m.at).date()) not in working
    )
    outside = [
        m
        for m in started
        if not m.chosen and not m.own_moment and not people[m.recipient_id].working_at(m.at)
    ]
    reminders = [m for m in started if m.reminder]
    with_action = [m for m in reminders if m.has_action]

    print(
        f"attention budget: {days} days, {len(people)} people, {result['ticks']} delivery passes, {database}"
    )
    print(f"(played in {result['elapsed']:.0f} s; {len(result['failed'])} requests refused by the app)")
    print()
    print("per person and working day (their own day)        median    p95    p99    max")
    for label, counter in (
        ("DMs + ephemerals the bot started", per_day),
        ("baseline: one message per row, sent when written", baseline),
    ):
        values = [counter.get(slot, 0) for slot in slots]
        print(
            f"{label:<50}{quantile(values, 0.5):>6}{quantile(values, 0.95):>7}"
            f"{quantile(values, 0.99):>7}{max(values, default=0):>7}"
        )
    budget = [per_day.get(slot, 0) for slot in slots]
    base = [baseline.get(slot, 0) for slot in slots]
    print(
        f"ratio to the baseline (total)                     {sum(budget) / max(1, sum(base)):.2f}"
        f"   ({sum(budget)} sent, {sum(base)} written; {len(slots)} person-days)"
    )
    print()
    print(
        f"median per working day: {quantile(budget, 0.5)} (target <= 1)   p99: {quantile(budget, 0.99)} (target <= 4)"
    )
    print(f"sent outside the reader's working hours at a time they did not choose: {len(outside)} (target 0)")
    for m in outside:
        reader = people[m.recipient_id]
        prefs = reader.preferences
        print(
            f"  {m.kind}{':' + m.stage if m.stage else ''} to {m.recipient_id} at {reader.local(m.at):%a %d %b %H:%M}"
            f" {reader.tz} (works {prefs.work_start:%H:%M}-{prefs.work_end:%H:%M}, days {prefs.work_days})"
        )
    print(
        f"sent on a day the reader does not work or is away: {sum(off_days.values())}"
        " (at a time they chose, or the moment they did something, unless counted just above)"
    )
    for (kind, stage), n in off_days.most_common():
        print(f"  {kind}{':' + stage if stage else ''}: {n}")
    replies = [m for m in in_window if m.reply]
    print(f"answers to the reader's own commands sent after the ack (not counted above): {len(replies)}")
    share = 100 * len(with_action) / len(reminders) if reminders else 100.0
    print(f"reminders carrying an action: {len(with_action)}/{len(reminders)} = {share:.1f}% (target 100%)")
    for (kind, stage), n in Counter((m.kind, m.stage) for m in reminders if not m.has_action).most_common():
        print(f"  without one: {kind}{':' + stage if stage else ''}: {n}")
    heavy = {slot for slot in slots if per_day.get(slot, 0) >= max(2, quantile(budget, 0.99))}
    print(f"the busiest person-days ({len(heavy)} with {max(2, quantile(budget, 0.99))} or more), by kind:")
    made_of = Counter(
        (m.kind, m.stage)
        for m in started
        if (m.recipient_id, people[m.recipient_id].local(m.at).date()) in heavy
    )
    for (kind, stage), n in made_of.most_common():
        print(f"  {kind + (':' + stage if stage else ''):<32}{n:>6}")
    leads = sum(1 for user_id, _ in heavy if people[user_id].lead)
    mondays = sum(1 for _, day in heavy if day.weekday() == 0)
    print(f"  of those days, {leads} were a lead's and {mondays} a Monday")
    print()
    print("what the bot started, by kind")
    for (kind, stage), n in Counter((m.kind, m.stage) for m in started).most_common():
        print(f"  {kind + (':' + stage if stage else ''):<32}{n:>6}")
    if result["failed"]:
        print("\nrefused requests (first 10):")
        for line in result["failed"][:10]:
            print(f"  {line}")


if __name__ == "__main__":
    raise SystemExit(main())
