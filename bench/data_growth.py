"""Cost as the data grows (issue #12, benchmark 2): the same due work over 10 k and 1 M stored rows.

For each database (SQLite, and PostgreSQL when it answers at 127.0.0.1:5432, in a database of its own
dropped at the end) and each size, a fresh database is migrated and seeded with stored rows spread over
several workspaces (kudos, promises, check-ins, shared dates, outbox rows: mostly old, sent or done),
plus the same due work in every size (promise reminders, overdue promises to nudge, check-ins and
birthdays falling due). Then one real pass runs, as `extramile tick` does: `delivery.plan(now)` and
`delivery.deliver_due(now)` against the fake Slack (in this process, on 127.0.0.1). It reports the
pass's ms per due row at each size and the ratio largest / smallest (target <= 1.3), with the
leaderboard, `/promise list` and recap queries per call. Then a day's celebrations are planned for one
workspace of 1 k and of 100 k people with the same people celebrating (target <= 1.5).

With --explain it prints EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL (EXPLAIN QUERY PLAN on SQLite) at the
largest size for the statements the real storage functions send: captured while they run, never copied.

    python bench/data_growth.py [--sizes 10000 1000000] [--due 200] [--people 1000 100000]
                                [--databases sqlite postgres] [--explain]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from databases import bench_settings, postgres_answers, postgres_database  # noqa: E402
from sqlalchemy import Engine, event, insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bot.app import ExtraMile, build_app  # noqa: E402
from bot.clock import FrozenClock  # noqa: E402
from bot.services import keys  # noqa: E402
from handlers.slack.fake_api import FakeSlack  # noqa: E402
from storage import kudos as kudos_store  # noqa: E402
from storage import outbox as outbox_store  # noqa: E402
from storage import promises as promise_store  # noqa: E402
from storage import recaps as recap_store  # noqa: E402
from storage.db import create_db_engine, unit_of_work, upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Checkin,
    CheckinCompletion,
    Kudos,
    KudosRecipient,
    KudosValue,
    OutboxMessage,
    Person,
    PersonDates,
    Promise,
    PromisePromisee,
    Workspace,
)

# A Wednesday afternoon: inside London's working hours, so nothing due is held for the morning.
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
WEEK_START = datetime(2026, 11, 16, tzinfo=UTC)
TEAM = "T0001"
WORKSPACES = 20
PEOPLE_PER_WORKSPACE = 200
LISTER = "U0LIST"
CELEBRATIONS_CHANNEL = "C0CELEBRATE"
BATCH = 10_000
QUERY_CALLS = 30
CELEBRATION_PLANS = 5
# What the stored rows are made of, as shares of the total (a kudos comes with its recipient row, and
# a promise with its promisee: those child rows count as stored rows too).
SHARES = {
    "kudos": 0.20,
    "kudos_recipient": 0.20,
    "kudos_value": 0.05,
    "promise": 0.10,
    "promise_promisee": 0.10,
    "checkin": 0.03,
    "checkin_completion": 0.07,
    "person_dates": 0.05,
    "outbox": 0.20,
}


# ---------------------------------------------------------------- databases


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """A migrated, empty database of its own; a PostgreSQL one is dropped afterwards."""
    if kind == "sqlite":
        path = folder / f"{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        engine = create_db_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    with postgres_database() as url:
        engine = create_db_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


# ---------------------------------------------------------------- seeding


def _bulk(connection: Any, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    """Core executemany in batches of BATCH rows."""
    written, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            connection.execute(insert(table), batch)
            written, batch = written + len(batch), []
    if batch:
        connection.execute(insert(table), batch)
        written += len(batch)
    return written


def _old(rng: random.Random, n: int, count: int) -> datetime:
    """Row n of `count`, written in the two years before last week: later rows were written later, as
    they are in a real table (ids and times go up together)."""
    return NOW - timedelta(days=730 - 716 * n / max(count, 1) - rng.random())


def _team(n: int) -> str:
    """Workspace n of WORKSPACES; the first is TEAM, where the reads and the due work are."""
    return f"T{n + 1:04d}"


def _user(rng: random.Random) -> tuple[str, str]:
    team = _team(rng.randrange(WORKSPACES))
    return team, f"U{team[1:]}{rng.randrange(PEOPLE_PER_WORKSPACE):04d}"


def _off_window_day(rng: random.Random) -> tuple[int, int]:
    """A birthday or anniversary nowhere near the days a pass plans for (January to October)."""
    return rng.randrange(1, 11), rng.randrange(1, 29)


def seed_stored(engine: Engine, total: int, rng: random.Random) -> dict[str, int]:
    """`total` stored rows over WORKSPACES workspaces: what a long-lived deployment keeps, none of it due."""
    count = {name: int(total * share) for name, share in SHARES.items()}
    with engine.begin() as connection:
        _bulk(connection, Workspace.__table__, ({"team_id": _team(n)} for n in range(WORKSPACES)))

        kudos_teams: list[str] = []

        def kudos_rows() -> Iterator[dict[str, Any]]:
            for n in range(1, count["kudos"] + 1):
                team, giver = _user(rng)
                kudos_teams.append(team)
                yield {
                    "id": n,
                    "team_id": team,
                    "dedupe_key": f"old:{n}",
                    "giver_id": giver,
                    "message": "thanks for the help with the release",
                    "source": "command",
                    # Mostly posted; a few taken back or failed.
                    "status": kudos_store.POSTED if rng.random() < 0.95 else kudos_store.REVOKED,
                    "created_at": _old(rng, n, count["kudos"]),
                    "post_channel_id": "C0KUDOS",
                    "post_ts": f"{n}.000100",
                }

        _bulk(connection, Kudos.__table__, kudos_rows())
        _bulk(
            connection,
            KudosRecipient.__table__,
            (
                {
                    "kudos_id": n + 1,
                    "user_id": f"U{kudos_teams[n][1:]}{rng.randrange(PEOPLE_PER_WORKSPACE):04d}",
                    "team_id": kudos_teams[n],
                    "position": 0,
                }
                for n in range(min(count["kudos_recipient"], count["kudos"]))
            ),
        )
        _bulk(
            connection,
            KudosValue.__table__,
            (
                {"kudos_id": n + 1, "value": "teamwork", "team_id": kudos_teams[n]}
                for n in range(min(count["kudos_value"], count["kudos"]))
            ),
        )

        promise_teams: list[str] = []

        def promise_rows() -> Iterator[dict[str, Any]]:
            for n in range(1, count["promise"] + 1):
                team, promiser = _user(rng)
                promise_teams.append(team)
                created = _old(rng, n, count["promise"])
                due = created + timedelta(days=rng.randrange(1, 14))
                kept = rng.random() < 0.9
                yield {
                    "id": n,
                    "team_id": team,
                    "dedupe_key": f"old:{n}",
                    "promiser_id": promiser,
                    "contact_name": "Jane",
                    "what": "send the quote",
                    # Kept or cancelled long ago; the rest are open and due in the coming months.
                    "due_at": due if kept else NOW + timedelta(days=7 + rng.randrange(120)),
                    "date_only": False,
                    "version": 1,
                    "status": (promise_store.DONE if rng.random() < 0.9 else promise_store.CANCELLED)
                    if kept
                    else promise_store.OPEN,
                    "created_at": created,
                    "closed_at": due - timedelta(hours=rng.randrange(48)) if kept else None,
                }

        _bulk(connection, Promise.__table__, promise_rows())
        _bulk(
            connection,
            PromisePromisee.__table__,
            (
                {
                    "promise_id": n + 1,
                    "user_id": f"U{promise_teams[n][1:]}{rng.randrange(PEOPLE_PER_WORKSPACE):04d}",
                    "team_id": promise_teams[n],
                    "position": 0,
                }
                for n in range(min(count["promise_promisee"], count["promise"]))
            ),
        )

        def checkin_rows() -> Iterator[dict[str, Any]]:
            for n in range(1, count["checkin"] + 1):
                team, requester = _user(rng)
                weeks = rng.randrange(3, 100)
                active = rng.random() < 0.2
                yield {
                    "id": n,
                    "team_id": team,
                    "dedupe_key": f"old:{n}",
                    "requester_id": requester,
                    "contact_name": "Dan",
                    "every_count": 1,
                    "every_unit": "week",
                    "start_date": NOW.date() - timedelta(weeks=weeks),
                    "local_time": clock_time(10, 0),
                    # An active one's next occurrence is next week; the rest were stopped.
                    "next_occurrence": weeks + 2,
                    "status": "active" if active else "stopped",
                    "created_at": NOW - timedelta(weeks=weeks),
                }

        _bulk(connection, Checkin.__table__, checkin_rows())
        _bulk(
            connection,
            CheckinCompletion.__table__,
            (
                {
                    "id": n,
                    "team_id": _team(rng.randrange(WORKSPACES)),
                    "checkin_id": rng.randrange(1, count["checkin"] + 1),
                    "requester_id": None,
                    "token": f"old:{n}",
                    "done_at": _old(rng, n, count["checkin_completion"]),
                }
                for n in range(1, count["checkin_completion"] + 1)
            ),
        )

        def dates_rows() -> Iterator[dict[str, Any]]:
            for n in range(count["person_dates"]):
                month, day = _off_window_day(rng)
                start_month, start_day = _off_window_day(rng)
                yield {
                    "team_id": _team(n % WORKSPACES),
                    "user_id": f"U{n:07d}",
                    "birthday_month": month,
                    "birthday_day": day,
                    "start_date": date(2010 + rng.randrange(15), start_month, start_day),
                    "source": "self",
                    "updated_at": _old(rng, n, count["person_dates"]),
                }

        _bulk(connection, PersonDates.__table__, dates_rows())

        def outbox_rows() -> Iterator[dict[str, Any]]:
            for n in range(1, count["outbox"] + 1):
                team, recipient = _user(rng)
                created = _old(rng, n, count["outbox"])
                roll = rng.random()
                # Mostly sent; some recorded work done, cancelled or dead; a few waiting for a later day.
                status = (
                    outbox_store.SENT
                    if roll < 0.85
                    else outbox_store.DONE
                    if roll < 0.90
                    else outbox_store.CANCELLED
                    if roll < 0.95
                    else outbox_store.DEAD
                    if roll < 0.97
                    else outbox_store.PENDING
                )
                welcome = rng.random() < 0.05
                yield {
                    "id": n,
                    "team_id": team,
                    "dedupe_key": keys.welcome(recipient, "dm") + f":{n}" if welcome else f"old:{n}",
                    "kind": "welcome.notice" if welcome else "promise.notice",
                    "recipient_id": recipient,
                    "payload": {"promise_id": 0, "stage": "due", "version": 1},
                    "deliver_after": NOW + timedelta(days=1 + rng.randrange(90))
                    if status == outbox_store.PENDING
                    else created,
                    "status": status,
                    "attempts": 0 if status == outbox_store.PENDING else 1,
                    "created_at": created,
                    "sent_at": created if status == outbox_store.SENT else None,
                }

        _bulk(connection, OutboxMessage.__table__, outbox_rows())
        if connection.dialect.name == "postgresql":
            # Ids were given explicitly: the sequences must move past them before anything else inserts.
            for table in ("kudos", "promise", "checkin", "checkin_completion", "outbox"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    )
                )
    return count


@dataclass
class Due:
    """The work due at NOW, the same in every size."""

    reminders: int
    nudges: int
    checkins: int
    birthdays: int
    users: list[str] = field(default_factory=list)

    @classmethod
    def split(cls, total: int) -> Due:
        quarter = max(1, total // 7)
        return cls(reminders=total - 3 * quarter, nudges=quarter, checkins=quarter, birthdays=quarter)


def seed_recent(engine: Engine, due: Due) -> None:
    """This week's activity in TEAM (what a recap and a weekly leaderboard read), the same in every size,
    and the due work: every row through Core, in the shapes the services write."""
    people = [f"U0DUE{n:04d}" for n in range(max(due.reminders, due.nudges, due.checkins, due.birthdays))]
    due.users = [*people, LISTER]
    with engine.begin() as connection:
        connection.execute(
            Workspace.__table__.update()
            .where(Workspace.team_id == TEAM)
            .values(celebrations_channel_id=CELEBRATIONS_CHANNEL, timezone="Europe/London")
        )
        _bulk(
            connection,
            Person.__table__,
            (
                {
                    "team_id": TEAM,
                    "user_id": user_id,
                    "display_name": user_id.lower(),
                    "tz": "Europe/London",
                    "refreshed_at": NOW,
                }
                for user_id in due.users
            ),
        )
        for n in range(100):
            kudos_id = connection.execute(
                insert(Kudos.__table__)
                .values(
                    team_id=TEAM,
                    dedupe_key=f"week:{n}",
                    giver_id=people[n % len(people)],
                    message="thanks",
                    source="command",
                    status=kudos_store.POSTED,
                    created_at=WEEK_START + timedelta(hours=n % 48),
                    post_channel_id="C0KUDOS",
                )
                .returning(Kudos.__table__.c.id)
            ).scalar_one()
            connection.execute(
                insert(KudosRecipient.__table__).values(
                    kudos_id=kudos_id, user_id=people[(n + 1) % len(people)], team_id=TEAM
                )
            )

        def promise(key: str, promiser: str, due_at: datetime, status: str, closed: bool) -> int:
            promise_id = connection.execute(
                insert(Promise.__table__)
                .values(
                    team_id=TEAM,
                    dedupe_key=key,
                    promiser_id=promiser,
                    contact_name="Jane",
                    what="a call back",
                    due_at=due_at,
                    date_only=False,
                    version=1,
                    status=status,
                    created_at=min(due_at, NOW) - timedelta(days=1),
                    closed_at=due_at - timedelta(hours=1) if closed else None,
                )
                .returning(Promise.__table__.c.id)
            ).scalar_one()
            connection.execute(
                insert(PromisePromisee.__table__).values(promise_id=promise_id, user_id=LISTER, team_id=TEAM)
            )
            return int(promise_id)

        for n in range(30):  # kept this week (a recap counts them)
            promise(f"kept:{n}", people[n % len(people)], WEEK_START + timedelta(hours=n), "done", True)
        for n in range(5):  # what `/promise list` shows LISTER
            promise(f"list:{n}", LISTER, NOW + timedelta(days=n + 2), promise_store.OPEN, False)
        for n in range(due.reminders):
            promise_id = promise(
                f"due:{n}", people[n], NOW - timedelta(minutes=30), promise_store.OPEN, False
            )
            connection.execute(
                insert(OutboxMessage.__table__).values(
                    team_id=TEAM,
                    dedupe_key=keys.promise_message(promise_id, "due", version=1),
                    kind="promise.notice",
                    recipient_id=people[n],
                    payload={"promise_id": promise_id, "stage": "due", "version": 1},
                    deliver_after=NOW - timedelta(minutes=30),
                    status=outbox_store.PENDING,
                    attempts=0,
                    created_at=NOW - timedelta(days=1),
                )
            )
        for n in range(due.nudges):  # due on Monday evening: Wednesday morning's nudge is due
            promise(f"overdue:{n}", people[n], NOW - timedelta(days=1, hours=22), promise_store.OPEN, False)
        for n in range(due.checkins):  # its first occurrence is this morning
            connection.execute(
                insert(Checkin.__table__).values(
                    team_id=TEAM,
                    dedupe_key=f"due:{n}",
                    requester_id=people[n],
                    contact_name="Dan",
                    every_count=2,
                    every_unit="week",
                    start_date=NOW.date(),
                    local_time=clock_time(9, 0),
                    next_occurrence=1,
                    status="active",
                    created_at=NOW - timedelta(days=3),
                )
            )
        for n in range(30):  # done this week
            connection.execute(
                insert(CheckinCompletion.__table__).values(
                    team_id=TEAM,
                    checkin_id=1,
                    requester_id=people[n % len(people)],
                    token=f"week:{n}",
                    done_at=WEEK_START + timedelta(hours=n),
                )
            )
        for n in range(due.birthdays):
            connection.execute(
                insert(PersonDates.__table__).values(
                    team_id=TEAM,
                    user_id=people[n],
                    birthday_month=NOW.month,
                    birthday_day=NOW.day,
                    source="self",
                    updated_at=NOW - timedelta(days=30),
                )
            )


def analyze(engine: Engine) -> None:
    """PostgreSQL's statistics, as autovacuum would have them after a bulk load. SQLite is left as a
    deployment leaves it: no ANALYZE."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


