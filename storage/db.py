"""Engine, sessions and migrations. One session per unit of work: `with unit_of_work(factory) as session`."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"

SessionFactory = sessionmaker[Session]

# The PostgreSQL advisory lock every `db upgrade` takes first, so replicas starting together migrate
# one at a time ("ExtraMil" in ASCII: any fixed bigint would do).
MIGRATION_LOCK = 0x45787472614D696C


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here: it is the driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_db_engine(url: str) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        # Every in-flight request may hold a connection for a moment: a small pool would queue acks.
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=32,
            max_overflow=96,
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        _writers_take_turns(engine)
        return engine
    # hide_parameters: a database error's message would otherwise quote the statement's values (message
    # texts, tokens) into every traceback that is logged.
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=40, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; busy_timeout makes writers queue instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# Statements that make SQLite take its single write lock (pysqlite begins the transaction at the first).
_WRITES = re.compile(
    r"^\s*(?:INSERT|UPDATE|DELETE|REPLACE|CREATE|ALTER|DROP|BEGIN\s+(?:IMMEDIATE|EXCLUSIVE))\b", re.I
)
_WRITING = "extramile_writing"


def _writers_take_turns(engine: Engine) -> None:
    """Threads of one process write to SQLite in turn, handed over the moment a transaction ends.

    SQLite has one writer at a time; a connection that finds the lock taken polls with sleeps that grow
    to 100 ms, so under a burst some requests would wait seconds for a lock free most of the time.
    The turn is taken before a transaction's first write and given back when its connection returns to
    the pool (a unit of work returns it right after its commit); reads never wait.
    Other processes (a `tick` from the command line) still meet SQLite's own lock and busy timeout."""
    turn = threading.Lock()

    def take(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not connection.info.get(_WRITING) and _WRITES.match(statement):
            if not turn.acquire(timeout=30):
                return  # something held it too long: fall back on SQLite's own waiting
            connection.info[_WRITING] = True

    def give_back(info: dict[str, Any]) -> None:
        if info.pop(_WRITING, False):
            turn.release()

    def checked_in(dbapi_connection: Any, connection_record: Any) -> None:
        give_back(connection_record.info)

    def invalidated(dbapi_connection: Any, connection_record: Any, exception: Any) -> None:
        give_back(connection_record.info)

    event.listen(engine, "before_cursor_execute", take)
    # Given back when the connection goes back to the pool: by then its commit or rollback has run
    # (the engine's own commit and rollback events fire before it does). A connection dropped
    # mid-transaction gives it back too.
    event.listen(engine.pool, "checkin", checked_in)
    event.listen(engine.pool, "invalidate", invalidated)


def session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: SessionFactory) -> Iterator[Session]:
    """Commits once at the end, or rolls back everything on an exception."""
    with factory() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@dataclass(frozen=True)
class Upgrade:
    """The revisions the database was at before and after an upgrade."""

    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return set(self.before) != set(self.after)


def upgrade(engine: Engine, revision: str = "head") -> Upgrade:
    """Applies the migrations up to `revision`. On PostgreSQL, under an advisory lock: when every replica
    runs this at start, one migrates and the others wait, then find nothing to do."""
    with _migration_lock(engine):
        before = current_revisions(engine)
        command.upgrade(alembic_config(engine), revision)
        return Upgrade(before=before, after=current_revisions(engine))


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name != "postgresql":
        yield  # SQLite: one file, and its own write lock
        return
    # A session-level lock on a connection of its own, in autocommit so it holds no transaction open
    # while the migrations run on another connection.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(select(func.pg_advisory_lock(MIGRATION_LOCK)))
        try:
            yield
        finally:
            connection.execute(select(func.pg_advisory_unlock(MIGRATION_LOCK)))


def current_revisions(engine: Engine) -> tuple[str, ...]:
    """The revisions this database is at (empty before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


def ping(engine: Engine) -> None:
    """Raises unless the database answers."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def pending_migrations(engine: Engine) -> list[str]:
    """The heads this database has not reached yet (empty when it is up to date)."""
    return list(migration_status(engine).pending)


@dataclass(frozen=True)
class MigrationStatus:
    # The revisions the database is at (none before its first upgrade).
    current: tuple[str, ...]
    # The code's heads the database has not reached.
    pending: tuple[str, ...]
    # Revisions the database is at that this code does not know: a newer release migrated it.
    unknown: tuple[str, ...]


def migration_status(engine: Engine) -> MigrationStatus:
    """Where the database stands against this code's migrations: one small query (readiness probes)."""
    from alembic.runtime.migration import MigrationContext

    heads, known = _code_revisions()
    with engine.connect() as connection:
        current = tuple(MigrationContext.configure(connection).get_current_heads())
    return MigrationStatus(
        current=current,
        pending=tuple(head for head in heads if head not in current),
        unknown=tuple(revision for revision in current if revision not in known),
    )


@functools.cache
def _code_revisions() -> tuple[tuple[str, ...], frozenset[str]]:
    """The code's heads and every revision it knows: read from disk once, they cannot change while
    the process runs."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return tuple(script.get_heads()), frozenset(revision.revision for revision in script.walk_revisions())
