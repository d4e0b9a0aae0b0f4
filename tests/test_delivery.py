"""The delivery engine against the fake Slack: rate limits, dead rows, leases, concurrent workers."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.services.delivery import DeliveryService, Outbound
from bot.services.ports import DeliveryError, PostedMessage
from bot.services.promises import PromiseRequest
from handlers.slack.outbox import SlackOutboxSender
from storage import outbox as outbox_store
from storage.db import create_db_engine, session_factory, unit_of_work
from storage.models import OutboxMessage
from tests.conftest import ANA, BEN, GENERAL, GIVER, TEAM, Harness

THU_10 = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)


def promise_to_contact(h: Harness, n: int, *, due: str = "tomorrow 10am") -> int:
    made = h.app.services.promises.make(
        PromiseRequest(
            team_id=TEAM,
            promiser_id=GIVER,
            dedupe_key=f"test:{n}",
            contact_name=f"Client {n}",
            text=f"call {n} {due}",
        )
    )
    return made.promise.id


def rows(h: Harness) -> list[OutboxMessage]:
    with h.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def outbox_ids_posted(h: Harness) -> list[int]:
    return [
        call.params["metadata"]["event_payload"]["outbox_id"]
        for call in h.fake.calls_to("chat.postMessage")
        if call.ok and (call.params.get("metadata") or {}).get("event_type") == "extramile_outbox"
    ]


def test_a_429_storm_reschedules_without_waiting_and_loses_nothing(harness: Harness) -> None:
    h = harness
    ids = [promise_to_contact(h, n) for n in range(30)]
    h.fake.rate_limit_next("chat.postMessage", retry_after=30, times=20)
    h.clock.set(THU_10)

    first = h.app.services.delivery.tick()

    # The limited rows wait for Retry-After on the clock; the others went out in the same pass.
    assert (first.sent, first.rescheduled, first.dead) == (40, 20, 0)
    waiting = [row for row in rows(h) if row.status == "pending"]
    assert {row.deliver_after for row in waiting} == {THU_10 + timedelta(seconds=30)}
    assert {row.attempts for row in waiting} == {0} and {row.last_error for row in waiting} == {"ratelimited"}

    h.clock.set(THU_10 + timedelta(seconds=29))
    assert h.app.services.delivery.tick().sent == 0
    h.clock.set(THU_10 + timedelta(seconds=30))
    assert h.app.services.delivery.tick().sent == 20

    posted = outbox_ids_posted(h)
    assert len(posted) == len(set(posted)) == 60 == 2 * len(ids)
    assert {row.status for row in rows(h)} == {"sent"}


def notices_to(h: Harness, recipients: list[str]) -> None:
    """A due promise notice to each recipient, in this order."""
    promise_id = promise_to_contact(h, 0, due="next year")
    h.app.services.delivery.deliver_due(h.clock.now())  # the promise's own messages, out of the way
    h.fake.clear_calls()
    with unit_of_work(h.app.sessions) as session:
        for n, recipient in enumerate(recipients):
            outbox_store.enqueue(
                session,
                team_id=TEAM,
                dedupe_key=f"promise:{promise_id}:limits:{n}",
                kind="promise.notice",
                recipient_id=recipient,
                payload={"promise_id": promise_id, "stage": "heard", "version": 1},
                deliver_after=h.clock.now(),
                created_at=h.clock.now(),
            )


def limited_worker(h: Harness, waits: list[float]) -> DeliveryService:
    """A worker whose waits move the test's clock instead of sleeping, and say how long they were."""

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        h.clock.advance(timedelta(seconds=seconds))
        return False

    service = DeliveryService(
        sessions=h.app.sessions, clock=h.clock, sender=SlackOutboxSender(_client(h)), batch_size=25, wait=wait
    )
    service.register("promise.notice", h.app.services.promises.compose)
    return service


