"""Outbox queries: enqueue once, claim with a lease, finish with a fenced update. None commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, text, true, update
from sqlalchemy.orm import Session

from storage.models import OutboxMessage, Workspace
from storage.upserts import insert_once

PENDING = "pending"
CLAIMED = "claimed"
SENT = "sent"
# Recorded work (not a message) that was carried out.
DONE = "done"
DEAD = "dead"
CANCELLED = "cancelled"
# Waiting in a person's daily digest (`digest_key`); sent with it.
FOLDED = "folded"
STATUSES = (PENDING, CLAIMED, SENT, DONE, DEAD, CANCELLED, FOLDED)
# Written on a row claimed again after its sender's lease ran out: it may already have been sent.
LEASE_EXPIRED = "lease expired"
# Written on a row held until its person is back.
HELD_AWAY = "away"


def enqueue(
    session: Session,
    *,
    team_id: str,
    dedupe_key: str,
    kind: str,
    recipient_id: str,
    payload: dict[str, Any],
    deliver_after: datetime,
    created_at: datetime,
    expires_at: datetime | None = None,
) -> bool:
    """Adds the row unless its key exists (True when added). Never breaks the caller's transaction."""
    return (
        insert_once(
            session,
            OutboxMessage,
            keys=("team_id", "dedupe_key"),
            values={
                "team_id": team_id,
                "dedupe_key": dedupe_key,
                "kind": kind,
                "recipient_id": recipient_id,
                "payload": payload,
                "deliver_after": deliver_after,
                "expires_at": expires_at,
                "status": PENDING,
                "attempts": 0,
                "created_at": created_at,
            },
        )
        is not None
    )


def _starts_with(key_prefix: str) -> Any:
    escaped = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return OutboxMessage.dedupe_key.like(escaped + "%", escape="\\")


def _due(now: datetime) -> Any:
    # Pending and due, or claimed by a sender whose lease ran out (it crashed mid-send).
    return or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.deliver_after <= now),
        and_(OutboxMessage.status == CLAIMED, OutboxMessage.claimed_until < now),
    )


def claim_due(
    session: Session,
    *,
    now: datetime,
    owner: str,
    lease_until: datetime,
    claimed_at: datetime,
    limit: int,
    skip_teams: Sequence[str] = (),
) -> list[OutboxMessage]:
    """Claims up to `limit` due rows for `owner`, none of the workspaces in `skip_teams`. On PostgreSQL,
    concurrent claimers skip each other's rows (FOR UPDATE SKIP LOCKED); on SQLite they take turns
    (BEGIN IMMEDIATE). Must be the first statement of its transaction."""
    if session.get_bind().dialect.name == "sqlite":
        # Take SQLite's write lock before reading, so two claimers queue instead of racing.
        session.execute(text("BEGIN IMMEDIATE"))
    due = _due(now)
    if skip_teams:
        due = and_(due, OutboxMessage.team_id.not_in(skip_teams))
    due_ids = (
        select(OutboxMessage.id)
        .where(due)
        .order_by(OutboxMessage.deliver_after, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due_ids))
        .values(
            status=CLAIMED,
            lease_owner=owner,
            claimed_until=lease_until,
            first_claimed_at=func.coalesce(OutboxMessage.first_claimed_at, claimed_at),
            # Its sender's lease ran out mid-claim: it may have sent it before dying.
            maybe_sent=or_(OutboxMessage.maybe_sent, OutboxMessage.status == CLAIMED),
            last_error=case((OutboxMessage.status == CLAIMED, LEASE_EXPIRED), else_=OutboxMessage.last_error),
        )
        .returning(OutboxMessage),
        execution_options={"synchronize_session": False},
    )
    return sorted(claimed, key=lambda row: (row.deliver_after, row.id))


