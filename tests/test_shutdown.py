"""Acknowledged means recorded, through deploys and crashes: `extramile run` in a process of its own,
a burst of signed /kudos, then SIGTERM (what every deploy sends) or SIGKILL at an arbitrary moment,
then `extramile tick` (a restart, or another replica). Every acknowledged kudos is recorded, and every
recorded kudos is posted once and its recipient told once."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services.workspaces import WorkspaceService, WorkspaceSettings
from handlers.slack.fake_api import FakeSlack
from handlers.slack.signed_requests import SignedSender
from storage.db import create_db_engine, session_factory
from storage.models import Kudos, OutboxMessage
from tests.conftest import ANA, GENERAL, GIVER, SIGNING_SECRET, TEAM, payload
from tests.test_cli import _free_port, clean_env, extramile

BURST = 120


def _working_hours_ahead() -> datetime:
    """A weekday afternoon at least an hour from now: every lease has run out, Ana (New York) is at work."""
    at = (datetime.now(UTC) + timedelta(hours=1)).replace(hour=15, minute=0, second=0, microsecond=0)
    at += timedelta(days=1)
    while at.weekday() >= 5:
        at += timedelta(days=1)
    return at


def _env(tmp_path: Path, fake: FakeSlack, database_url: str, **extra: str) -> dict[str, str]:
    return clean_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-shutdown-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.url,
        DATABASE_URL=database_url,
        **extra,
    )


def _start(env: dict[str, str], cwd: Path, port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "extramile run did not come up"
            time.sleep(0.1)


def _burst(port: int, fake: FakeSlack, interrupt: threading.Event) -> set[str]:
    """Sends BURST signed /kudos, 12 at a time; sets `interrupt` after a third were acknowledged.
    The trigger ids of the acknowledged ones."""
    sender = SignedSender(f"http://127.0.0.1:{port}", SIGNING_SECRET)
    acknowledged: set[str] = set()
    lock = threading.Lock()

    def one(n: int) -> None:
        form = payload("slash_command", text=f"<@{ANA}|ana> thanks for fix number {n}")
        form["trigger_id"] = f"trigger-{n}-{uuid.uuid4().hex[:8]}"
        form["response_url"] = fake.response_url(f"{GIVER}/{form['trigger_id']}")
        try:
            response = sender.command(form)
        except OSError:
            return  # the server was gone: not acknowledged, nothing promised
        if response.status == 200 and not response.body:
            with lock:
                acknowledged.add(form["trigger_id"])
                if len(acknowledged) == BURST // 3:
                    interrupt.set()

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(one, range(BURST)))
    return acknowledged


def _rows(database_url: str) -> tuple[list[Kudos], list[OutboxMessage]]:
    engine = create_db_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return (
                list(session.scalars(select(Kudos).order_by(Kudos.id))),
                list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))),
            )
    finally:
        engine.dispose()


def _sent_by_outbox_id(fake: FakeSlack, channel: str) -> Counter[int]:
    return Counter(
        call.params["metadata"]["event_payload"]["outbox_id"]
        for call in fake.calls_to("chat.postMessage")
        if call.ok and call.params.get("channel") == channel
    )


def _interrupted_burst(
    database_url: str, tmp_path: Path, how: signal.Signals
) -> tuple[FakeSlack, set[str], float, str]:
    engine = create_db_engine(database_url)
    WorkspaceService(session_factory(engine)).save(WorkspaceSettings(team_id=TEAM, daily_allowance=0))
    engine.dispose()
    port = _free_port()
    fake = FakeSlack(team_id=TEAM).start()
    fake.add_user(GIVER, "gia", tz="Europe/London")
    fake.add_user(ANA, "ana", tz="America/New_York")
    fake.add_channel(GENERAL, "general")
    env = _env(tmp_path, fake, database_url, PORT=str(port))
    process = _start(env, tmp_path, port)
    interrupt = threading.Event()
    stopped_in = 0.0

    def stop_when_asked() -> None:
        nonlocal stopped_in
        interrupt.wait(60)
        began = time.monotonic()
        process.send_signal(how)
        process.wait(60)
        stopped_in = time.monotonic() - began

    stopper = threading.Thread(target=stop_when_asked)
    stopper.start()
    acknowledged = _burst(port, fake, interrupt)
    stopper.join(90)
    output = process.stdout.read() if process.stdout else ""
    return fake, acknowledged, stopped_in, output


def _catch_up_and_check(database_url: str, tmp_path: Path, fake: FakeSlack, acknowledged: set[str]) -> None:
    env = _env(tmp_path, fake, database_url)
    tick = extramile("tick", "--at", _working_hours_ahead().isoformat(), env=env, cwd=tmp_path, timeout=120)
    assert tick.returncode == 0, tick.stderr

    kudos, rows = _rows(database_url)
    recorded = {k.dedupe_key.removeprefix("command:") for k in kudos}
    assert acknowledged <= recorded, "a kudos was acknowledged but never recorded"
    assert {k.status for k in kudos} == {"posted"}
    posts, dms = _sent_by_outbox_id(fake, GENERAL), _sent_by_outbox_id(fake, ANA)
    post_rows = {row.id for row in rows if row.kind == "kudos.post"}
    dm_rows = {row.id for row in rows if row.kind == "kudos.dm"}
    assert len(post_rows) == len(dm_rows) == len(kudos)
    assert set(posts) == post_rows and set(posts.values()) == {1}, "a post went out twice, or not at all"
    assert set(dms) == dm_rows and set(dms.values()) == {1}, "a DM went out twice, or not at all"
    assert {row.status for row in rows} == {"sent"}


def test_sigterm_during_a_burst_finishes_cleanly_and_loses_nothing(database_url: str, tmp_path: Path) -> None:
    fake, acknowledged, stopped_in, output = _interrupted_burst(database_url, tmp_path, signal.SIGTERM)
    try:
        assert len(acknowledged) >= BURST // 3
        assert stopped_in < 25, f"took {stopped_in:.1f} s to stop"
        assert "Traceback" not in output, output
        _, rows = _rows(database_url)
        assert [row.id for row in rows if row.status == "claimed"] == [], "claimed rows were not handed back"
        _catch_up_and_check(database_url, tmp_path, fake, acknowledged)
    finally:
        fake.stop()


def test_kill_9_at_any_moment_then_a_tick_sends_everything_once(database_url: str, tmp_path: Path) -> None:
    fake, acknowledged, _, _ = _interrupted_burst(database_url, tmp_path, signal.SIGKILL)
    try:
        assert len(acknowledged) >= BURST // 3
        _catch_up_and_check(database_url, tmp_path, fake, acknowledged)
    finally:
        fake.stop()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_a_deploy_stopping_an_idle_server_sees_a_clean_exit(tmp_path: Path, how: signal.Signals) -> None:
    """A stop asked for and carried out is a success (exit status 0), not a death by signal: an
    orchestrator or a process manager would report that as a crash."""
    with FakeSlack(team_id=TEAM) as fake:
        port = _free_port()
        env = _env(tmp_path, fake, f"sqlite:///{tmp_path / 'idle.db'}", PORT=str(port))
        process = _start(env, tmp_path, port)
        process.send_signal(how)
        output, _ = process.communicate(timeout=30)

    assert process.returncode == 0, output
    assert "stopped cleanly" in output and "Traceback" not in output, output
