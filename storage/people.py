"""The cache of chat users (timezone, bot, deactivated)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage import upserts
from storage.models import Person, PersonSettings


def get(session: Session, *, team_id: str, user_id: str) -> Person | None:
    return session.get(Person, (team_id, user_id))


def upsert(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    display_name: str,
    tz: str,
    is_bot: bool,
    is_deleted: bool,
    is_guest: bool,
    is_admin: bool = False,
    refreshed_at: datetime,
) -> None:
    values = {
        "team_id": team_id,
        "user_id": user_id,
        "display_name": display_name,
        "tz": tz,
        "is_bot": is_bot,
        "is_deleted": is_deleted,
        "is_guest": is_guest,
        "is_admin": is_admin,
        "refreshed_at": refreshed_at,
    }
    upserts.upsert(session, Person, keys=("team_id", "user_id"), values=values, update=list(values)[2:])


def forget(session: Session, *, team_id: str, user_id: str) -> None:
    session.execute(delete(Person).where(Person.team_id == team_id, Person.user_id == user_id))


def settings(session: Session, *, team_id: str, user_id: str) -> PersonSettings | None:
    return session.get(PersonSettings, (team_id, user_id))


def save_settings(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    work_days: list[int],
    work_start: time,
    work_end: time,
    away_until: date | None,
    digest: bool,
    promise_offers: bool,
    at: datetime,
) -> None:
    values = {
        "team_id": team_id,
        "user_id": user_id,
        "work_days": work_days,
        "work_start": work_start,
        "work_end": work_end,
        "away_until": away_until,
        "digest": digest,
        "promise_offers": promise_offers,
        "updated_at": at,
    }
    upserts.upsert(
        session, PersonSettings, keys=("team_id", "user_id"), values=values, update=list(values)[2:]
    )


def forget_settings(session: Session, *, team_id: str, user_id: str) -> None:
    session.execute(
        delete(PersonSettings).where(PersonSettings.team_id == team_id, PersonSettings.user_id == user_id)
    )


def names(session: Session, *, team_id: str, user_ids: set[str]) -> dict[str, str]:
    """Display names from the cache, for the people it knows."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(Person.user_id, Person.display_name).where(
            Person.team_id == team_id, Person.user_id.in_(user_ids)
        )
    )
    return {user_id: name for user_id, name in rows}