def peek_due(session: Session, *, now: datetime, limit: int) -> list[OutboxMessage]:
    """What a claim would take, without taking it (for --dry-run)."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(_due(now))
            .order_by(OutboxMessage.deliver_after, OutboxMessage.id)
            .limit(limit)
        )
    )


def _fenced(row_id: int, owner: str) -> Any:
    # Only the sender that holds the lease may finish the row; a sender whose lease expired may not.
    return and_(
        OutboxMessage.id == row_id, OutboxMessage.lease_owner == owner, OutboxMessage.status == CLAIMED
    )


def mark_sent(session: Session, *, row_id: int, owner: str, at: datetime, channel_id: str, ts: str) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(_fenced(row_id, owner))
        .values(
            status=SENT,
            sent_at=at,
            # What the platform answered, cut to the columns' width: a long answer must not undo a send.
            sent_channel_id=channel_id[:32],
            sent_ts=ts[:32],
            claimed_until=None,
            last_error=None,
            maybe_sent=False,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def reschedule(
    session: Session,
    *,
    row_id: int,
    owner: str,
    deliver_after: datetime,
    error: str,
    attempts: int,
    maybe_sent: bool,
) -> bool:
    """Back in line; `maybe_sent` when the failed attempt may have reached Slack (it stays set)."""
    result = session.execute(
        update(OutboxMessage)
        .where(_fenced(row_id, owner))
        .values(
            status=PENDING,
            deliver_after=deliver_after,
            lease_owner=None,
            claimed_until=None,
            last_error=error,
            attempts=attempts,
            maybe_sent=true() if maybe_sent else OutboxMessage.maybe_sent,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(
    session: Session, *, row_id: int, owner: str, status: str, error: str | None, attempts: int
) -> bool:
    """Ends a claimed row as dead or cancelled, with the reason."""
    result = session.execute(
        update(OutboxMessage)
        .where(_fenced(row_id, owner))
        .values(status=status, claimed_until=None, last_error=error, attempts=attempts)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def cancel_pending(session: Session, *, team_id: str, key_prefix: str, reason: str) -> int:
    """Cancels rows not yet claimed whose key starts with the prefix (e.g. `promise:42:`)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            _starts_with(key_prefix),
            OutboxMessage.status == PENDING,
        )
        .values(status=CANCELLED, last_error=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def cancel_for_removed_workspaces(session: Session, *, reason: str) -> int:
    """Cancels every row not yet claimed in a workspace that removed ExtraMile."""
    # The workspaces first (usually none): every plan runs this, and SQLite would otherwise walk every
    # pending row, those due weeks from now too, to find none.
    removed = list(session.scalars(select(Workspace.team_id).where(Workspace.removed_at.is_not(None))))
    if not removed:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status.in_((PENDING, FOLDED)), OutboxMessage.team_id.in_(removed))
        .values(status=CANCELLED, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def revive_cancelled(session: Session, *, team_id: str, reason: str, now: datetime) -> int:
    """Rows cancelled for `reason` that are still ahead of `now` (and not expired) go back to pending."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.status == CANCELLED,
            OutboxMessage.last_error == reason,
            OutboxMessage.deliver_after > now,
            or_(OutboxMessage.expires_at.is_(None), OutboxMessage.expires_at > now),
        )
        .values(status=PENDING, last_error=None, digest_key=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def cancel_for_recipient(session: Session, *, team_id: str, recipient_id: str, reason: str) -> int:
    """Cancels every message not yet claimed that is addressed to this person (waiting in a digest too)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.recipient_id == recipient_id,
            OutboxMessage.status.in_((PENDING, FOLDED)),
        )
        .values(status=CANCELLED, last_error=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def exists(session: Session, *, team_id: str, dedupe_key: str) -> bool:
    return (
        session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.team_id == team_id, OutboxMessage.dedupe_key == dedupe_key
            )
        )
        is not None
    )


def any_since(session: Session, *, team_id: str, key_prefix: str, recipient_id: str, since: datetime) -> bool:
    """Whether a message with this key prefix to this recipient is due, or went out, since the instant."""
    return (
        session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.team_id == team_id,
                _starts_with(key_prefix),
                OutboxMessage.recipient_id == recipient_id,
                OutboxMessage.status.in_((PENDING, CLAIMED, SENT)),
                OutboxMessage.deliver_after >= since,
            )
            .limit(1)
        )
        is not None
    )


