"""Shared fixtures: a database per test (SQLite, and PostgreSQL when it is there), the fake Slack, the
real app served over HTTP on loopback, a movable clock and a signed-request sender. And a check on the
whole run: no log line of any test may hold a token or a secret."""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.orm import Session

from bot import logs
from bot.app import ExtraMile, build_app
from bot.clock import FrozenClock
from bot.server import RunningServer
from bot.settings import Settings
from handlers.slack.fake_api import FakeSlack
from handlers.slack.signed_requests import SignedSender
from storage.db import create_db_engine, session_factory, upgrade

PAYLOADS = Path(__file__).parent / "payloads"
SIGNING_SECRET = "test-signing-secret"
CLIENT_SECRET = "test-client-secret"
TEAM = "T0001"
GIVER, ANA, BEN = "U0GIVER", "U0ANA", "U0BEN"
GENERAL = "C0GENERAL"
# A Wednesday afternoon in London.
START = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)

PG_ADMIN_URL = os.environ.get(
    "EXTRAMILE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# What no log line of the run may hold, besides anything shaped like a Slack token.
SECRETS = (SIGNING_SECRET, CLIENT_SECRET)
TOKEN_SHAPE = re.compile(r"(?:xox[a-z]|xapp)(?:\.xox[a-z])?-[A-Za-z0-9]")
LOG_CAPTURE = pytest.StashKey[tuple[logging.Handler, Path]]()


def leaked(lines: list[str], secrets: tuple[str, ...] = SECRETS) -> list[str]:
    """The lines that hold a token or one of `secrets`."""
    return [line for line in lines if TOKEN_SHAPE.search(line) or any(s in line for s in secrets)]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Every log line of the run, at the levels LOG_LEVEL=DEBUG gives, to a file through our JSON
    formatter. Not redacted: the check is on what our code and the library levels let through."""
    handle, name = tempfile.mkstemp(prefix="extramile-test-logs-", suffix=".jsonl")
    os.close(handle)
    handler = logging.FileHandler(name, encoding="utf-8")
    handler.setFormatter(logs.formatter("json"))
    logs.set_levels("DEBUG")
    logging.getLogger().addHandler(handler)
    session.config.stash[LOG_CAPTURE] = (handler, Path(name))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fails the run, showing them, when any log line holds a token or a secret."""
    handler, path = session.config.stash[LOG_CAPTURE]
    logging.getLogger().removeHandler(handler)
    handler.close()
    leaks = leaked(path.read_text(encoding="utf-8").splitlines())
    if not leaks:
        path.unlink()
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter is not None else print
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", "log lines holding a token or a secret", red=True)
    write(f"{len(leaks)} log line(s) of this run hold a token or a secret (every line: {path}):")
    for line in leaks[:20]:
        write(f"  {line}")
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def payload(name: str, **overrides: Any) -> dict[str, Any]:
    """A captured payload from tests/payloads/, with top-level fields replaced."""
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    data = copy.deepcopy(data)
    data.update(overrides)
    return data


def texts(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text a person reads in these blocks (sections, fields, context), in order."""
    parts: list[str] = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts += [field["text"] for field in block.get("fields", [])]
        if block["type"] == "context":
            parts += [
                element["text"]
                for element in block.get("elements", [])
                if isinstance(element.get("text"), str)
            ]
    return " ".join(parts)


def _postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:
        return f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {type(error).__name__}"


@contextmanager
def _scratch_postgres_database() -> Iterator[str]:
    """The URL of a new, empty database of its own, dropped at the end, so runs cannot collide."""
    reason = _postgres_available()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires the PostgreSQL suite to run")
        pytest.skip(reason)
    name = f"extramile_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A migrated database of its own for this test run."""
    with _scratch_postgres_database() as url:
        engine = create_db_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def empty_postgres_database() -> Iterator[str]:
    """A database of its own with no table yet, for this test alone."""
    with _scratch_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'extramile.db'}"
        engine = create_db_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("postgres_database")
    yield url
    engine = create_db_engine(url)
    with engine.begin() as connection:
        # Every table, slack_sdk's installation tables too, but not Alembic's.
        names = [name for name in inspect(connection).get_table_names() if name != "alembic_version"]
        tables = ", ".join(f'"{name}"' for name in names)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=TEAM) as fake:
        fake.add_user(GIVER, "gia", real_name="Gia Giver", tz="Europe/London")
        fake.add_user(ANA, "ana", real_name="Ana Ames", tz="America/New_York")
        fake.add_user(BEN, "ben", real_name="Ben Berg", tz="Asia/Tokyo")
        fake.add_channel(GENERAL, "general")
        yield fake


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@dataclass
class Harness:
    """The real app on loopback, its fake Slack, its clock, and helpers to talk to both."""

    app: ExtraMile
    fake: FakeSlack
    clock: FrozenClock
    sender: SignedSender
    url: str

    def command(
        self,
        text: str,
        *,
        user_id: str = GIVER,
        channel_id: str = GENERAL,
        trigger_id: str | None = None,
        name: str = "/kudos",
    ) -> Any:
        form = payload("slash_command", text=text, user_id=user_id, channel_id=channel_id, command=name)
        form["trigger_id"] = trigger_id or f"trigger-{uuid.uuid4().hex}"
        form["response_url"] = self.fake.response_url(f"{user_id}/{form['trigger_id']}")
        response = self.sender.command(form)
        assert response.status == 200, response.body
        self.settle()
        return _reply(response.body)

    def event(self, envelope: dict[str, Any], **kwargs: Any) -> None:
        response = self.sender.event(envelope, **kwargs)
        assert response.status == 200, response.body
        self.settle()

    def interaction(self, body: dict[str, Any]) -> Any:
        response = self.sender.interaction(body)
        assert response.status == 200, response.body
        self.settle()
        return response.json() if response.body.startswith("{") else None

    def settle(self) -> None:
        """Waits until every acknowledged request has finished its work."""
        assert self.app.workers.wait_idle(10), "request work still running after 10 s"

    def session(self) -> Session:
        return self.app.sessions()

    def responses(self, user_id: str = GIVER) -> list[dict[str, Any]]:
        """Private replies sent after the ack, through the response_url of `user_id`'s commands."""
        return [
            call.params
            for call in self.fake.calls_to("response_url")
            if call.params["tag"].startswith(user_id + "/")
        ]

    def posts(self, channel_id: str) -> list[dict[str, Any]]:
        return [
            call.params
            for call in self.fake.calls_to("chat.postMessage")
            if call.params.get("channel") == channel_id and call.ok
        ]

    def configure(self, **changes: Any) -> None:
        from bot.services.workspaces import WorkspaceSettings

        current = self.app.services.workspaces.get(TEAM)
        self.app.services.workspaces.save(
            WorkspaceSettings.model_validate({**current.model_dump(), **changes})
        )


def _reply(body: str) -> dict[str, Any] | None:
    """What the person who typed the command sees: nothing, plain text, or a message (ephemeral)."""
    if not body:
        return None
    if body.startswith("{"):
        data: dict[str, Any] = json.loads(body)
        return data
    return {"text": body}


def make_settings(database_url: str, slack_url: str) -> Settings:
    return Settings(
        SLACK_BOT_TOKEN=SecretStr("xoxb-test"),
        SLACK_SIGNING_SECRET=SecretStr(SIGNING_SECRET),
        SLACK_API_URL=slack_url,  # type: ignore[arg-type]
        DATABASE_URL=database_url,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def harness(database_url: str, fake_slack: FakeSlack, clock: FrozenClock) -> Iterator[Harness]:
    app = build_app(make_settings(database_url, fake_slack.url), clock=clock)
    server = RunningServer(app.web)
    try:
        yield Harness(
            app=app,
            fake=fake_slack,
            clock=clock,
            sender=SignedSender(server.url, SIGNING_SECRET),
            url=server.url,
        )
    finally:
        server.stop()
        app.workers.shutdown()
        app.engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> Any:
    return session_factory(engine)
