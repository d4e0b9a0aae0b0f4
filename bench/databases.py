"""What the benchmarks share about databases and settings: a PostgreSQL database of a run's own, created
and dropped around it, and the settings an app under benchmark is built with."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import SecretStr
from sqlalchemy import create_engine, text

from bot.settings import Settings

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def bench_settings(database: str, slack_url: str) -> Settings:
    """An app on `database` that talks to the fake Slack at `slack_url`, whatever the environment says."""
    return Settings(
        SLACK_BOT_TOKEN=SecretStr("xoxb-bench"),
        SLACK_SIGNING_SECRET=SecretStr("bench"),
        SLACK_API_URL=slack_url,  # type: ignore[arg-type]
        DATABASE_URL=database,
        _env_file=None,  # type: ignore[call-arg]
    )


def postgres_answers() -> bool:
    try:
        engine = create_engine(PG_ADMIN, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception:
        return False
    return True


@contextmanager
def postgres_database() -> Iterator[str]:
    """The URL of an empty PostgreSQL database of this run's own on 127.0.0.1, dropped afterwards (even
    with connections still open to it)."""
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"extramile_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