def test_a_workspace_over_its_cap_pauses_its_sends_and_then_goes_on_at_the_allowed_rate(
    harness: Harness,
) -> None:
    h = harness
    people = [f"U0P{n:03d}" for n in range(30)]
    for person in people:
        h.fake.add_user(person, person.lower())
    notices_to(h, people * 2)
    # Slack's limits, on the test's clock: 5 posts a second across the workspace, after a burst of 5.
    h.fake.limit_posts(workspace=5, clock=lambda: h.clock.now().timestamp())
    waits: list[float] = []
    started = h.clock.now()

    report = limited_worker(h, waits).deliver_due()

    # One live pass sent everything: each time the workspace said "enough", it paused for Retry-After
    # after two refusals, instead of having every row of the batch refused in turn.
    assert report.sent == 60
    refused = [c for c in h.fake.calls_to("chat.postMessage") if c.status == 429]
    assert waits == [1.0] * 11 and len(refused) == 2 * len(waits)
    assert h.clock.now() - started == timedelta(seconds=(60 - 5) / 5)  # as fast as the cap allows
    posted = Counter(outbox_ids_posted(h))
    assert len(posted) == 60 and set(posted.values()) == {1}
    limited = [row for row in rows(h) if ":limits:" in row.dedupe_key]
    assert {(row.status, row.attempts) for row in limited} == {("sent", 0)}  # a wait is not a try


def test_one_busy_conversation_does_not_pause_the_others(harness: Harness) -> None:
    h = harness
    notices_to(h, [ANA, ANA, ANA, BEN])
    h.fake.limit_posts(per_channel=1, channel_burst=1, workspace=100, clock=lambda: h.clock.now().timestamp())

    report = limited_worker(h, waits := []).deliver_due(h.clock.now())

    # Ana's conversation refused twice in a row: only her rows wait, and Ben's goes out in the same pass.
    assert (report.sent, report.rescheduled) == (2, 2) and waits == []
    assert [c.params["channel"] for c in h.fake.calls_to("chat.postMessage") if c.ok] == [ANA, BEN]


def test_a_live_pass_waits_for_a_row_told_to_come_back_in_a_second(harness: Harness) -> None:
    h = harness
    notices_to(h, [ANA, ANA])
    h.fake.limit_posts(per_channel=1, channel_burst=1, workspace=100, clock=lambda: h.clock.now().timestamp())

    report = limited_worker(h, waits := []).deliver_due()

    # Ending the pass would leave Ana's second DM to the next one, up to a scheduler interval later.
    assert (report.sent, report.rescheduled) == (2, 1) and waits == [1.0]
    limited = [row for row in rows(h) if ":limits:" in row.dedupe_key]
    assert {(row.status, row.attempts) for row in limited} == {("sent", 0)}


class OneWorkspaceOverItsCap:
    """A platform that refuses every send to one workspace for its rate limit, and takes the others'."""

    def __init__(self, busy_team: str) -> None:
        self.busy_team = busy_team
        self.sent: list[int] = []
        self.refused: list[int] = []

    def send(self, message: Outbound, view: object) -> PostedMessage:
        if message.team_id == self.busy_team:
            self.refused.append(message.id)
            raise DeliveryError("ratelimited", retry_after=5)
        self.sent.append(message.id)
        return PostedMessage(channel_id="D" + message.recipient_id, ts=f"{message.id}.000100")

    def describe(self, message: Outbound, view: object) -> str:
        return message.kind


