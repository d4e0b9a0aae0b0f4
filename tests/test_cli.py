"""The `extramile` command as a person runs it: settings errors, migrations, `run` against a fake Slack."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from handlers.slack.fake_api import FakeSlack
from handlers.slack.signed_requests import SignedSender
from storage.db import MIGRATIONS, create_db_engine, current_revisions, pending_migrations
from storage.models import Kudos, OutboxMessage
from tests.conftest import ANA, GENERAL, GIVER, SIGNING_SECRET, TEAM, payload

ROOT = Path(__file__).resolve().parent.parent


def extramile(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_", "DATABASE_", "PORT"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@pytest.mark.parametrize(
    ("extra", "named", "secret"),
    [
        ({"SLACK_SIGNING_SECRET": "s3cret-value"}, "SLACK_BOT_TOKEN is not set", "s3cret-value"),
        ({"SLACK_BOT_TOKEN": "xoxb-very-secret"}, "SLACK_SIGNING_SECRET is not set", "xoxb-very-secret"),
        (
            {"SLACK_BOT_TOKEN": "xoxp-user-token-secret", "SLACK_SIGNING_SECRET": "x"},
            "SLACK_BOT_TOKEN is malformed",
            "xoxp-user-token-secret",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "x", "PORT": "eighty"},
            "PORT is malformed",
            "xoxb-1",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "x", "DATABASE_URL": "extramile.db"},
            "DATABASE_URL is malformed",
            "xoxb-1",
        ),
    ],
)
def test_a_missing_or_malformed_setting_stops_run_with_one_line(
    tmp_path: Path, extra: dict[str, str], named: str, secret: str
) -> None:
    result = extramile("run", env=clean_env(tmp_path, **extra), cwd=tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in result.stderr
    assert "set it to" in lines[0]
    assert secret not in result.stderr


def _head() -> str:
    [head] = ScriptDirectory(str(MIGRATIONS)).get_heads()
    return head


def test_db_upgrade_creates_every_table_and_says_so_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = clean_env(tmp_path, DATABASE_URL=url)

    result = extramile("db", "upgrade", env=env, cwd=tmp_path)
    again = extramile("db", "upgrade", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    # One line, and no library chatter (Alembic's plugin and migration lines are INFO).
    assert (result.stdout, result.stderr) == (f"extramile: database upgraded to {_head()}\n", "")
    assert (again.stdout, again.stderr) == (f"extramile: database is already at {_head()}\n", "")
    engine = create_db_engine(url)
    assert {"kudos", "kudos_recipient", "kudos_value", "person", "workspace"} <= set(
        inspect(engine).get_table_names()
    )
    assert pending_migrations(engine) == []
    engine.dispose()


@pytest.mark.postgres
def test_three_replicas_upgrading_at_once_migrate_once(empty_postgres_database: str, tmp_path: Path) -> None:
    """Every replica runs `db upgrade` at start: one migrates under the advisory lock, the others wait
    for it and find nothing to do."""
    env = clean_env(tmp_path, DATABASE_URL=empty_postgres_database)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "db", "upgrade"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(*process.communicate(timeout=120), process.returncode) for process in processes]

    assert [code for _, _, code in results] == [0, 0, 0], results
    assert [err for _, err, _ in results] == ["", "", ""]
    assert sorted(out for out, _, _ in results) == [
        f"extramile: database is already at {_head()}\n",
        f"extramile: database is already at {_head()}\n",
        f"extramile: database upgraded to {_head()}\n",
    ]
    engine = create_db_engine(empty_postgres_database)
    assert current_revisions(engine) == (_head(),)
    engine.dispose()


def test_workspace_settings_from_the_command_line(tmp_path: Path) -> None:
    env = clean_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'ws.db'}")

    ok = extramile(
        "workspace",
        TEAM,
        "--kudos-channel",
        "C0KUDOS",
        "--values",
        "ownership, #craft",
        "--allowance",
        "3",
        env=env,
        cwd=tmp_path,
    )
    switches = extramile(
        "workspace",
        TEAM,
        "--spot-promises",
        "on",
        "--question-nudges",
        "on",
        "--question-wait-hours",
        "6",
        "--question-daily-cap",
        "2",
        env=env,
        cwd=tmp_path,
    )
    too_many = extramile("workspace", TEAM, "--question-daily-cap", "50", env=env, cwd=tmp_path)
    bad = extramile("workspace", TEAM, "--allowance", "-1", env=env, cwd=tmp_path)
    not_a_channel = extramile("workspace", TEAM, "--kudos-channel", "C" + "1" * 40, env=env, cwd=tmp_path)
    shown = extramile("workspace", TEAM, env=env, cwd=tmp_path)

    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == "" and shown.stderr == ""
    assert bad.returncode == 2 and "daily_allowance" in bad.stderr and "Traceback" not in bad.stderr
    assert not_a_channel.returncode == 2 and "kudos_channel_id" in not_a_channel.stderr
    assert "Traceback" not in not_a_channel.stderr
    assert "kudos_channel_id: C0KUDOS" in shown.stdout
    assert "kudos_values: ('ownership', 'craft')" in shown.stdout
    assert "daily_allowance: 3" in shown.stdout
    assert switches.returncode == 0, switches.stderr
    assert too_many.returncode == 2 and "question_daily_cap" in too_many.stderr
    for line in (
        "spot_promises: True",
        "question_nudges: True",
        "question_wait_hours: 6",
        "question_daily_cap: 2",
    ):
        assert line in shown.stdout


def test_manifest_prints_yaml(tmp_path: Path) -> None:
    result = extramile(
        "manifest", "--url", "https://bot.example.org/slack/events", env=clean_env(tmp_path), cwd=tmp_path
    )

    assert result.returncode == 0 and result.stderr == ""
    assert "command: /kudos" in result.stdout and "https://bot.example.org/slack/events" in result.stdout


def test_outbox_lists_rows_and_nothing_else(tmp_path: Path) -> None:
    env = clean_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'outbox.db'}")

    result = extramile("outbox", env=env, cwd=tmp_path)

    assert (result.returncode, result.stdout, result.stderr) == (0, "extramile: 0 row(s)\n", "")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(process: subprocess.Popen[str], base: str) -> None:
    """Until `extramile run` answers /healthz (failing with its output if it exits first)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                assert response.status == 200
                return
        except OSError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "extramile run did not come up"
            time.sleep(0.1)


