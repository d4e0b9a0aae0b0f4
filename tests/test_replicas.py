"""Two `extramile run` replicas on one PostgreSQL database, as a deployment behind a load balancer runs
them: each in a process of its own, both serving Slack and both delivering the outbox, against one fake
Slack. Each replica has a bot token of its own, so the fake can tell which one sent what."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, func, select, text

from bot.clock import SystemClock
from bot.services.people import PeopleService, Preferences
from bot.services.workspaces import WorkspaceService, WorkspaceSettings
from handlers.slack.clients import OneWorkspace
from handlers.slack.fake_api import FakeSlack
from handlers.slack.messenger import SlackDirectory
from handlers.slack.signed_requests import SignedSender, SlackResponse
from storage import outbox as outbox_store
from storage.db import create_db_engine, session_factory
from storage.models import Base, OutboxMessage
from tests.conftest import GENERAL, SIGNING_SECRET, TEAM, payload
from tests.test_cli import _free_port, clean_env
from tests.test_shutdown import _sent_by_outbox_id, _start

pytestmark = pytest.mark.postgres

GIVERS = tuple(f"U0GIVER{n}" for n in range(10))
THANKED = tuple(f"U0THANKED{n}" for n in range(10))
# Each kudos is a public post and a DM to the person thanked.
KUDOS_FOR_A_BUSY_DAY = 1_000
KUDOS_TO_INTERRUPT = 100
# A deadline far from any expectation, and far below the outbox's five-minute lease: work that only a
# lease running out could finish would not finish in time.
DEADLINE_SECONDS = 120


@dataclass
class Replica:
    """One `extramile run`, its output read as it comes (a full pipe would stall it)."""

    name: str
    token: str
    port: int
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def sender(self) -> SignedSender:
        return SignedSender(f"http://127.0.0.1:{self.port}", SIGNING_SECRET)

    def stop(self) -> int:
        """SIGTERM, as a deploy sends it; the exit status once it has stopped."""
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(60)
        self._reader.join(10)
        return status

    @property
    def output(self) -> str:
        return "".join(self.lines)

    @property
    def tail(self) -> str:
        """The end of its output, for a failure message."""
        return "".join(self.lines[-40:])


def _noon_somewhere() -> str:
    """A zone where it is about noon now: a DM to someone there is due at once, whatever the hour here."""
    ahead = 12 - datetime.now(UTC).hour  # -11 to +12 hours from UTC
    return "Etc/GMT" if ahead == 0 else f"Etc/GMT{-ahead:+d}"  # "Etc/GMT-3" is three hours ahead


@pytest.fixture
def database(postgres_database: str) -> Iterator[Engine]:
    engine = create_db_engine(postgres_database)
    yield engine
    # The database is shared by the session's PostgreSQL tests: leave it empty, as they do.
    with engine.begin() as connection:
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def fake(database: Engine) -> Iterator[FakeSlack]:
    """The workspace: ten givers, ten people they thank (at work every day, in a zone where it is
    midday), and #general. No allowance, so a busy day is not cut short."""
    with FakeSlack(team_id=TEAM) as fake:
        fake.add_channel(GENERAL, "general")
        for n, user_id in enumerate(GIVERS):
            fake.add_user(user_id, f"giver{n}", tz="Europe/London")
        for n, user_id in enumerate(THANKED):
            fake.add_user(user_id, f"thanked{n}", tz=_noon_somewhere())
        sessions = session_factory(database)
        WorkspaceService(sessions).save(WorkspaceSettings(team_id=TEAM, daily_allowance=0))
        people = PeopleService(
            sessions=sessions,
            clock=SystemClock(),
            directory=SlackDirectory(OneWorkspace(WebClient(token="xoxb-setup", base_url=fake.url))),
        )
        for user_id in THANKED:
            people.save_preferences(TEAM, user_id, Preferences(work_days=tuple(range(7))))
        fake.clear_calls()
        yield fake


