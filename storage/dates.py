"""Shared dates (birthdays without a year, start dates). Filtered by team except the planner's scan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from storage.models import Person, PersonDates
from storage.upserts import upsert


def get(session: Session, *, team_id: str, user_id: str) -> PersonDates | None:
    return session.get(PersonDates, (team_id, user_id))


def set_birthday(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    month: int | None,
    day: int | None,
    source: str,
    at: datetime,
) -> None:
    _set(
        session,
        team_id,
        user_id,
        {"birthday_month": month, "birthday_day": day, "source": source, "updated_at": at},
    )


def set_start_date(
    session: Session, *, team_id: str, user_id: str, start: date | None, source: str, at: datetime
) -> None:
    _set(session, team_id, user_id, {"start_date": start, "source": source, "updated_at": at})


def _set(session: Session, team_id: str, user_id: str, values: dict[str, Any]) -> None:
    """One statement, so two saves at once both land (the later wins); a row left with no date goes."""
    upsert(
        session,
        PersonDates,
        keys=("team_id", "user_id"),
        values={"team_id": team_id, "user_id": user_id, **values},
        update=list(values),
    )
    session.execute(
        delete(PersonDates).where(
            PersonDates.team_id == team_id,
            PersonDates.user_id == user_id,
            PersonDates.birthday_month.is_(None),
            PersonDates.start_date.is_(None),
        )
    )


def forget(session: Session, *, team_id: str, user_id: str) -> None:
    session.execute(delete(PersonDates).where(PersonDates.team_id == team_id, PersonDates.user_id == user_id))


def in_team(session: Session, *, team_id: str) -> list[PersonDates]:
    return list(session.scalars(select(PersonDates).where(PersonDates.team_id == team_id)))


def everyone_active(session: Session, *, after: tuple[str, str], limit: int) -> list[tuple[PersonDates, str]]:
    """Every workspace's shared dates with the person's cached zone, deactivated people left out, a
    page at a time: rows after the (team id, user id) `after`."""
    team_id, user_id = after
    rows = session.execute(
        select(PersonDates, Person.tz)
        .outerjoin(Person, (Person.team_id == PersonDates.team_id) & (Person.user_id == PersonDates.user_id))
        .where((Person.is_deleted.is_(None)) | (Person.is_deleted.is_(False)))
        .where(tuple_(PersonDates.team_id, PersonDates.user_id) > tuple_(team_id, user_id))
        .order_by(PersonDates.team_id, PersonDates.user_id)
        .limit(limit)
    ).all()
    return [(dates, tz or "UTC") for dates, tz in rows]


def active_in_team(session: Session, *, team_id: str) -> list[tuple[PersonDates, str]]:
    """One workspace's shared dates with the person's cached zone, deactivated people left out."""
    rows = session.execute(
        select(PersonDates, Person.tz)
        .outerjoin(Person, (Person.team_id == PersonDates.team_id) & (Person.user_id == PersonDates.user_id))
        .where(PersonDates.team_id == team_id)
        .where((Person.is_deleted.is_(None)) | (Person.is_deleted.is_(False)))
    ).all()
    return [(dates, tz or "UTC") for dates, tz in rows]
