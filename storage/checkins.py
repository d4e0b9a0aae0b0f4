"""Check-in queries. Every one filters by team_id except the planner's scan; none commits."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Date, Integer, String, case, cast, func, literal, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from storage.models import Checkin, CheckinCompletion
from storage.upserts import insert_ignored, insert_once

ACTIVE = "active"
STOPPED = "stopped"
FORGOTTEN = "forgotten"


def find_by_key(session: Session, *, team_id: str, dedupe_key: str) -> Checkin | None:
    return session.scalars(
        select(Checkin).where(Checkin.team_id == team_id, Checkin.dedupe_key == dedupe_key)
    ).one_or_none()


def get(session: Session, *, team_id: str, checkin_id: int) -> Checkin | None:
    return session.scalars(
        select(Checkin).where(Checkin.team_id == team_id, Checkin.id == checkin_id)
    ).one_or_none()


def insert(
    session: Session,
    *,
    team_id: str,
    dedupe_key: str,
    requester_id: str,
    contact_user_id: str | None,
    contact_name: str | None,
    every_count: int,
    every_unit: str,
    note: str | None,
    start_date: date,
    local_time: time,
    created_at: datetime,
) -> Checkin | None:
    """The new check-in; None when the key is taken (a redelivery)."""
    checkin_id = insert_once(
        session,
        Checkin,
        keys=("team_id", "dedupe_key"),
        values={
            "team_id": team_id,
            "dedupe_key": dedupe_key,
            "requester_id": requester_id,
            "contact_user_id": contact_user_id,
            "contact_name": contact_name,
            "every_count": every_count,
            "every_unit": every_unit,
            "note": note,
            "start_date": start_date,
            "local_time": local_time,
            "next_occurrence": 1,
            "status": ACTIVE,
            "created_at": created_at,
        },
    )
    return None if checkin_id is None else get(session, team_id=team_id, checkin_id=checkin_id)


def active_for(session: Session, *, team_id: str, requester_id: str) -> list[Checkin]:
    return list(
        session.scalars(
            select(Checkin)
            .where(Checkin.team_id == team_id, Checkin.requester_id == requester_id, Checkin.status == ACTIVE)
            .order_by(Checkin.id)
        )
    )


def active_due_by(session: Session, *, day: date, after_id: int, limit: int) -> list[Checkin]:
    """For the planner: active check-ins in every workspace (each row carries its team_id) whose next
    occurrence may fall on or before `day`, a page at a time (ids above `after_id`). The bound errs
    early, never late: a month counts as 28 days, and moving to working hours only makes it later."""
    fewest_days = case((Checkin.every_unit == "day", 1), (Checkin.every_unit == "week", 7), else_=28)
    return list(
        session.scalars(
            select(Checkin)
            .where(
                Checkin.status == ACTIVE,
                Checkin.id > after_id,
                _DaysUntil(Checkin.start_date, literal(day, Date))
                >= (Checkin.next_occurrence - 1) * Checkin.every_count * fewest_days,
            )
            .order_by(Checkin.id)
            .limit(limit)
        )
    )


class _DaysUntil(FunctionElement[int]):
    """Whole days from a date column to a later date, in SQL (date arithmetic differs by database):
    so the planner reads only the check-ins that may be due, not every active one."""

    type = Integer()
    inherit_cache = True
    name = "days_until"


@compiles(_DaysUntil, "sqlite")
def _days_until_on_sqlite(element: _DaysUntil, compiler: SQLCompiler, **kw: Any) -> str:
    start, day = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(julianday({day}) - julianday({start}) AS INTEGER)"


@compiles(_DaysUntil, "postgresql")
def _days_until_on_postgresql(element: _DaysUntil, compiler: SQLCompiler, **kw: Any) -> str:
    start, day = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({day} - {start})"


def advance(
    session: Session, *, team_id: str, checkin_id: int, from_occurrence: int, to_occurrence: int
) -> bool:
    result = session.execute(
        update(Checkin)
        .where(
            Checkin.team_id == team_id, Checkin.id == checkin_id, Checkin.next_occurrence == from_occurrence
        )
        .values(next_occurrence=to_occurrence)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def stop(session: Session, *, team_id: str, checkin_id: int) -> bool:
    result = session.execute(
        update(Checkin)
        .where(Checkin.team_id == team_id, Checkin.id == checkin_id, Checkin.status == ACTIVE)
        .values(status=STOPPED)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_done(
    session: Session, *, team_id: str, checkin_id: int, requester_id: str | None, at: datetime, token: str
) -> None:
    """Records one completion (once per `token`) and when it was last done."""
    insert_ignored(
        session,
        CheckinCompletion,
        keys=("team_id", "checkin_id", "token"),
        values={
            "team_id": team_id,
            "checkin_id": checkin_id,
            "requester_id": requester_id,
            "token": token[:64],
            "done_at": at,
        },
    )
    session.execute(
        update(Checkin).where(Checkin.team_id == team_id, Checkin.id == checkin_id).values(last_done_at=at)
    )


def forget_requester(session: Session, *, team_id: str, user_id: str) -> int:
    """Everything personal in their check-ins is erased. The rows stay as empty shells, so their ids
    (which name outbox messages) are never handed to a new check-in."""
    session.execute(
        update(CheckinCompletion)
        .where(CheckinCompletion.team_id == team_id, CheckinCompletion.requester_id == user_id)
        .values(requester_id=None)
    )
    result = session.execute(
        update(Checkin)
        .where(Checkin.team_id == team_id, Checkin.requester_id == user_id)
        .values(
            status=FORGOTTEN,
            requester_id=None,
            contact_user_id=None,
            contact_name=None,
            note=None,
            dedupe_key=func.substr(Checkin.dedupe_key, 1, 200, type_=String)
            + "#forgotten:"
            + cast(Checkin.id, String),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