# ---------------------------------------------------------------- measuring


def fake_slack(due: Due) -> FakeSlack:
    fake = FakeSlack(team_id=TEAM)
    for user_id in due.users:
        fake.add_user(user_id, user_id.lower(), tz="Europe/London")
    fake.add_channel(CELEBRATIONS_CHANNEL, "celebrations")
    return fake


@dataclass
class Pass:
    plan_ms: float
    deliver_ms: float
    sent: int

    @property
    def per_row_ms(self) -> float:
        return (self.plan_ms + self.deliver_ms) / max(self.sent, 1)


def one_pass(app: ExtraMile) -> Pass:
    delivery = app.services.delivery
    # Warm-up: what a pass would do, rolled back (imports, connections, the people cache).
    delivery.tick(NOW, dry_run=True)
    started = time.perf_counter()
    delivery.plan(NOW)
    planned = time.perf_counter()
    report = delivery.deliver_due(NOW)
    done = time.perf_counter()
    return Pass(
        plan_ms=(planned - started) * 1000, deliver_ms=(done - planned) * 1000, sent=report.sent + report.done
    )


def query_calls(app: ExtraMile) -> dict[str, Callable[[Session], object]]:
    """The reads people wait for, as the services call them."""
    since, until = WEEK_START, NOW
    week_before = since - timedelta(days=7)

    def leaderboard(period_since: datetime | None) -> Callable[[Session], object]:
        def read(session: Session) -> object:
            kudos_store.top_receivers(session, team_id=TEAM, since=period_since, limit=10)
            return kudos_store.top_givers(session, team_id=TEAM, since=period_since, limit=10)

        return read

    def promise_list(session: Session) -> object:
        promise_store.open_by_promiser(session, team_id=TEAM, user_id=LISTER)
        return promise_store.open_for_promisee(session, team_id=TEAM, user_id=LISTER)

    def recap(session: Session) -> object:
        recap_store.kudos_between(session, team_id=TEAM, since=week_before, until=until)
        recap_store.promises_kept(session, team_id=TEAM, since=since, until=until)
        recap_store.checkins_done(session, team_id=TEAM, since=since, until=until)
        recap_store.overdue_promisers(session, team_id=TEAM, at=until)
        return outbox_store.recipients_queued(
            session,
            team_id=TEAM,
            kind="welcome.notice",
            key_like=keys.welcome_dms(),
            since=since,
            until=until,
        )

    return {
        "leaderboard (week)": leaderboard(since),
        "leaderboard (all time)": leaderboard(None),
        "/promise list": promise_list,
        "recap": recap,
    }