def test_run_serves_slack_and_healthz(tmp_path: Path) -> None:
    database = tmp_path / "run.db"
    port = _free_port()
    with FakeSlack(team_id=TEAM) as fake:
        fake.add_user(GIVER, "gia")
        fake.add_user(ANA, "ana", tz="America/New_York")
        fake.add_channel(GENERAL, "general")
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-run-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake.url,
            DATABASE_URL=f"sqlite:///{database}",
            PORT=str(port),
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(process, base)

            form = payload("slash_command", text="<@U0ANA|ana> thanks for the fix")
            response = SignedSender(base, SIGNING_SECRET).command(form)

            assert response.status == 200
            deadline = time.monotonic() + 10
            while not fake.calls_to("chat.postMessage") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [call.params["channel"] for call in fake.calls_to("chat.postMessage") if call.ok][:1] == [
                GENERAL
            ]
            assert all(call.token == "xoxb-run-test" for call in fake.calls)
        finally:
            process.terminate()
            output, _ = process.communicate(timeout=10)
    # At the default LOG_LEVEL, our own lines only: no library chatter, no warning from Bolt.
    messages = [line.split(" ", 3)[3] for line in output.splitlines()]
    assert messages[:1] == [f"bot.cli: serving Slack (POST /slack/events) on port {port}"], output
    assert all(message.startswith("bot.") for message in messages), output
    assert "xoxb-run-test" not in output and SIGNING_SECRET not in output
    engine = create_db_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        assert connection.execute(select(Kudos.giver_id, Kudos.status)).all() == [(GIVER, "posted")]
        # Ana's DM waits for her working hours (the real clock decides which): sent, or queued for then.
        [(post_status,), (dm_status,)] = connection.execute(
            select(OutboxMessage.status)
            .where(OutboxMessage.kind.in_(("kudos.post", "kudos.dm")))
            .order_by(OutboxMessage.id)
        ).all()
        assert post_status == "sent"
        status = dm_status
        assert status in ("sent", "pending")
        assert (status == "sent") == any(
            call.params["channel"] == ANA and call.ok for call in fake.calls_to("chat.postMessage")
        )
    engine.dispose()


