"""Kudos queries. Every one filters by team_id; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from storage.models import Kudos, KudosRecipient, KudosValue

PENDING = "pending"
POSTED = "posted"
REVOKED = "revoked"


def find_by_key(session: Session, *, team_id: str, dedupe_key: str) -> Kudos | None:
    return session.scalars(
        select(Kudos)
        .where(Kudos.team_id == team_id, Kudos.dedupe_key == dedupe_key)
        .options(selectinload(Kudos.recipients), selectinload(Kudos.values))
    ).one_or_none()


def get(session: Session, *, team_id: str, kudos_id: int) -> Kudos | None:
    return session.scalars(
        select(Kudos)
        .where(Kudos.team_id == team_id, Kudos.id == kudos_id)
        .options(selectinload(Kudos.recipients), selectinload(Kudos.values))
    ).one_or_none()


def insert_pending(
    session: Session,
    *,
    team_id: str,
    dedupe_key: str,
    giver_id: str,
    recipient_ids: Sequence[str],
    message: str,
    values: Sequence[str],
    source: str,
    created_at: datetime,
    origin_channel_id: str | None,
    origin_ts: str | None,
    reason_link: str | None,
    event_ts: str | None = None,
) -> int:
    """Reserves the kudos before anything is posted; raises IntegrityError when the key is taken."""
    kudos = Kudos(
        team_id=team_id,
        dedupe_key=dedupe_key,
        giver_id=giver_id,
        message=message,
        source=source,
        status=PENDING,
        created_at=created_at,
        origin_channel_id=origin_channel_id,
        origin_ts=origin_ts,
        reason_link=reason_link,
        added_event_ts=event_ts,
        recipients=[
            KudosRecipient(team_id=team_id, user_id=user_id, position=position)
            for position, user_id in enumerate(recipient_ids)
        ],
        values=[KudosValue(team_id=team_id, value=value) for value in dict.fromkeys(values)],
    )
    session.add(kudos)
    session.flush()
    return kudos.id


def insert_tombstone(
    session: Session,
    *,
    team_id: str,
    dedupe_key: str,
    giver_id: str,
    source: str,
    at: datetime,
    origin_channel_id: str | None,
    origin_ts: str | None,
    event_ts: str | None,
) -> None:
    """Records that something was taken back before it was given (a reaction removed before its
    "added" event was handled), so the late "added" is recognised as old news. Raises IntegrityError
    when the kudos appeared meanwhile."""
    session.add(
        Kudos(
            team_id=team_id,
            dedupe_key=dedupe_key,
            giver_id=giver_id,
            message="",
            source=source,
            status=REVOKED,
            created_at=at,
            origin_channel_id=origin_channel_id,
            origin_ts=origin_ts,
            revoked_at=at,
            revoked_event_ts=event_ts,
        )
    )
    session.flush()


def delete_kudos(session: Session, *, team_id: str, kudos_id: int) -> None:
    session.execute(delete(KudosValue).where(KudosValue.team_id == team_id, KudosValue.kudos_id == kudos_id))
    session.execute(
        delete(KudosRecipient).where(KudosRecipient.team_id == team_id, KudosRecipient.kudos_id == kudos_id)
    )
    session.execute(delete(Kudos).where(Kudos.team_id == team_id, Kudos.id == kudos_id))


def mark_posted(
    session: Session, *, team_id: str, kudos_id: int, channel_id: str, ts: str, permalink: str | None
) -> bool:
    """False when it was taken back while it was being posted (the reaction was removed meanwhile)."""
    result = session.execute(
        update(Kudos)
        .where(Kudos.team_id == team_id, Kudos.id == kudos_id, Kudos.status == PENDING)
        .values(status=POSTED, post_channel_id=channel_id, post_ts=ts, permalink=permalink)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def note_added(session: Session, *, team_id: str, kudos_id: int, event_ts: str) -> None:
    """Remembers a later "added" for a kudos that stands (a remove-and-add Slack reported late)."""
    session.execute(
        update(Kudos).where(Kudos.team_id == team_id, Kudos.id == kudos_id).values(added_event_ts=event_ts)
    )


def mark_revoked(
    session: Session, *, team_id: str, kudos_id: int, at: datetime, event_ts: str | None
) -> bool:
    """True when this call revoked it (a second revoke of the same kudos changes nothing). A kudos
    still being posted can be revoked too: the poster sees it and takes its post back."""
    result = session.execute(
        update(Kudos)
        .where(Kudos.team_id == team_id, Kudos.id == kudos_id, Kudos.status.in_((PENDING, POSTED)))
        .values(status=REVOKED, revoked_at=at, revoked_event_ts=event_ts)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def count_recipients_given(session: Session, *, team_id: str, giver_id: str, since: datetime) -> int:
    """People thanked by the giver since the instant, pending posts included (they are on their way)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(KudosRecipient)
            .join(Kudos, Kudos.id == KudosRecipient.kudos_id)
            .where(
                Kudos.team_id == team_id,
                Kudos.giver_id == giver_id,
                Kudos.status.in_((PENDING, POSTED)),
                Kudos.created_at >= since,
            )
        )
        or 0
    )


def posted_for_message(session: Session, *, team_id: str, channel_id: str, ts: str) -> list[Kudos]:
    """Reaction kudos standing on one chat message."""
    return list(
        session.scalars(
            select(Kudos)
            .where(
                Kudos.team_id == team_id,
                Kudos.origin_channel_id == channel_id,
                Kudos.origin_ts == ts,
                # A kudos still being posted is taken back too; its poster withdraws the post.
                Kudos.status.in_((PENDING, POSTED)),
            )
            .options(selectinload(Kudos.recipients), selectinload(Kudos.values))
        )
    )


def top_receivers(
    session: Session, *, team_id: str, since: datetime | None, limit: int
) -> list[tuple[str, int]]:
    count = func.count().label("n")
    query = (
        select(KudosRecipient.user_id, count)
        .join(Kudos, Kudos.id == KudosRecipient.kudos_id)
        .where(Kudos.team_id == team_id, Kudos.status == POSTED)
        .group_by(KudosRecipient.user_id)
        .order_by(count.desc(), KudosRecipient.user_id)
        .limit(limit)
    )
    if since is not None:
        query = query.where(Kudos.created_at >= since)
    return [(user_id, n) for user_id, n in session.execute(query)]


def top_givers(
    session: Session, *, team_id: str, since: datetime | None, limit: int
) -> list[tuple[str, int]]:
    count = func.count().label("n")
    query = (
        select(Kudos.giver_id, count)
        .join(KudosRecipient, Kudos.id == KudosRecipient.kudos_id)
        .where(Kudos.team_id == team_id, Kudos.status == POSTED, Kudos.giver_id.is_not(None))
        .group_by(Kudos.giver_id)
        .order_by(count.desc(), Kudos.giver_id)
        .limit(limit)
    )
    if since is not None:
        query = query.where(Kudos.created_at >= since)
    return [(str(giver_id), n) for giver_id, n in session.execute(query)]


def anonymise_giver(session: Session, *, team_id: str, giver_id: str) -> int:
    """Kudos stay with their recipients; who gave them is forgotten."""
    result = session.execute(
        update(Kudos).where(Kudos.team_id == team_id, Kudos.giver_id == giver_id).values(giver_id=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
