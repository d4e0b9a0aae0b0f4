"""Once-only writes, the one way: INSERT ... ON CONFLICT, on SQLite and PostgreSQL alike.

"Look it up, insert, catch IntegrityError, look it up again" races and poisons the transaction; these
statements settle a conflict inside the database, so no IntegrityError reaches a service. They run as
Core statements on the session's connection (the ORM's bulk-insert path would only add work).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session


def _insert(session: Session, model: type[DeclarativeBase]) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def insert_once(
    session: Session, model: type[DeclarativeBase], *, keys: Sequence[str], values: Mapping[str, Any]
) -> int | None:
    """Inserts the row unless one with the same `keys` exists: its `id`, or None when it existed."""
    statement = (
        _insert(session, model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(keys))
        # RETURNING says whether a row went in; rowcount is not reliable for this on every driver.
        .returning(model.__table__.c.id)
    )
    inserted = session.connection().execute(statement).scalar()
    return int(inserted) if inserted is not None else None


def insert_ignored(
    session: Session, model: type[DeclarativeBase], *, keys: Sequence[str], values: Mapping[str, Any]
) -> None:
    """Inserts the row unless one with the same `keys` exists (a table without an `id`)."""
    session.execute(
        _insert(session, model).values(**values).on_conflict_do_nothing(index_elements=list(keys))
    )


def upsert(
    session: Session,
    model: type[DeclarativeBase],
    *,
    keys: Sequence[str],
    values: Mapping[str, Any],
    update: Sequence[str],
) -> None:
    """Inserts the row, or sets the `update` columns of the one with the same `keys`."""
    statement = _insert(session, model).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in update}
    )
    session.connection().execute(statement)


def conditional_upsert(
    session: Session,
    model: type[DeclarativeBase],
    *,
    keys: Sequence[str],
    values: Mapping[str, Any],
    set_: Mapping[str, Any],
    where: Any,
    returning: Any,
) -> Any | None:
    """Inserts the row, or applies `set_` to the existing one only where `where` holds: the returned
    column, or None when the existing row did not qualify. One statement, so a rule it checks holds
    under any concurrency (the row is locked while it is checked)."""
    statement = (
        _insert(session, model)
        .values(**values)
        .on_conflict_do_update(index_elements=list(keys), set_=dict(set_), where=where)
        .returning(returning)
    )
    return session.connection().execute(statement).scalar()