def gia_promised_ana_the_deck(
    tmp_path: Path, fake: FakeSlack, *, away_until: date | None = None
) -> dict[str, str]:
    """On Wednesday 18 November, Gia (London) promised Ana (New York) the deck by Friday 15:00 (Gia away
    until `away_until`). The environment `extramile` then runs in, on the same database."""
    from bot.app import build_app
    from bot.clock import FrozenClock
    from bot.services.people import Preferences
    from bot.services.promises import PromiseRequest
    from storage.db import upgrade
    from tests.conftest import make_settings

    database = f"sqlite:///{tmp_path / 'tick.db'}"
    fake.add_user(GIVER, "gia", tz="Europe/London")
    fake.add_user(ANA, "ana", tz="America/New_York")
    engine = create_db_engine(database)
    upgrade(engine)
    app = build_app(
        make_settings(database, fake.url),
        clock=FrozenClock(datetime(2026, 11, 18, 15, tzinfo=UTC)),
        engine=engine,
    )
    if away_until is not None:
        app.services.people.save_preferences(TEAM, GIVER, Preferences(away_until=away_until))
    app.services.promises.make(
        PromiseRequest(
            team_id=TEAM,
            promiser_id=GIVER,
            dedupe_key="cli",
            promisee_ids=(ANA,),
            text="the deck by Friday 3pm",
        )
    )
    app.workers.shutdown()
    engine.dispose()
    fake.clear_calls()
    return clean_env(
        tmp_path,
        DATABASE_URL=database,
        SLACK_BOT_TOKEN="xoxb-cli",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=fake.url,
    )


def test_tick_previews_then_delivers_as_of_an_instant(tmp_path: Path) -> None:
    with FakeSlack(team_id=TEAM) as fake:
        env = gia_promised_ana_the_deck(tmp_path, fake)

        preview = extramile("tick", "--at", "2026-11-20T14:00:00Z", "--dry-run", env=env, cwd=tmp_path)
        assert preview.returncode == 0, preview.stderr
        assert preview.stderr == ""
        assert "would send 2 (dry run: nothing changed)" in preview.stdout
        assert "U0ANA" in preview.stdout and "will get back to you about *the deck*" in preview.stdout
        assert "Coming up: <@U0ANA> is waiting on *the deck* (due Fri 20 Nov 15:00)." in preview.stdout
        assert fake.calls_to("chat.postMessage") == []

        # 14:00 in London, 09:00 in New York: both in their working hours.
        done = extramile("tick", "--at", "2026-11-20T14:00:00+00:00", env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.endswith("extramile: planned 0, sent 2, rescheduled 0, dead 0, cancelled 0\n")
        assert done.stderr == ""
        assert sorted(call.params["channel"] for call in fake.calls_to("chat.postMessage")) == [ANA, GIVER]
        assert all(call.token == "xoxb-cli" for call in fake.calls)

        again = extramile("tick", "--at", "2026-11-20T14:00:00+00:00", env=env, cwd=tmp_path)
        assert "sent 0" in again.stdout and len(fake.calls_to("chat.postMessage")) == 2

        bad = extramile("tick", "--at", "next friday", env=env, cwd=tmp_path)
        assert bad.returncode == 2 and "not an ISO 8601 time" in bad.stderr


def test_tick_at_an_instant_reads_absences_as_of_that_instant_not_the_wall_clock(tmp_path: Path) -> None:
    with FakeSlack(team_id=TEAM) as fake:
        # Gia is away until Friday 20 November: long over by the wall clock, not on the 20th itself.
        env = gia_promised_ana_the_deck(tmp_path, fake, away_until=date(2026, 11, 20))

        # 14:00 in London, 09:00 in New York.
        done = extramile("tick", "--at", "2026-11-20T14:00:00Z", env=env, cwd=tmp_path)

        assert done.returncode == 0, done.stderr
        assert done.stdout.endswith("extramile: planned 0, sent 1, rescheduled 1, dead 0, cancelled 0\n")
        # Ana hears her promise was heard; Gia's heads-up waits for her return.
        assert [call.params["channel"] for call in fake.calls_to("chat.postMessage")] == [ANA]


def test_the_scheduler_is_a_clock_with_two_fixed_jobs(tmp_path: Path) -> None:
    from slack_sdk import WebClient

    from bot.clock import SystemClock
    from bot.scheduler import build_scheduler
    from bot.services.delivery import DeliveryService
    from handlers.slack.clients import OneWorkspace
    from handlers.slack.outbox import SlackOutboxSender
    from storage.db import session_factory

    engine = create_db_engine(f"sqlite:///{tmp_path / 's.db'}")
    delivery = DeliveryService(
        sessions=session_factory(engine),
        clock=SystemClock(),
        sender=SlackOutboxSender(OneWorkspace(WebClient())),
    )
    scheduler = build_scheduler(delivery)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"plan", "deliver"}
        # Each wrapped so a database hiccup skips one pass with a warning instead of a traceback.
        assert jobs["plan"].func.__wrapped__ == delivery.plan
        assert jobs["deliver"].func.__wrapped__ == delivery.deliver_due
        assert {(job.coalesce, job.max_instances) for job in jobs.values()} == {(True, 1)}
        assert (
            jobs["plan"].trigger.interval.total_seconds(),
            jobs["deliver"].trigger.interval.total_seconds(),
        ) == (60, 10)
    finally:
        scheduler.shutdown(wait=False)
        engine.dispose()