@pytest.fixture
def replicas(database: Engine, fake: FakeSlack, tmp_path: Path) -> Iterator[tuple[Replica, Replica]]:
    url = database.url.render_as_string(hide_password=False)

    def start(name: str) -> Replica:
        port = _free_port()
        token = f"xoxb-replica-{name}"
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN=token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake.url,
            DATABASE_URL=url,
            PORT=str(port),
        )
        return Replica(name, token, port, _start(env, tmp_path, port))

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(start, ("a", "b"))
    try:
        yield a, b
    finally:
        for replica in (a, b):
            if replica.process.poll() is None:
                replica.process.kill()
                replica.process.wait(10)


def _give_kudos(replicas: tuple[Replica, ...], fake: FakeSlack, count: int) -> list[SlackResponse]:
    """`count` signed /kudos, 16 in flight, taking turns between the replicas as a load balancer would."""
    senders = [replica.sender for replica in replicas]

    def one(n: int) -> SlackResponse:
        giver, thanked = GIVERS[n % len(GIVERS)], THANKED[n % len(THANKED)]
        form = payload("slash_command", user_id=giver, text=f"<@{thanked}> thanks for fix number {n}")
        form["trigger_id"] = f"trigger-{n}"
        form["response_url"] = fake.response_url(f"{giver}/{n}")
        return senders[n % len(senders)].command(form)

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(one, range(count)))


def _statuses(engine: Engine) -> Counter[str]:
    with engine.connect() as connection:
        rows = connection.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        return Counter({status: count for status, count in rows})


def _wait_until_all_sent(engine: Engine, expected: int) -> None:
    """Polls the outbox until `expected` rows are there, all sent (a DM's row is written when its post
    goes out)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while (statuses := _statuses(engine)) != Counter({outbox_store.SENT: expected}):
        assert time.monotonic() < deadline, f"not all sent after {DEADLINE_SECONDS} s: {dict(statuses)}"
        time.sleep(0.25)


def _rows(engine: Engine) -> list[OutboxMessage]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _assert_each_sent_once(fake: FakeSlack, rows: list[OutboxMessage], kudos: int) -> None:
    """Every post in #general and every DM to the person thanked, once: each outbox row's message (its
    id is in the message's metadata) went out exactly once, and Slack refused nothing."""
    posts = [row.id for row in rows if row.kind == "kudos.post"]
    dms = {row.id: row.recipient_id for row in rows if row.kind == "kudos.dm"}
    assert len(posts) == len(dms) == kudos and len(rows) == 2 * kudos
    assert all(call.ok for call in fake.calls_to("chat.postMessage"))
    in_general = _sent_by_outbox_id(fake, GENERAL)
    assert set(in_general) == set(posts) and set(in_general.values()) == {1}, "a post went out twice, or not"
    to_thanked: Counter[int] = Counter()
    for user_id in THANKED:
        to_thanked += _sent_by_outbox_id(fake, user_id)
    assert set(to_thanked) == set(dms) and set(to_thanked.values()) == {1}, "a DM went out twice, or not"
    for call in fake.calls_to("chat.postMessage"):
        outbox_id = call.params["metadata"]["event_payload"]["outbox_id"]
        assert call.params["channel"] == dms.get(outbox_id, GENERAL), "a message went to the wrong place"


def _sent_by(fake: FakeSlack, token: str) -> set[int]:
    return {
        call.params["metadata"]["event_payload"]["outbox_id"]
        for call in fake.calls_to("chat.postMessage")
        if call.token == token and call.ok
    }