def test_a_paused_workspace_rows_are_handed_back_untried_and_the_others_go_on(harness: Harness) -> None:
    h = harness
    now = h.clock.now()
    with unit_of_work(h.app.sessions) as session:
        for n in range(12):
            outbox_store.enqueue(
                session,
                team_id="T0BUSY" if n % 2 == 0 else TEAM,
                dedupe_key=f"note:{n}",
                kind="test.note",
                recipient_id=f"U0P{n:03d}",
                payload={},
                deliver_after=now,
                created_at=now,
            )
    platform = OneWorkspaceOverItsCap("T0BUSY")

    def no_wait(seconds: float) -> bool:
        raise AssertionError("a pass as of a fixed instant cannot wait for a pause to end")

    service = DeliveryService(sessions=h.app.sessions, clock=h.clock, sender=platform, wait=no_wait)
    service.register("test.note", lambda message: "a note")

    report = service.deliver_due(now)

    assert (report.sent, report.rescheduled) == (6, 2)
    by_key = {row.dedupe_key: row for row in rows(h) if row.kind == "test.note"}
    assert {by_key[f"note:{n}"].status for n in range(1, 12, 2)} == {"sent"}
    refused = [row for row in by_key.values() if row.id in platform.refused]
    assert len(refused) == 2
    assert {(r.status, r.attempts, r.deliver_after, r.last_error) for r in refused} == {
        ("pending", 0, now + timedelta(seconds=5), "ratelimited")
    }
    # The rest of the paused workspace's rows were never tried: back in line as they were, for anyone.
    untried = [r for r in by_key.values() if r.team_id == "T0BUSY" and r.id not in platform.refused]
    assert len(untried) == 4
    assert {(r.status, r.attempts, r.deliver_after, r.lease_owner) for r in untried} == {
        ("pending", 0, now, None)
    }
    # Until the pause ends, this worker does not even claim them.
    h.clock.advance(timedelta(seconds=4))
    assert service.deliver_due(h.clock.now()).rescheduled == 0 and len(platform.refused) == 2
    h.clock.advance(timedelta(seconds=1))
    # Refused again with no send since: still over its cap, it pauses after one refusal this time.
    assert service.deliver_due(h.clock.now()).rescheduled == 1 and len(platform.refused) == 3