def time_queries(app: ExtraMile) -> dict[str, float]:
    """Median ms per call, each in a session of its own as a request would have."""
    timings = {}
    for label, call in query_calls(app).items():
        samples = []
        for _ in range(QUERY_CALLS):
            started = time.perf_counter()
            with unit_of_work(app.sessions) as session:
                call(session)
            samples.append((time.perf_counter() - started) * 1000)
        timings[label] = statistics.median(samples[2:])
    return timings


def capture(engine: Engine, work: Callable[[], object]) -> list[tuple[str, Any]]:
    """The distinct statements `work` sends, with the parameters of their first use."""
    seen: dict[str, Any] = {}

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE", "WITH")):
            seen.setdefault(statement, parameters)

    event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return list(seen.items())


def rolled_back(app: ExtraMile, work: Callable[[Session], object]) -> Callable[[], object]:
    """`work` in a transaction that is rolled back: it can run again on the same rows."""

    def run() -> object:
        session = app.sessions()
        try:
            with session.begin():
                result = work(session)
                session.rollback()
                return result
        finally:
            session.close()

    return run


def planners(app: ExtraMile) -> dict[str, Callable[[Session], object]]:
    """Each planner the services register with `add_planner`, and what `plan` runs after them."""
    services = app.services
    return {
        "promise nudges": lambda s: services.promises.plan_nudges(s, NOW),
        "check-ins": lambda s: services.checkins.plan_due(s, NOW),
        "celebrations": lambda s: services.celebrations.plan(s, NOW),
        "recaps": lambda s: services.recaps.plan(s, NOW),
        "questions": lambda s: services.questions.plan(s, NOW),
        "removed workspaces": lambda s: outbox_store.cancel_for_removed_workspaces(s, reason="removed"),
    }