def list_rows(session: Session, *, statuses: Sequence[str], limit: int) -> list[OutboxMessage]:
    """For operators (`extramile outbox`): every workspace's rows in these states, oldest first."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status.in_(statuses))
            .order_by(OutboxMessage.deliver_after, OutboxMessage.id)
            .limit(limit)
        )
    )


def requeue(session: Session, *, row_id: int, now: datetime) -> bool:
    """Puts a dead or cancelled row back in line, with a fresh attempt count. An operator naming the
    row has decided: even one that may have gone out already is sent again."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status.in_((DEAD, CANCELLED)))
        .values(
            status=PENDING,
            deliver_after=now,
            attempts=0,
            lease_owner=None,
            claimed_until=None,
            maybe_sent=False,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# Dead on purpose: they may have gone out already and cannot be checked. Only `retry ID` resends them.
NOT_REQUEUED_IN_BULK = ("not_resent_after_crash", "unverified:%")


def requeue_dead(session: Session, *, now: datetime, since: datetime | None) -> int:
    """Puts every dead row (created since the instant, when given) back in line: after an outage.
    Rows that died because they may already have been delivered are left alone."""
    condition = and_(
        OutboxMessage.status == DEAD,
        *(OutboxMessage.last_error.not_like(pattern) for pattern in NOT_REQUEUED_IN_BULK),
    )
    if since is not None:
        condition = and_(condition, OutboxMessage.created_at >= since)
    result = session.execute(
        update(OutboxMessage)
        .where(condition)
        .values(status=PENDING, deliver_after=now, attempts=0, lease_owner=None, claimed_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, *, row_ids: Sequence[int], owner: str) -> int:
    """Hands claimed rows that were never started back to the queue (a sender shutting down), so
    another replica takes them at once instead of after the lease."""
    if not row_ids:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(row_ids), OutboxMessage.lease_owner == owner, OutboxMessage.status == CLAIMED
        )
        .values(status=PENDING, lease_owner=None, claimed_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def recipients_queued(
    session: Session, *, team_id: str, kind: str, key_like: str, since: datetime, until: datetime
) -> list[str]:
    """Who was sent (or is due) a message of this kind, written in [since, until), oldest first."""
    return list(
        session.scalars(
            select(OutboxMessage.recipient_id)
            .where(
                OutboxMessage.team_id == team_id,
                OutboxMessage.kind == kind,
                OutboxMessage.dedupe_key.like(key_like),
                OutboxMessage.status != CANCELLED,
                OutboxMessage.created_at >= since,
                OutboxMessage.created_at < until,
            )
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
    )


def fold(session: Session, *, row_id: int, owner: str, digest_key: str) -> bool:
    """Moves a claimed row into a digest: it goes out with that digest, not on its own."""
    result = session.execute(
        update(OutboxMessage)
        .where(_fenced(row_id, owner))
        .values(status=FOLDED, digest_key=digest_key, claimed_until=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def folded_into(session: Session, *, team_id: str, digest_key: str) -> list[OutboxMessage]:
    """The rows waiting in a digest, in the order they came due."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.team_id == team_id,
                OutboxMessage.digest_key == digest_key,
                OutboxMessage.status == FOLDED,
            )
            .order_by(OutboxMessage.deliver_after, OutboxMessage.id)
        )
    )


def settle_folded(
    session: Session,
    *,
    team_id: str,
    digest_key: str,
    status: str,
    at: datetime,
    reason: str | None = None,
    row_ids: Sequence[int] | None = None,
) -> int:
    """Rows of a digest that went out with it (sent), had nothing left to say (cancelled) or went
    down with it (dead): these `row_ids`, or all that are still folded into it."""
    condition = and_(
        OutboxMessage.team_id == team_id,
        OutboxMessage.digest_key == digest_key,
        OutboxMessage.status == FOLDED,
    )
    if row_ids is not None:
        condition = and_(condition, OutboxMessage.id.in_(row_ids))
    result = session.execute(
        update(OutboxMessage)
        .where(condition)
        .values(status=status, sent_at=at if status == SENT else None, last_error=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def unfold(session: Session, *, team_id: str, row_ids: Sequence[int], at: datetime) -> int:
    """Back in line, out of a digest that had no room left: the next digest takes them."""
    if not row_ids:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id, OutboxMessage.id.in_(row_ids), OutboxMessage.status == FOLDED
        )
        .values(status=PENDING, digest_key=None, deliver_after=at)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def status_of(session: Session, *, team_id: str, dedupe_key: str, for_update: bool = False) -> str | None:
    """The row's status; `for_update` keeps it locked until the transaction ends (PostgreSQL)."""
    query = select(OutboxMessage.status).where(
        OutboxMessage.team_id == team_id, OutboxMessage.dedupe_key == dedupe_key
    )
    return session.scalar(query.with_for_update() if for_update else query)


def retime_held(session: Session, *, team_id: str, recipient_id: str, at: datetime) -> int:
    """Messages waiting for someone to be back (held as "away"), due again at `at`."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.recipient_id == recipient_id,
            OutboxMessage.status == PENDING,
            OutboxMessage.last_error == HELD_AWAY,
        )
        .values(deliver_after=at)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def retime_pending(
    session: Session, *, team_id: str, dedupe_key: str, deliver_after: datetime, expires_at: datetime | None
) -> bool:
    """A row still waiting, moved to a new time (its schedule changed)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.dedupe_key == dedupe_key,
            OutboxMessage.status == PENDING,
            or_(OutboxMessage.deliver_after != deliver_after, OutboxMessage.expires_at != expires_at),
        )
        .values(deliver_after=deliver_after, expires_at=expires_at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class OutboxCounts:
    """How many rows there are of each (kind, status), and when the longest-waiting due row fell due."""

    rows: dict[tuple[str, str], int]
    oldest_due_at: datetime | None


def count_by_kind(session: Session, *, now: datetime) -> OutboxCounts:
    """Every workspace's rows, counted by kind and status, in one grouped query (for /metrics). Due as
    `claim_due` means it: pending and due, or claimed by a sender whose lease ran out."""
    due_at = case((_due(now), OutboxMessage.deliver_after))
    grouped = session.execute(
        select(OutboxMessage.kind, OutboxMessage.status, func.count(), func.min(due_at)).group_by(
            OutboxMessage.kind, OutboxMessage.status
        )
    ).all()
    due_times = [oldest for *_, oldest in grouped if oldest is not None]
    return OutboxCounts(
        rows={(kind, status): count for kind, status, count, _ in grouped},
        oldest_due_at=min(due_times, default=None),
    )
