"""Kudos queries. Every one filters by team_id; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import String, case, delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from storage.models import Kudos, KudosAllowance, KudosRecipient, KudosValue
from storage.upserts import conditional_upsert, insert_once

# pending: recorded, its post on the way; posted; revoked: taken back (a reaction removed, a message
# deleted); failed: the post could not be made, so it never counted.
PENDING = "pending"
POSTED = "posted"
REVOKED = "revoked"
FAILED = "failed"
_KEY = ("team_id", "dedupe_key")


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
    allowance_day: date | None,
    event_ts: str | None = None,
) -> int | None:
    """Records the kudos, its post still to be made; None when the key is taken (a redelivery)."""
    kudos_id = insert_once(
        session,
        Kudos,
        keys=_KEY,
        values={
            "team_id": team_id,
            "dedupe_key": dedupe_key,
            "giver_id": giver_id,
            "message": message,
            "source": source,
            "status": PENDING,
            "created_at": created_at,
            "origin_channel_id": origin_channel_id,
            "origin_ts": origin_ts,
            "reason_link": reason_link,
            "added_event_ts": event_ts,
            "allowance_day": allowance_day,
        },
    )
    if kudos_id is None:
        return None
    session.add_all(
        [
            KudosRecipient(kudos_id=kudos_id, team_id=team_id, user_id=user_id, position=position)
            for position, user_id in enumerate(recipient_ids)
        ]
        + [KudosValue(kudos_id=kudos_id, team_id=team_id, value=value) for value in dict.fromkeys(values)]
    )
    session.flush()
    return kudos_id


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
) -> bool:
    """Records that something was taken back before it was given (a reaction removed before its
    "added" event was handled), so the late "added" is recognised as old news. False when the kudos
    appeared meanwhile."""
    return (
        insert_once(
            session,
            Kudos,
            keys=_KEY,
            values={
                "team_id": team_id,
                "dedupe_key": dedupe_key,
                "giver_id": giver_id,
                "message": "",
                "source": source,
                "status": REVOKED,
                "created_at": at,
                "origin_channel_id": origin_channel_id,
                "origin_ts": origin_ts,
                "revoked_at": at,
                "revoked_event_ts": event_ts,
            },
        )
        is not None
    )


def retire(session: Session, *, team_id: str, kudos_id: int) -> None:
    """Frees the key of a kudos taken back, or never posted, for a new one (a reaction added again).
    The row stays, with its id: ids are never reused, so nothing keyed by it names the new kudos."""
    session.execute(
        update(Kudos)
        .where(Kudos.team_id == team_id, Kudos.id == kudos_id, Kudos.status.in_((REVOKED, FAILED)))
        .values(dedupe_key=func.substr(Kudos.dedupe_key, 1, 200, type_=String) + f"#retired:{kudos_id}")
    )


def mark_failed(session: Session, *, team_id: str, kudos_id: int) -> Kudos | None:
    """The post could not be made: the kudos never counted. The row, if this call failed it."""
    result = session.execute(
        update(Kudos)
        .where(Kudos.team_id == team_id, Kudos.id == kudos_id, Kudos.status == PENDING)
        .values(status=FAILED)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    return get(session, team_id=team_id, kudos_id=kudos_id)


def use_allowance(
    session: Session, *, team_id: str, giver_id: str, day: date, people: int, allowance: int
) -> bool:
    """Counts `people` thanked on the giver's `day` if that stays within `allowance` (0: unlimited).
    One statement, in the caller's transaction: concurrent kudos cannot both take the last one."""
    if 0 < allowance < people:
        return False
    counted = conditional_upsert(
        session,
        KudosAllowance,
        keys=("team_id", "giver_id", "day"),
        values={"team_id": team_id, "giver_id": giver_id, "day": day, "used": people},
        set_={"used": KudosAllowance.used + people},
        where=(KudosAllowance.used + people <= allowance) if allowance > 0 else None,
        returning=KudosAllowance.used,
    )
    return counted is not None


def give_back_allowance(session: Session, *, kudos: Kudos) -> None:
    """A kudos taken back or never posted does not count against its day."""
    if kudos.giver_id is None or kudos.allowance_day is None:
        return
    session.execute(
        update(KudosAllowance)
        .where(
            KudosAllowance.team_id == kudos.team_id,
            KudosAllowance.giver_id == kudos.giver_id,
            KudosAllowance.day == kudos.allowance_day,
        )
        .values(
            used=case(
                (KudosAllowance.used > len(kudos.recipients), KudosAllowance.used - len(kudos.recipients)),
                else_=0,
            )
        )
    )


def allowance_used(session: Session, *, team_id: str, giver_id: str, day: date) -> int:
    counter = session.get(KudosAllowance, (team_id, giver_id, day))
    return counter.used if counter is not None else 0


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


def note_post(session: Session, *, team_id: str, kudos_id: int, channel_id: str, ts: str) -> None:
    """Where a kudos taken back while it was being posted was posted anyway: to take it down."""
    session.execute(
        update(Kudos)
        .where(Kudos.team_id == team_id, Kudos.id == kudos_id)
        .values(post_channel_id=channel_id, post_ts=ts)
    )


def note_permalink(session: Session, *, team_id: str, kudos_id: int, permalink: str | None) -> None:
    session.execute(
        update(Kudos).where(Kudos.team_id == team_id, Kudos.id == kudos_id).values(permalink=permalink)
    )


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
    """Kudos stay with their recipients; who gave them is forgotten, with their daily counts."""
    session.execute(
        delete(KudosAllowance).where(KudosAllowance.team_id == team_id, KudosAllowance.giver_id == giver_id)
    )
    result = session.execute(
        update(Kudos).where(Kudos.team_id == team_id, Kudos.giver_id == giver_id).values(giver_id=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def received(session: Session, *, team_id: str, user_id: str, limit: int) -> tuple[int, list[Kudos]]:
    """How many standing kudos a person received, and the latest few."""
    standing = (
        select(Kudos.id)
        .join(KudosRecipient, KudosRecipient.kudos_id == Kudos.id)
        .where(Kudos.team_id == team_id, KudosRecipient.user_id == user_id, Kudos.status == POSTED)
    )
    total = session.scalar(select(func.count()).select_from(standing.subquery())) or 0
    latest = session.scalars(
        select(Kudos)
        .where(Kudos.id.in_(standing))
        .order_by(Kudos.created_at.desc(), Kudos.id.desc())
        .limit(limit)
        .options(selectinload(Kudos.recipients), selectinload(Kudos.values))
    )
    return total, list(latest)
