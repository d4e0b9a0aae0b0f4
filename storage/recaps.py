"""What a weekly recap counts, and what an export holds, read for one workspace and one stretch of
time. None commits.

Each query is bounded by the week it reads (the time columns are indexed), so a recap costs what the
week holds, not what the workspace ever stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage import kudos as kudos_store
from storage import promises as promise_store
from storage.models import Checkin, CheckinCompletion, Kudos, Promise


@dataclass(frozen=True)
class ClosedPromise:
    promiser_id: str | None
    on_time: bool


def kudos_between(session: Session, *, team_id: str, since: datetime, until: datetime) -> list[Kudos]:
    """Kudos standing (posted, not taken back) that were given in [since, until), oldest first."""
    return list(
        session.scalars(
            select(Kudos)
            .where(
                Kudos.team_id == team_id,
                Kudos.status == kudos_store.POSTED,
                Kudos.created_at >= since,
                Kudos.created_at < until,
            )
            .order_by(Kudos.created_at, Kudos.id)
            .options(selectinload(Kudos.recipients), selectinload(Kudos.values))
        )
    )


def promises_kept(session: Session, *, team_id: str, since: datetime, until: datetime) -> list[ClosedPromise]:
    """Promises marked done in [since, until), and whether each was on time."""
    rows = session.execute(
        select(Promise.promiser_id, Promise.due_at, Promise.closed_at).where(
            Promise.team_id == team_id,
            Promise.status == promise_store.DONE,
            Promise.closed_at >= since,
            Promise.closed_at < until,
        )
    ).all()
    return [
        ClosedPromise(promiser_id=promiser_id, on_time=closed_at is not None and closed_at <= due_at)
        for promiser_id, due_at, closed_at in rows
    ]


def overdue_promisers(session: Session, *, team_id: str, at: datetime) -> list[str | None]:
    """Whose open promises are past due at the instant, one entry per promise."""
    return list(
        session.scalars(
            select(Promise.promiser_id).where(
                Promise.team_id == team_id, Promise.status == promise_store.OPEN, Promise.due_at < at
            )
        )
    )


def checkins_done(session: Session, *, team_id: str, since: datetime, until: datetime) -> list[str | None]:
    """Who marked a check-in done in [since, until), one entry per time it was done."""
    return list(
        session.scalars(
            select(CheckinCompletion.requester_id).where(
                CheckinCompletion.team_id == team_id,
                CheckinCompletion.done_at >= since,
                CheckinCompletion.done_at < until,
            )
        )
    )


def promises_made(session: Session, *, team_id: str, since: datetime, until: datetime) -> list[Promise]:
    """Promises made in [since, until), oldest first, with the people waiting on them."""
    return list(
        session.scalars(
            select(Promise)
            .where(Promise.team_id == team_id, Promise.created_at >= since, Promise.created_at < until)
            .order_by(Promise.created_at, Promise.id)
            .options(selectinload(Promise.promisees))
        )
    )


def checkins_made(session: Session, *, team_id: str, since: datetime, until: datetime) -> list[Checkin]:
    """Check-ins set up in [since, until), oldest first (a forgotten person's are left out)."""
    return list(
        session.scalars(
            select(Checkin)
            .where(
                Checkin.team_id == team_id,
                Checkin.created_at >= since,
                Checkin.created_at < until,
                Checkin.requester_id.is_not(None),
            )
            .order_by(Checkin.created_at, Checkin.id)
        )
    )
