"""Leases: one holder at a time per key, across processes and replicas. None commits.

A lease is taken by a conditional UPDATE, which PostgreSQL and SQLite both settle inside the
database: two processes asking at once cannot both see rowcount 1.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from storage.models import Lease
from storage.upserts import insert_ignored


def take(session: Session, *, key: str, holder: str, now: datetime, until: datetime) -> bool:
    """Whether `holder` now holds `key` until `until` (it was free, had run out, or was theirs)."""
    insert_ignored(session, Lease, keys=["key"], values={"key": key, "holder": None, "held_until": None})
    result = session.execute(
        update(Lease)
        .where(
            Lease.key == key,
            or_(Lease.holder.is_(None), Lease.held_until < now, Lease.holder == holder),
        )
        .values(holder=holder, held_until=until)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def give_back(session: Session, *, key: str, holder: str) -> None:
    session.execute(
        update(Lease).where(Lease.key == key, Lease.holder == holder).values(holder=None, held_until=None)
    )
