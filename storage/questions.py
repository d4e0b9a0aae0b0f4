"""Questions kept to nudge about, and the daily count of nudges. Callers own the session and the commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Question, QuestionNudgeCount
from storage.upserts import conditional_upsert, insert_once

OPEN = "open"
NUDGED = "nudged"
ANSWERED = "answered"
ON_IT = "on_it"
DISMISSED = "dismissed"
GONE = "gone"
DROPPED = "dropped"
# Still waiting on the person asked: a reply or a reaction closes it.
WAITING = (OPEN, NUDGED)


def record(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    message_ts: str,
    thread_ts: str,
    asker_id: str,
    asked_ids: Sequence[str],
    asked_at: datetime,
    nudge_after: datetime,
) -> int:
    """One row per person asked, once per message however often it arrives: how many were new."""
    added = 0
    for asked_id in asked_ids:
        new_id = insert_once(
            session,
            Question,
            keys=("team_id", "channel_id", "message_ts", "asked_id"),
            values={
                "team_id": team_id,
                "channel_id": channel_id,
                "message_ts": message_ts,
                "thread_ts": thread_ts,
                "asker_id": asker_id,
                "asked_id": asked_id,
                "asked_at": asked_at,
                "nudge_after": nudge_after,
                "status": OPEN,
            },
        )
        added += new_id is not None
    return added


def answered_in_thread(
    session: Session, *, team_id: str, channel_id: str, thread_ts: str, user_id: str, at: datetime
) -> int:
    """`user_id` wrote in the thread: every question there that asked them is answered, for everyone it
    asked ("can one of you…" answered by one is answered)."""
    asked_them = select(Question.message_ts).where(
        Question.team_id == team_id,
        Question.channel_id == channel_id,
        Question.thread_ts == thread_ts,
        Question.asked_id == user_id,
        Question.status.in_(WAITING),
    )
    return _close(
        session,
        (
            Question.team_id == team_id,
            Question.channel_id == channel_id,
            Question.message_ts.in_(asked_them.scalar_subquery()),
        ),
        ANSWERED,
        at,
    )


def reacted(
    session: Session, *, team_id: str, channel_id: str, message_ts: str, user_id: str, at: datetime
) -> int:
    """`user_id` reacted to a question that asked them: seen and answered, for everyone it asked."""
    asked = session.scalar(
        select(Question.id)
        .where(
            Question.team_id == team_id,
            Question.channel_id == channel_id,
            Question.message_ts == message_ts,
            Question.asked_id == user_id,
        )
        .limit(1)
    )
    if asked is None:
        return 0
    return _close(
        session,
        (Question.team_id == team_id, Question.channel_id == channel_id, Question.message_ts == message_ts),
        ANSWERED,
        at,
    )


def deleted(session: Session, *, team_id: str, channel_id: str, message_ts: str, at: datetime) -> int:
    return _close(
        session,
        (Question.team_id == team_id, Question.channel_id == channel_id, Question.message_ts == message_ts),
        GONE,
        at,
    )


def _close(session: Session, where: tuple[object, ...], status: str, at: datetime) -> int:
    result = session.execute(
        update(Question)
        .where(*where, Question.status.in_(WAITING))  # type: ignore[arg-type]
        .values(status=status, closed_at=at)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def due(session: Session, *, now: datetime, limit: int) -> list[Question]:
    """Open questions whose wait may be over, oldest first. Locked, skipping rows another replica's
    planner holds (PostgreSQL; SQLite has one writer at a time)."""
    return list(
        session.scalars(
            select(Question)
            .where(Question.status == OPEN, Question.nudge_after <= now)
            .order_by(Question.nudge_after, Question.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def wait_until(session: Session, *, team_id: str, question_id: int, at: datetime) -> None:
    session.execute(
        update(Question)
        .where(Question.team_id == team_id, Question.id == question_id, Question.status == OPEN)
        .values(nudge_after=at)
    )


def reopen(session: Session, *, team_id: str, question_id: int, at: datetime) -> None:
    """A nudge taken back before it was written (the day's cap was reached): open again until `at`."""
    session.execute(
        update(Question)
        .where(Question.team_id == team_id, Question.id == question_id, Question.status == NUDGED)
        .values(status=OPEN, nudge_after=at, closed_at=None)
    )


def waiting_for(session: Session, *, team_id: str, channel_id: str, message_ts: str) -> list[str]:
    """The people a question still waits on."""
    return list(
        session.scalars(
            select(Question.asked_id).where(
                Question.team_id == team_id,
                Question.channel_id == channel_id,
                Question.message_ts == message_ts,
                Question.status.in_(WAITING),
            )
        )
    )


def drop_for(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    message_ts: str,
    asked_ids: Sequence[str],
    at: datetime,
) -> int:
    """No nudge for these people about this question (they cannot read where it was asked)."""
    if not asked_ids:
        return 0
    return _close(
        session,
        (
            Question.team_id == team_id,
            Question.channel_id == channel_id,
            Question.message_ts == message_ts,
            Question.asked_id.in_(list(asked_ids)),
        ),
        DROPPED,
        at,
    )


def move(
    session: Session, *, team_id: str, question_id: int, from_: Sequence[str], to: str, at: datetime | None
) -> bool:
    """Moves the question from one of `from_` to `to`: False when another request or replica got there
    first (one nudge, one "I'm on it", however many times it is tried)."""
    result = session.execute(
        update(Question)
        .where(Question.team_id == team_id, Question.id == question_id, Question.status.in_(from_))
        .values(status=to, closed_at=at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def set_promise(session: Session, *, team_id: str, question_id: int, promise_id: int) -> None:
    session.execute(
        update(Question)
        .where(Question.team_id == team_id, Question.id == question_id)
        .values(promise_id=promise_id)
    )


def get(session: Session, *, team_id: str, question_id: int) -> Question | None:
    question = session.get(Question, question_id)
    return question if question is not None and question.team_id == team_id else None


def take_nudge(session: Session, *, team_id: str, user_id: str, day: date, cap: int) -> bool:
    """Counts one nudge on the person's `day` if that stays within `cap`. One statement in the caller's
    transaction: two replicas cannot both send the last one."""
    counted = conditional_upsert(
        session,
        QuestionNudgeCount,
        keys=("team_id", "user_id", "day"),
        values={"team_id": team_id, "user_id": user_id, "day": day, "sent": 1},
        set_={"sent": QuestionNudgeCount.sent + 1},
        where=QuestionNudgeCount.sent < cap,
        returning=QuestionNudgeCount.sent,
    )
    return counted is not None
