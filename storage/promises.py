"""Promise queries. Every one filters by team_id except the cross-workspace planner scan; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session, selectinload

from storage.models import Promise, PromisePromisee
from storage.upserts import insert_once

OPEN = "open"
DONE = "done"
CANCELLED = "cancelled"


def find_by_key(session: Session, *, team_id: str, dedupe_key: str) -> Promise | None:
    return session.scalars(
        select(Promise)
        .where(Promise.team_id == team_id, Promise.dedupe_key == dedupe_key)
        .options(selectinload(Promise.promisees))
    ).one_or_none()


def get(session: Session, *, team_id: str, promise_id: int) -> Promise | None:
    return session.scalars(
        select(Promise)
        .where(Promise.team_id == team_id, Promise.id == promise_id)
        .options(selectinload(Promise.promisees))
    ).one_or_none()


def insert(
    session: Session,
    *,
    team_id: str,
    dedupe_key: str,
    promiser_id: str,
    promisee_ids: Sequence[str],
    contact_name: str | None,
    what: str,
    due_at: datetime,
    date_only: bool,
    created_at: datetime,
    origin_channel_id: str | None,
    origin_ts: str | None,
    context_link: str | None,
) -> Promise | None:
    """The new promise; None when the key is taken (a redelivery)."""
    promise_id = insert_once(
        session,
        Promise,
        keys=("team_id", "dedupe_key"),
        values={
            "team_id": team_id,
            "dedupe_key": dedupe_key,
            "promiser_id": promiser_id,
            "contact_name": contact_name,
            "what": what,
            "due_at": due_at,
            "date_only": date_only,
            "version": 1,
            "status": OPEN,
            "created_at": created_at,
            "origin_channel_id": origin_channel_id,
            "origin_ts": origin_ts,
            "context_link": context_link,
        },
    )
    if promise_id is None:
        return None
    session.add_all(
        PromisePromisee(promise_id=promise_id, team_id=team_id, user_id=user_id, position=position)
        for position, user_id in enumerate(promisee_ids)
    )
    session.flush()
    return get(session, team_id=team_id, promise_id=promise_id)


def close(
    session: Session, *, team_id: str, promise_id: int, status: str, at: datetime, note: str | None
) -> bool:
    """Open -> done/cancelled; False when it was not open any more (a second click changes nothing)."""
    result = session.execute(
        update(Promise)
        .where(Promise.team_id == team_id, Promise.id == promise_id, Promise.status == OPEN)
        .values(status=status, closed_at=at, close_note=note)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def reschedule(
    session: Session, *, team_id: str, promise_id: int, from_version: int, due_at: datetime, date_only: bool
) -> bool:
    """A new ETA, only if nobody changed the promise since `from_version` was read."""
    result = session.execute(
        update(Promise)
        .where(
            Promise.team_id == team_id,
            Promise.id == promise_id,
            Promise.status == OPEN,
            Promise.version == from_version,
        )
        .values(due_at=due_at, date_only=date_only, version=from_version + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def open_by_promiser(session: Session, *, team_id: str, user_id: str) -> list[Promise]:
    return list(
        session.scalars(
            select(Promise)
            .where(Promise.team_id == team_id, Promise.promiser_id == user_id, Promise.status == OPEN)
            .order_by(Promise.due_at, Promise.id)
            .options(selectinload(Promise.promisees))
        )
    )


def open_for_promisee(session: Session, *, team_id: str, user_id: str) -> list[Promise]:
    # From the person's promisee rows to their promises by id, the status checked here: SQLite, which
    # keeps no statistics, would otherwise walk every open promise (they come in due order, sparing
    # it a sort) and look for the person in each.
    theirs = select(PromisePromisee.promise_id).where(
        PromisePromisee.team_id == team_id, PromisePromisee.user_id == user_id
    )
    promises = session.scalars(
        select(Promise)
        .where(Promise.id.in_(theirs), Promise.team_id == team_id)
        .order_by(Promise.due_at, Promise.id)
        .options(selectinload(Promise.promisees))
    )
    return [promise for promise in promises if promise.status == OPEN]


def overdue(session: Session, *, now: datetime, after_id: int, limit: int) -> list[Promise]:
    """Open promises past due, in every workspace (each row carries its team_id), in due order, a page
    at a time: those after the promise `after_id` (0 for the first page). In due order, the open index
    reads only them; in id order PostgreSQL would walk every promise ever made, expecting open ones
    soon (most open promises are not yet due, which its statistics cannot tell)."""
    query = select(Promise).where(Promise.status == OPEN, Promise.due_at < now)
    if after_id:
        after_due = select(Promise.due_at).where(Promise.id == after_id).scalar_subquery()
        query = query.where(tuple_(Promise.due_at, Promise.id) > tuple_(after_due, after_id))
    return list(session.scalars(query.order_by(Promise.due_at, Promise.id).limit(limit)))


def forget_promiser(session: Session, *, team_id: str, user_id: str, at: datetime) -> int:
    """Open promises of someone who asked to be forgotten are closed; all lose their author."""
    session.execute(
        update(Promise)
        .where(Promise.team_id == team_id, Promise.promiser_id == user_id, Promise.status == OPEN)
        .values(status=CANCELLED, closed_at=at)
    )
    result = session.execute(
        update(Promise)
        .where(Promise.team_id == team_id, Promise.promiser_id == user_id)
        .values(promiser_id=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def ids_by_promiser(session: Session, *, team_id: str, user_id: str) -> list[int]:
    return list(
        session.scalars(select(Promise.id).where(Promise.team_id == team_id, Promise.promiser_id == user_id))
    )