def time_planners(app: ExtraMile) -> dict[str, float]:
    """Median ms of each planner once what was due has gone out: what every tick costs."""
    timings = {}
    for label, planner in planners(app).items():
        samples = []
        for _ in range(6):
            started = time.perf_counter()
            rolled_back(app, planner)()
            samples.append((time.perf_counter() - started) * 1000)
        timings[label] = statistics.median(samples[1:])
    return timings


def explain(app: ExtraMile, engine: Engine, *, show: bool) -> None:
    """The plans of the statements the claim, the planners and the reads send, with the due work in
    place (every statement runs in a transaction that is rolled back). Run at every size, so each pass
    follows the same warm-up; printed when `show`."""
    groups: dict[str, Callable[[], object]] = {
        "claim": rolled_back(
            app,
            lambda s: outbox_store.claim_due(
                s, now=NOW, owner="explain", lease_until=NOW, claimed_at=NOW, limit=50
            ),
        ),
        **{f"plan: {label}": rolled_back(app, planner) for label, planner in planners(app).items()},
        **{label: rolled_back(app, call) for label, call in query_calls(app).items()},
    }
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    for label, work in groups.items():
        if show:
            print(f"\n=== {label}")
        for statement, parameters in capture(engine, work):
            with engine.connect() as connection:
                transaction = connection.begin()
                try:
                    rows = connection.exec_driver_sql(prefix + statement, parameters).all()
                finally:
                    transaction.rollback()
            if not show:
                continue
            print("--", " ".join(statement.split())[:400])
            for row in rows:
                print("  ", row[-1] if postgres else f"{'  ' * _depth(rows, row)}{row[-1]}")