def test_two_replicas_share_a_busy_day_and_send_everything_once(
    database: Engine, fake: FakeSlack, replicas: tuple[Replica, Replica]
) -> None:
    responses = _give_kudos(replicas, fake, KUDOS_FOR_A_BUSY_DAY)

    assert Counter((response.status, response.body) for response in responses) == Counter(
        {(200, ""): KUDOS_FOR_A_BUSY_DAY}
    ), "every /kudos is acknowledged, with nothing to say back"
    _wait_until_all_sent(database, 2 * KUDOS_FOR_A_BUSY_DAY)
    _assert_each_sent_once(fake, _rows(database), KUDOS_FOR_A_BUSY_DAY)
    a, b = replicas
    assert _sent_by(fake, a.token) and _sent_by(fake, b.token), "one replica did all the sending"
    assert not fake.calls_to("conversations.history"), "a row was taken over from a sender that died"
    for replica in replicas:
        assert replica.stop() == 0, replica.tail
        assert "Traceback" not in replica.output, replica.tail


def test_a_replica_stopped_mid_pass_hands_its_rows_to_the_other_at_once(
    database: Engine, fake: FakeSlack, replicas: tuple[Replica, Replica]
) -> None:
    a, b = replicas
    # A slow Slack: a delivery pass takes seconds, so the SIGTERM lands in the middle of one.
    fake.slow_down("chat.postMessage", 0.2)
    responses = _give_kudos(replicas, fake, KUDOS_TO_INTERRUPT)
    assert {response.status for response in responses} == {200}

    a_owner, claimed_by_a = _in_the_middle_of_a_pass(database, fake, a, unstarted=10)
    assert a.stop() == 0, a.tail
    fake.slow_down("chat.postMessage", 0)

    # A finished the row it was sending and handed back the others it had claimed: none is left
    # waiting for A's lease to run out, none looks as if it may have gone out already.
    released = re.search(r"released (\d+) claimed outbox rows", a.output)
    assert released and int(released[1]) >= 1, a.tail
    assert "stopped cleanly" in a.output and "Traceback" not in a.output, a.tail
    handed_over = claimed_by_a - _sent_by(fake, a.token)
    assert handed_over, "A sent everything it had claimed before it stopped"
    after_a = {row.id: row for row in _rows(database)}
    assert [
        row.id
        for row in after_a.values()
        if row.status == outbox_store.CLAIMED and row.lease_owner == a_owner
    ] == [], "rows A claimed wait for its lease to run out"
    for row_id in handed_over:
        row = after_a[row_id]
        assert not row.maybe_sent and row.last_error != outbox_store.LEASE_EXPIRED, f"row {row_id} in doubt"

    _wait_until_all_sent(database, 2 * KUDOS_TO_INTERRUPT)
    _assert_each_sent_once(fake, _rows(database), KUDOS_TO_INTERRUPT)
    assert handed_over <= _sent_by(fake, b.token), "a row A handed back was not sent by B"
    # B never had to look for a copy A might have sent: nothing it took over was in doubt.
    assert not fake.calls_to("conversations.history") and not fake.calls_to("conversations.replies")
    assert b.stop() == 0, b.tail
    assert "Traceback" not in b.output, b.tail


def _in_the_middle_of_a_pass(
    engine: Engine, fake: FakeSlack, replica: Replica, *, unstarted: int
) -> tuple[str, set[int]]:
    """Waits until `replica` has sent a message and still holds at least `unstarted` claimed rows
    besides the one it is sending. Its lease owner (read from a row it sent) and the rows it holds."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    owner: str | None = None
    while True:
        assert time.monotonic() < deadline, f"{replica.name} never held {unstarted} rows mid-pass"
        sent = _sent_by(fake, replica.token)
        with engine.connect() as connection:
            if owner is None and sent:
                owner = connection.scalar(
                    select(OutboxMessage.lease_owner).where(OutboxMessage.id == min(sent))
                )
            held = set(
                connection.scalars(
                    select(OutboxMessage.id).where(
                        OutboxMessage.status == outbox_store.CLAIMED, OutboxMessage.lease_owner == owner
                    )
                )
            )
        if owner is not None and len(held - sent) > unstarted:
            return owner, held
        time.sleep(0.02)