def test_permanent_errors_mark_the_row_dead_and_the_loop_goes_on(harness: Harness, tmp_path: Path) -> None:
    h = harness
    promise_to_contact(h, 1)
    promise_to_contact(h, 2)
    h.fake.fail_next("chat.postMessage", "account_inactive")
    h.clock.set(THU_10)

    report = h.app.services.delivery.tick()

    assert (report.sent, report.dead) == (3, 1)
    [dead] = [row for row in rows(h) if row.status == "dead"]
    assert dead.last_error == "account_inactive" and dead.attempts == 1

    # An operator sees it, fixes the cause, and requeues it.
    env = {
        "DATABASE_URL": h.app.settings.DATABASE_URL,
        "PATH": "",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    listed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "outbox"], env=env, capture_output=True, text=True, timeout=60
    )
    assert f"{dead.id:>6}  dead" in listed.stdout and "(account_inactive)" in listed.stdout
    retried = subprocess.run(
        [sys.executable, "-m", "bot.cli", "outbox", "retry", str(dead.id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert retried.returncode == 0, retried.stderr
    again = subprocess.run(
        [sys.executable, "-m", "bot.cli", "outbox", "retry", str(dead.id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2 and "not dead or cancelled" in again.stderr

    [requeued] = [row for row in rows(h) if row.id == dead.id]
    assert (requeued.status, requeued.attempts) == ("pending", 0)
    # Requeued as of the operator's wall clock; delivered in Gia's first working hour since (no
    # planning: it is a later day).
    at = h.app.services.people.schedule(TEAM, GIVER).next_open(requeued.deliver_after)
    assert h.app.services.delivery.deliver_due(at).sent == 1
    assert {row.status for row in rows(h)} == {"sent"}


def _fail_until_settled(h: Harness, failures: int) -> tuple[OutboxMessage, list[timedelta]]:
    """Ticks at each retry time while chat.postMessage answers `failures` server errors."""
    promise_to_contact(h, 1, due="tomorrow 9am")  # one due reminder only: the heads-up would be before 09:00
    h.fake.fail_next("chat.postMessage", "internal_error", times=failures)
    at = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    delays = []
    for _ in range(60):
        h.clock.set(at)
        h.app.services.delivery.tick()
        [row] = rows(h)
        if row.status != "pending":
            return row, delays
        delays.append(row.deliver_after - at)
        at = row.deliver_after
    raise AssertionError("the row never settled")


def test_server_errors_back_off_for_about_a_day_then_give_up(harness: Harness) -> None:
    row, delays = _fail_until_settled(harness, failures=100)

    assert delays[:8] == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480, 960, 1920, 3600)]
    assert set(delays[7:]) == {timedelta(hours=1)}  # capped
    assert sum(delays, timedelta()) > timedelta(hours=20)
    assert (row.status, row.attempts, row.last_error) == ("dead", 30, "internal_error")


def test_an_outage_of_hours_delays_a_message_and_loses_nothing(harness: Harness) -> None:
    row, delays = _fail_until_settled(harness, failures=12)  # about six hours of Slack errors

    assert sum(delays, timedelta()) > timedelta(hours=5)
    assert (row.status, row.attempts) == ("sent", 12)
    assert len(outbox_ids_posted(harness)) == 1


def test_a_sender_that_crashed_after_posting_is_not_repeated(harness: Harness) -> None:
    h = harness
    promise_to_contact(h, 1, due="tomorrow 9am")
    h.clock.set(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    crashed = DeliveryService(
        sessions=h.app.sessions, clock=h.clock, sender=SlackOutboxSender(_client(h)), owner="crashed"
    )
    [claimed] = crashed.claim(h.clock.now())
    view = h.app.services.promises.compose(claimed)
    assert view is not None
    SlackOutboxSender(_client(h)).send(claimed, view)  # posted, then the process died before marking it

    h.clock.set(h.clock.now() + timedelta(minutes=4))
    assert h.app.services.delivery.tick().sent == 0  # the lease still holds
    h.clock.set(h.clock.now() + timedelta(minutes=2))
    assert h.app.services.delivery.tick().sent == 1

    assert len(h.fake.calls_to("chat.postMessage")) == 1  # recognised by its outbox id, not sent again
    [row] = rows(h)
    assert (row.status, row.sent_ts) == ("sent", h.fake.messages("D" + GIVER)[0]["ts"])


def _client(h: Harness) -> Any:
    from slack_sdk import WebClient

    from handlers.slack.clients import OneWorkspace

    return OneWorkspace(WebClient(token="xoxb-test", base_url=h.fake.url))


def test_concurrent_workers_send_every_row_once_and_take_over_a_dead_workers_rows(harness: Harness) -> None:
    h = harness
    for n in range(40):
        h.fake.add_user(f"U0P{n:03d}", f"person{n}")
    promise_id = promise_to_contact(h, 0, due="next year")
    with unit_of_work(h.app.sessions) as session:
        for n in range(1000):
            outbox_store.enqueue(
                session,
                team_id=TEAM,
                dedupe_key=f"promise:{promise_id}:load:{n}",
                kind="promise.notice",
                recipient_id=f"U0P{n % 40:03d}",
                payload={"promise_id": promise_id, "stage": "heard", "version": 1},
                deliver_after=h.clock.now(),
                created_at=h.clock.now(),
            )
    h.fake.clear_calls()

    def worker(name: str) -> DeliveryService:
        # Each worker is its own "replica": its own engine, its own lease owner.
        engine = create_db_engine(h.app.settings.DATABASE_URL)
        service = DeliveryService(
            sessions=session_factory(engine),
            clock=h.clock,
            sender=SlackOutboxSender(_client(h)),
            owner=name,
            batch_size=25,
        )
        service.register("promise.notice", h.app.services.promises.compose)
        return service

    dead_worker = worker("killed")
    abandoned = dead_worker.claim(h.clock.now())  # claims a batch, then is killed before sending any
    assert len(abandoned) == 25
    workers = [worker(f"replica-{n}") for n in range(3)]
    with ThreadPoolExecutor(3) as pool:
        reports = list(pool.map(lambda w: w.deliver_due(h.clock.now()), workers))

    assert sum(r.sent for r in reports) == 975
    assert all(r.sent > 0 for r in reports), [r.sent for r in reports]  # the work was shared
    h.clock.set(h.clock.now() + timedelta(minutes=6))  # the killed worker's lease runs out
    with ThreadPoolExecutor(3) as pool:
        late = list(pool.map(lambda w: w.deliver_due(h.clock.now()), workers))
    assert sum(r.sent for r in late) == 25

    posted = Counter(outbox_ids_posted(h))
    assert len(posted) == 1000 and set(posted.values()) == {1}
    statuses = Counter(
        row.status for row in rows(h) if row.dedupe_key.startswith(f"promise:{promise_id}:load:")
    )
    assert statuses == {"sent": 1000}


def test_a_message_past_its_expiry_is_cancelled_not_sent(harness: Harness) -> None:
    h = harness
    promise_id = promise_to_contact(h, 0, due="next year")
    with unit_of_work(h.app.sessions) as session:
        for key, expires in (
            ("fresh", THU_10 + timedelta(hours=1)),
            ("stale", THU_10 - timedelta(minutes=1)),
        ):
            outbox_store.enqueue(
                session,
                team_id=TEAM,
                dedupe_key=f"promise:{promise_id}:{key}",
                kind="promise.notice",
                recipient_id=GIVER,
                payload={"promise_id": promise_id, "stage": "heard", "version": 1},
                deliver_after=THU_10 - timedelta(hours=2),
                expires_at=expires,
                created_at=THU_10 - timedelta(hours=2),
            )
    h.clock.set(THU_10)

    report = h.app.services.delivery.deliver_due()

    assert (report.sent, report.cancelled) == (1, 1)
    by_key = {row.dedupe_key.rsplit(":", 1)[1]: row for row in rows(h)}
    assert by_key["fresh"].status == "sent"
    assert (by_key["stale"].status, by_key["stale"].last_error) == (
        "cancelled",
        "too late to be worth sending",
    )


def test_planners_page_through_every_row(harness: Harness, monkeypatch: Any) -> None:
    import bot.services.promises as promises_module

    h = harness
    monkeypatch.setattr(promises_module, "PAGE", 2)  # five overdue promises span three pages
    for n in range(5):
        promise_to_contact(h, n, due="tomorrow 9am")
    h.clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))  # the next working morning after they were due

    h.app.services.delivery.plan()

    nudges = [row for row in rows(h) if row.dedupe_key.endswith(":nudge:1")]
    assert len(nudges) == 5


def _crash_after_sending(h: Harness, compose: Any) -> None:
    """A sender claims what is due, sends it, and dies before it can mark it sent."""
    crashed = DeliveryService(
        sessions=h.app.sessions, clock=h.clock, sender=SlackOutboxSender(_client(h)), owner="crashed"
    )
    for claimed in crashed.claim(h.clock.now()):
        view = compose(claimed)
        assert view is not None
        SlackOutboxSender(_client(h)).send(claimed, view)


def test_a_busy_conversation_does_not_hide_a_message_sent_before_a_crash(harness: Harness) -> None:
    h = harness
    promise_to_contact(h, 1, due="tomorrow 9am")
    h.clock.set(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    _crash_after_sending(h, h.app.services.promises.compose)
    client = _client(h).client
    for n in range(230):  # a busy DM: far more than one page of history since the crash
        client.chat_postMessage(channel="D" + GIVER, text=f"chatter {n}")

    h.clock.set(h.clock.now() + timedelta(minutes=6))
    h.app.services.delivery.tick()

    reminders = [c for c in h.fake.calls_to("chat.postMessage") if "metadata" in c.params]
    assert len(reminders) == 1, "the reminder was sent again"
    assert len(h.fake.calls_to("conversations.history")) >= 2  # it read page after page
    [row] = rows(h)
    assert row.status == "sent"


def test_a_threaded_post_sent_before_a_crash_is_found_in_its_thread(harness: Harness) -> None:
    from bot.services.kudos import KudosRequest

    h = harness
    ts = h.fake.add_message(GENERAL, "U0ANA", "Shipped the hotfix")
    h.app.services.kudos.give(
        KudosRequest(
            team_id=TEAM,
            giver_id=GIVER,
            dedupe_key="reaction:test",
            source="reaction",
            user_ids=("U0ANA",),
            channel_id=GENERAL,
            origin_ts=ts,
        )
    )
    _crash_after_sending(h, h.app.services.kudos.compose_post)

    h.clock.set(h.clock.now() + timedelta(minutes=6))
    h.app.services.delivery.tick()

    posts = [c for c in h.fake.calls_to("chat.postMessage") if c.params.get("channel") == GENERAL]
    assert len(posts) == 1 and posts[0].params["thread_ts"] == ts
    assert h.fake.calls_to("conversations.replies")


def test_a_reminder_taken_over_after_its_promise_was_kept_is_not_sent(harness: Harness) -> None:
    h = harness
    promise_id = promise_to_contact(h, 1, due="tomorrow 9am")
    h.clock.set(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    crashed = DeliveryService(
        sessions=h.app.sessions, clock=h.clock, sender=SlackOutboxSender(_client(h)), owner="crashed"
    )
    assert crashed.claim(h.clock.now())  # claimed, then the sender died before sending

    h.app.services.promises.done(team_id=TEAM, promise_id=promise_id, actor_id=GIVER)
    h.clock.set(h.clock.now() + timedelta(minutes=6))
    report = h.app.services.delivery.tick()

    assert report.sent == 0 and h.fake.calls_to("chat.postMessage") == []
    assert [(row.status, row.last_error) for row in rows(h)] == [("cancelled", "no longer relevant")]


def test_outbox_retry_dead_requeues_in_bulk(harness: Harness, tmp_path: Path) -> None:
    h = harness
    for n in range(3):
        promise_to_contact(h, n)
    h.fake.fail_next("chat.postMessage", "channel_not_found", times=6)
    h.clock.set(THU_10)
    h.app.services.delivery.tick()
    assert {row.status for row in rows(h)} == {"dead"}

    env = {
        "DATABASE_URL": h.app.settings.DATABASE_URL,
        "PATH": "",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    none_yet = subprocess.run(
        [sys.executable, "-m", "bot.cli", "outbox", "retry", "--dead", "--since", "2030-01-01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert none_yet.returncode == 0 and "0 dead rows queued again" in none_yet.stdout
    requeued = subprocess.run(
        [sys.executable, "-m", "bot.cli", "outbox", "retry", "--dead", "--since", "2026-11-18"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert requeued.returncode == 0, requeued.stderr
    assert "6 dead rows queued again" in requeued.stdout
    assert {(row.status, row.attempts) for row in rows(h)} == {("pending", 0)}


def test_a_takeover_whose_check_is_refused_still_checks_before_the_next_try(harness: Harness) -> None:
    h = harness
    promise_to_contact(h, 1, due="tomorrow 9am")
    h.clock.set(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    _crash_after_sending(h, h.app.services.promises.compose)
    h.clock.set(h.clock.now() + timedelta(minutes=6))
    h.fake.rate_limit_next("conversations.history", retry_after=1)  # the look-up itself is refused once
    h.fake.fail_next("conversations.history", "internal_error")  # and then fails once

    for _ in range(3):
        h.app.services.delivery.tick()
        h.clock.set(h.clock.now() + timedelta(minutes=5))

    reminders = [c for c in h.fake.calls_to("chat.postMessage") if "metadata" in c.params]
    assert len(reminders) == 1, f"sent {len(reminders)} times"
    [row] = rows(h)
    assert (row.status, row.maybe_sent) == ("sent", False)


def test_a_server_error_on_sending_is_checked_before_the_retry(harness: Harness) -> None:
    h = harness
    promise_to_contact(h, 1, due="tomorrow 9am")
    h.clock.set(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    h.fake.fail_next("chat.postMessage", "internal_error")  # Slack may or may not have taken it

    h.app.services.delivery.tick()
    [row] = rows(h)
    assert (row.status, row.maybe_sent) == ("pending", True)
    h.clock.set(h.clock.now() + timedelta(seconds=30))
    h.app.services.delivery.tick()

    assert h.fake.calls_to("conversations.history"), "the retry looked before sending"
    assert len([c for c in h.fake.calls_to("chat.postMessage") if c.ok]) == 1


def test_bulk_retry_leaves_alone_what_may_have_gone_out(harness: Harness) -> None:
    h = harness
    promise_to_contact(h, 1, due="tomorrow 9am")
    h.clock.set(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    h.fake.fail_next("chat.postMessage", "channel_not_found")
    h.app.services.delivery.tick()
    with unit_of_work(h.app.sessions) as session:
        [row] = session.scalars(select(OutboxMessage)).all()
        row.last_error = "not_resent_after_crash"

    with unit_of_work(h.app.sessions) as session:
        assert outbox_store.requeue_dead(session, now=h.clock.now(), since=None) == 0
        assert outbox_store.requeue(session, row_id=row.id, now=h.clock.now())  # named: the operator decided