def _depth(rows: Sequence[Any], row: Any) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, node = 0, row[1]
    while node in parents:
        depth, node = depth + 1, parents[node]
    return depth


# ---------------------------------------------------------------- celebrations


def seed_people(engine: Engine, people: int, celebrating: int, rng: random.Random) -> list[str]:
    """One workspace of `people` people who shared their dates; `celebrating` of them have a birthday today."""
    users = [f"U{n:07d}" for n in range(people)]
    with engine.begin() as connection:
        connection.execute(
            insert(Workspace.__table__).values(team_id=TEAM, celebrations_channel_id=CELEBRATIONS_CHANNEL)
        )
        _bulk(
            connection,
            Person.__table__,
            (
                {
                    "team_id": TEAM,
                    "user_id": u,
                    "display_name": u.lower(),
                    "tz": "Europe/London",
                    "refreshed_at": NOW,
                }
                for u in users
            ),
        )

        def dates() -> Iterator[dict[str, Any]]:
            for n, user_id in enumerate(users):
                month, day = (NOW.month, NOW.day) if n < celebrating else _off_window_day(rng)
                start_month, start_day = _off_window_day(rng)
                yield {
                    "team_id": TEAM,
                    "user_id": user_id,
                    "birthday_month": month,
                    "birthday_day": day,
                    "start_date": date(2010 + rng.randrange(15), start_month, start_day),
                    "source": "self",
                    "updated_at": NOW - timedelta(days=30),
                }

        _bulk(connection, PersonDates.__table__, dates())
    return users[:celebrating]


