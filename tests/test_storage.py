"""Storage behaviour the services rely on, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from storage import outbox as outbox_store
from storage.db import unit_of_work

NOW = datetime(2026, 11, 18, 15, tzinfo=UTC)


def _enqueue(session: Any, team_id: str, key: str, **kwargs: Any) -> bool:
    return outbox_store.enqueue(
        session,
        team_id=team_id,
        dedupe_key=key,
        kind="test.kind",
        recipient_id="U1",
        payload={},
        deliver_after=kwargs.get("at", NOW),
        created_at=NOW,
    )


def test_enqueue_says_whether_it_added_a_row_and_keys_are_per_workspace(sessions: Any) -> None:
    with unit_of_work(sessions) as session:
        assert _enqueue(session, "T1", "k") is True
        assert _enqueue(session, "T1", "k") is False  # the same key again, in the same transaction
        assert _enqueue(session, "T2", "k") is True  # another workspace's key space
    with unit_of_work(sessions) as session:
        assert _enqueue(session, "T1", "k") is False
        assert outbox_store.exists(session, team_id="T2", dedupe_key="k")
        assert not outbox_store.exists(session, team_id="T3", dedupe_key="k")


def test_cancel_pending_by_prefix_escapes_like_wildcards(sessions: Any) -> None:
    with unit_of_work(sessions) as session:
        for key in ("promise:1:v1:due", "promise:10:v1:due", "promise_1:x", "promise:1:snooze:a"):
            _enqueue(session, "T1", key)
        _enqueue(session, "T2", "promise:1:v1:due")
    with unit_of_work(sessions) as session:
        assert outbox_store.cancel_pending(session, team_id="T1", key_prefix="promise:1:", reason="done") == 2
    with unit_of_work(sessions) as session:
        rows = {
            (row.team_id, row.dedupe_key): row.status
            for row in outbox_store.list_rows(session, statuses=["pending", "cancelled"], limit=10)
        }
    assert rows == {
        ("T1", "promise:1:v1:due"): "cancelled",
        ("T1", "promise:1:snooze:a"): "cancelled",
        ("T1", "promise:10:v1:due"): "pending",
        ("T1", "promise_1:x"): "pending",
        ("T2", "promise:1:v1:due"): "pending",
    }


def test_a_claim_takes_due_rows_once_and_fences_the_finish(sessions: Any) -> None:
    with unit_of_work(sessions) as session:
        _enqueue(session, "T1", "due")
        _enqueue(session, "T1", "later", at=NOW + timedelta(hours=1))
    with unit_of_work(sessions) as session:
        [row] = outbox_store.claim_due(
            session, now=NOW, owner="a", lease_until=NOW + timedelta(minutes=5), claimed_at=NOW, limit=10
        )
        row_id = row.id
    with unit_of_work(sessions) as session:
        assert (
            outbox_store.claim_due(
                session, now=NOW, owner="b", lease_until=NOW + timedelta(minutes=5), claimed_at=NOW, limit=10
            )
            == []
        )
        assert not outbox_store.mark_sent(
            session, row_id=row_id, owner="b", at=NOW, channel_id="D1", ts="1.1"
        )
        assert outbox_store.mark_sent(session, row_id=row_id, owner="a", at=NOW, channel_id="D1", ts="1.1")


def test_a_row_taken_over_keeps_the_time_it_was_first_claimed(sessions: Any) -> None:
    with unit_of_work(sessions) as session:
        _enqueue(session, "T1", "due")
    with unit_of_work(sessions) as session:
        outbox_store.claim_due(
            session, now=NOW, owner="a", lease_until=NOW + timedelta(minutes=5), claimed_at=NOW, limit=10
        )
    later = NOW + timedelta(minutes=6)  # a's lease ran out: it crashed
    with unit_of_work(sessions) as session:
        [row] = outbox_store.claim_due(
            session,
            now=later,
            owner="b",
            lease_until=later + timedelta(minutes=5),
            claimed_at=later,
            limit=10,
        )
        assert (row.lease_owner, row.first_claimed_at, row.last_error) == (
            "b",
            NOW,
            outbox_store.LEASE_EXPIRED,
        )


def test_released_rows_go_back_to_the_queue_for_anyone(sessions: Any) -> None:
    with unit_of_work(sessions) as session:
        _enqueue(session, "T1", "one")
        _enqueue(session, "T1", "two")
    with unit_of_work(sessions) as session:
        claimed = outbox_store.claim_due(
            session, now=NOW, owner="a", lease_until=NOW + timedelta(minutes=5), claimed_at=NOW, limit=10
        )
        ids = [row.id for row in claimed]
    with unit_of_work(sessions) as session:
        assert outbox_store.release(session, row_ids=ids, owner="someone else") == 0
        assert outbox_store.release(session, row_ids=ids, owner="a") == 2
    with unit_of_work(sessions) as session:
        again = outbox_store.claim_due(
            session, now=NOW, owner="b", lease_until=NOW + timedelta(minutes=5), claimed_at=NOW, limit=10
        )
        assert sorted(row.id for row in again) == sorted(ids)


def test_the_celebrations_window_reads_the_people_whose_days_fall_in_it_in_any_year(sessions: Any) -> None:
    from datetime import date

    from storage import dates as dates_store

    shared = {
        "UNEWYEAR": ((1, 2), None),  # a birthday just past the turn of the year
        "ULEAP": ((2, 29), None),  # celebrated on 28 February in years without a 29th
        "USTART": (None, date(2011, 12, 30)),  # an anniversary, years later
        "UFAR": ((6, 15), date(2015, 6, 15)),  # nowhere near
    }
    with unit_of_work(sessions) as session:
        for user_id, (birthday, start) in shared.items():
            if birthday:
                dates_store.set_birthday(
                    session,
                    team_id="T1",
                    user_id=user_id,
                    month=birthday[0],
                    day=birthday[1],
                    source="self",
                    at=NOW,
                )
            if start:
                dates_store.set_start_date(
                    session, team_id="T1", user_id=user_id, start=start, source="self", at=NOW
                )

    def between(first: date, last: date) -> set[str]:
        with unit_of_work(sessions) as session:
            found = dates_store.celebrated_between(session, first=first, last=last)
            return {row.user_id for row, _ in found}

    assert between(date(2026, 12, 28), date(2027, 1, 6)) == {"UNEWYEAR", "USTART"}
    assert between(date(2027, 2, 24), date(2027, 2, 28)) == {"ULEAP"}
    assert between(date(2027, 3, 10), date(2027, 3, 19)) == set()


def test_overdue_promises_come_a_page_at_a_time_in_due_order_each_once(sessions: Any) -> None:
    from storage import promises as promise_store

    due_times = [NOW - timedelta(hours=h) for h in (5, 3, 3, 3, 1)] + [NOW + timedelta(hours=1)]
    with unit_of_work(sessions) as session:
        for n, due_at in enumerate(due_times):
            promise_store.insert(
                session,
                team_id=f"T{n % 2}",
                dedupe_key=f"p{n}",
                promiser_id="U1",
                promisee_ids=["U2"],
                contact_name=None,
                what="a call",
                due_at=due_at,
                date_only=False,
                created_at=NOW - timedelta(days=1),
                origin_channel_id=None,
                origin_ts=None,
                context_link=None,
            )
    seen: list[tuple[datetime, int]] = []
    after = 0
    with unit_of_work(sessions) as session:
        while page := promise_store.overdue(session, now=NOW, after_id=after, limit=2):
            seen += [(p.due_at, p.id) for p in page]
            after = page[-1].id
    assert len(seen) == 5  # the one not yet due is left out; ties on the due time come once each
    assert seen == sorted(seen)
    assert len(set(seen)) == 5
