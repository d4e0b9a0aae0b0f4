"""Shared dates (birthdays without a year, start dates). Filtered by team except the planner's scan."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
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


def celebrated_between(session: Session, *, first: date, last: date) -> list[tuple[PersonDates, str]]:
    """Every workspace's shared dates whose birthday or anniversary may fall on a day in [first, last]
    (any year; a few more, never fewer: the caller picks the celebrations out), with the person's cached
    zone, deactivated people left out. The birthday and start date indexes keep this to those few days'
    people, so it is read in one go: no order or paging that would walk the primary key instead."""
    rows = session.execute(
        select(PersonDates, Person.tz)
        .outerjoin(Person, (Person.team_id == PersonDates.team_id) & (Person.user_id == PersonDates.user_id))
        .where(or_(*_birthdays_between(first, last), *_anniversaries_between(session, first, last)))
        .where((Person.is_deleted.is_(None)) | (Person.is_deleted.is_(False)))
    ).all()
    return [(dates, tz or "UTC") for dates, tz in rows]


def _birthdays_between(first: date, last: date) -> list[ColumnElement[bool]]:
    days = {(day.month, day.day) for day in _days(first, last)}
    if (2, 28) in days:
        days.add((2, 29))  # celebrated on the 28th in years without one
    return [
        and_(PersonDates.birthday_month == month, PersonDates.birthday_day == day)
        for month, day in sorted(days)
    ]


def _anniversaries_between(session: Session, first: date, last: date) -> list[ColumnElement[bool]]:
    """A start date on the same days of any year since the earliest one: one range per year, a day
    wider on each side (leap days shift a day of the year by one)."""
    earliest = session.scalar(select(func.min(PersonDates.start_date)))
    if earliest is None:
        return []
    offset = first - date(first.year, 1, 1)
    span = last - first
    ranges: list[ColumnElement[bool]] = []
    for year in range(earliest.year, last.year + 1):
        start = date(year, 1, 1) + offset - timedelta(days=1)
        ranges.append(PersonDates.start_date.between(start, start + span + timedelta(days=2)))
    return ranges


def _days(first: date, last: date) -> list[date]:
    # A window of a few days: at most a year's worth of distinct (month, day) pairs.
    count = min((last - first).days, 366) + 1
    return [first + timedelta(days=n) for n in range(count)]


def active_in_team(session: Session, *, team_id: str) -> list[tuple[PersonDates, str]]:
    """One workspace's shared dates with the person's cached zone, deactivated people left out."""
    rows = session.execute(
        select(PersonDates, Person.tz)
        .outerjoin(Person, (Person.team_id == PersonDates.team_id) & (Person.user_id == PersonDates.user_id))
        .where(PersonDates.team_id == team_id)
        .where((Person.is_deleted.is_(None)) | (Person.is_deleted.is_(False)))
    ).all()
    return [(dates, tz or "UTC") for dates, tz in rows]