def time_celebrations(app: ExtraMile) -> tuple[float, int]:
    """Median ms of planning a day's celebrations (rolled back each time), and the rows it plans."""
    samples, planned = [], 0
    for _ in range(CELEBRATION_PLANS + 1):
        session = app.sessions()
        try:
            with session.begin():
                started = time.perf_counter()
                planned = app.services.celebrations.plan(session, NOW)
                samples.append((time.perf_counter() - started) * 1000)
                session.rollback()
        finally:
            session.close()
    return statistics.median(samples[1:]), planned


# ---------------------------------------------------------------- the run


@dataclass
class SizeResult:
    seed_s: float
    run: Pass
    queries: dict[str, float]
    planners: dict[str, float]


def run_size(kind: str, folder: Path, size: int, due_total: int, explaining: bool, show: bool) -> SizeResult:
    rng = random.Random(size)
    due = Due.split(due_total)
    with fresh_database(kind, folder) as url:
        engine = create_db_engine(url)
        started = time.perf_counter()
        seed_stored(engine, size, rng)
        seed_recent(engine, due)
        analyze(engine)
        seeded = time.perf_counter() - started
        with fake_slack(due) as fake:
            app = build_app(bench_settings(url, fake.url), clock=FrozenClock(NOW), engine=engine)
            try:
                queries = time_queries(app)
                if explaining:
                    if show:
                        print(f"\n######## query plans on {kind}, {size:,} stored rows, before the pass")
                    explain(app, engine, show=show)
                result = one_pass(app)
                steady = time_planners(app)
            finally:
                app.workers.shutdown()
        engine.dispose()
    return SizeResult(seed_s=seeded, run=result, queries=queries, planners=steady)