def test_the_demo_plays_the_whole_scene(tmp_path: Path) -> None:
    result = extramile("demo", env=clean_env(tmp_path), cwd=tmp_path, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    for line in (
        "#general: 👏 @gia gave kudos to @ana",
        "(ben's DM waits for 09:00 in Tokyo, the start of their day)",
        "the kudos post is removed from the channel",
        "Type `/invite @ExtraMile` in that channel",
        "ana's DMs: 🤝 @gia will get back to you about *send the pricing deck* by Fri 20 Nov 10:00 (your time).",
        "gia's DMs: ⏰ Coming up: @ana is waiting on *send the pricing deck*",
        "gia's message becomes: ✅ Done: *send the pricing deck*. @ana has been told.",
        "ana's DMs: ✅ @gia got back to you about *send the pricing deck*: done, on time. · [Say thanks]",
        "#say-hello: 👋 Please welcome @nora, who just joined! Say hi, or send a wave. · [Wave 👋]",
        "nora's DMs: @ana waved at you 👋",
        "#celebrations: 🎂 Happy birthday, @ben! (for Sunday, 14 March)",
        # A promise written in a thread, offered privately to its author, tracked in one click.
        "cal sees (only visible to you): 🤝 Track this as a promise to @ana, due Mon 23 Nov 12:00?",
        "ana's DMs: 🤝 @cal will get back to you about *dig into it* by Mon 23 Nov 06:00 (your time).",
        # Teams, beside Slack in the same process: the kudos card in the channel, then Priya's DM.
        "#launch (a card): 👏 Tomás Silva gave kudos to Priya Raman · thanks for the demo · #teamwork",
        "Priya's chat with ExtraMile (a card): ✨ Tomás Silva gave you kudos · thanks for the demo",
    ):
        assert line in out, line
    assert not list(tmp_path.glob("*.db"))  # the demo leaves nothing behind


def test_people_settings_from_the_command_line(tmp_path: Path) -> None:
    env = clean_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'ws.db'}")

    ok = extramile(
        "workspace",
        TEAM,
        "--welcome-channel",
        "C0HELLO",
        "--welcome-text",
        "Hi {name}!",
        "--channel-welcome",
        "C0ENG=Welcome to {channel}, {mention}",
        "--celebrations-channel",
        "C0PARTY",
        "--weekend-rule",
        "monday",
        env=env,
        cwd=tmp_path,
    )
    bad_text = extramile("workspace", TEAM, "--welcome-text", "Hi {firstname}!", env=env, cwd=tmp_path)
    bad_hour = extramile("workspace", TEAM, "--celebration-hour", "3", env=env, cwd=tmp_path)
    shown = extramile("workspace", TEAM, "--channel-welcome", "C0ENG=", env=env, cwd=tmp_path)

    assert ok.returncode == 0, ok.stderr
    assert "channel_welcomes: {'C0ENG': 'Welcome to {channel}, {mention}'}" in ok.stdout
    assert bad_text.returncode == 2 and "unknown placeholder(s): {firstname}" in bad_text.stderr
    assert bad_hour.returncode == 2 and "celebration_hour" in bad_hour.stderr
    assert "welcome_channel_id: C0HELLO" in shown.stdout and "weekend_rule: monday" in shown.stdout
    assert "channel_welcomes: {}" in shown.stdout and "welcome_text: Hi {name}!" in shown.stdout


def test_a_dry_run_needs_no_slack_credentials(tmp_path: Path) -> None:
    result = extramile(
        "tick", "--at", "2026-11-20T13:00:00Z", "--dry-run", env=clean_env(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("extramile: would send 0 (dry run: nothing changed)")
    assert result.stderr == ""


def test_oauth_mode_and_a_bot_token_together_are_refused(tmp_path: Path) -> None:
    env = clean_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-one",
        SLACK_CLIENT_ID="1.2",
        SLACK_CLIENT_SECRET="client-secret-value",
        SLACK_SIGNING_SECRET="s",
    )
    result = extramile("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are both set" in result.stderr
    assert "client-secret-value" not in result.stderr + result.stdout