def run_people(kind: str, folder: Path, people: int, celebrating: int, show: bool) -> tuple[float, int]:
    rng = random.Random(people)
    with fresh_database(kind, folder) as url:
        engine = create_db_engine(url)
        users = seed_people(engine, people, celebrating, rng)
        analyze(engine)
        fake = FakeSlack(team_id=TEAM)
        for user_id in users:
            fake.add_user(user_id, user_id.lower())
        with fake:
            app = build_app(bench_settings(url, fake.url), clock=FrozenClock(NOW), engine=engine)
            try:
                result = time_celebrations(app)
                if show:
                    print(f"\n######## celebrations' plan on {kind}, {people:,} people")
                    postgres = engine.dialect.name == "postgresql"
                    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
                    plan = rolled_back(app, lambda s: app.services.celebrations.plan(s, NOW))
                    for statement, parameters in capture(engine, plan):
                        if statement.lstrip().upper().startswith("INSERT"):
                            continue
                        print("--", " ".join(statement.split())[:400])
                        with engine.connect() as connection:
                            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
                            connection.rollback()
                        for row in rows:
                            print("  ", row[-1] if postgres else f"{'  ' * _depth(rows, row)}{row[-1]}")
            finally:
                app.workers.shutdown()
        engine.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--due", type=int, default=200, help="due rows in every size")
    parser.add_argument("--people", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--celebrating", type=int, default=30, help="people with a birthday today")
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument("--explain", action="store_true", help="print the query plans at the largest size")
    args = parser.parse_args()

    databases = [d for d in args.databases if d == "sqlite" or postgres_answers()]
    sizes, people = sorted(args.sizes), sorted(args.people)
    growth: dict[str, dict[int, SizeResult]] = {}
    celebrations: dict[str, dict[int, tuple[float, int]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind in databases:
            growth[kind] = {}
            for size in sizes:
                show = args.explain and size == sizes[-1]
                growth[kind][size] = run_size(kind, Path(folder), size, args.due, args.explain, show)
                print(f"# {kind} {size:,}: seeded in {growth[kind][size].seed_s:.1f} s", file=sys.stderr)
            celebrations[kind] = {}
            for count in people:
                show = args.explain and count == people[-1]
                celebrations[kind][count] = run_people(kind, Path(folder), count, args.celebrating, show)

    small, large = sizes[0], sizes[-1]
    print(f"\none plan + deliver pass (`extramile tick`) at {NOW:%Y-%m-%d %H:%M} UTC; fake Slack in process")
    print(
        f"{'database':10} {'stored rows':>12} {'due sent':>9} {'plan ms':>9} {'deliver ms':>11} {'ms/due row':>11}"
    )
    for kind, results in growth.items():
        for size, result in results.items():
            run = result.run
            print(
                f"{kind:10} {size:>12,} {run.sent:>9} {run.plan_ms:>9.1f} {run.deliver_ms:>11.1f} "
                f"{run.per_row_ms:>11.2f}"
            )
        ratio = results[large].run.per_row_ms / results[small].run.per_row_ms
        print(f"{kind:10} {'ratio':>12} {'':>9} {'':>9} {'':>11} {ratio:>11.2f}  (target <= 1.3)")

    print("\neach planner once the due work has gone out (what every tick costs), median ms")
    print(f"{'database':10} {'planner':24}" + "".join(f"{size:>12,}" for size in sizes) + f"{'ratio':>8}")
    for kind, results in growth.items():
        for label in results[small].planners:
            figures = [results[size].planners[label] for size in sizes]
            print(
                f"{kind:10} {label:24}"
                + "".join(f"{figure:>12.2f}" for figure in figures)
                + f"{figures[-1] / max(figures[0], 0.001):>8.2f}"
            )

    print(f"\nreads, median ms per call over {QUERY_CALLS} calls, in workspace {TEAM}")
    header = f"{'database':10} {'query':24}" + "".join(f"{size:>12,}" for size in sizes) + f"{'ratio':>8}"
    print(header)
    for kind, results in growth.items():
        for label in results[small].queries:
            figures = [results[size].queries[label] for size in sizes]
            print(
                f"{kind:10} {label:24}"
                + "".join(f"{figure:>12.2f}" for figure in figures)
                + f"{figures[-1] / figures[0]:>8.2f}"
            )

    print(
        f"\nplanning a day's celebrations in one workspace, {args.celebrating} celebrating; median of {CELEBRATION_PLANS}"
    )
    print(f"{'database':10} {'people':>9} {'planned':>8} {'plan ms':>9}")
    for kind, results in celebrations.items():
        for count, (ms, planned) in results.items():
            print(f"{kind:10} {count:>9,} {planned:>8} {ms:>9.1f}")
        ratio = results[people[-1]][0] / results[people[0]][0]
        print(f"{kind:10} {'ratio':>9} {'':>8} {ratio:>9.2f}  (target <= 1.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
