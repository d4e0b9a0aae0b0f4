"""Unanswered questions end to end: a question that @mentions someone arrives as a signed message event,
`extramile tick` passes as the clock moves, and the person asked gets one private nudge in their own
working hours, with Open, I'm on it and Dismiss; on both databases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from storage.models import OutboxMessage, Promise, Question
from tests.conftest import ANA, BEN, GENERAL, GIVER, START, Harness, payload, texts
from tests.e2e.test_promise_offers import message_event, written
from tests.e2e.test_promises import button, tick

# Ana (New York) asks Ben (Tokyo); Gia is in London. START is Wed 15:00 UTC: 10:00 in New York,
# 00:00 on Thursday in Tokyo, where Ben's working day starts at 09:00 (00:00 UTC).
ASK = f"<@{BEN}> could you check the Q3 numbers before the board call?"
BEN_THU_NINE = datetime(2026, 11, 19, 0, 0, tzinfo=UTC)


def ask(h: Harness, text: str = ASK, *, user: str = ANA, event_id: str = "EvQ1", **fields: Any) -> str:
    ts = written(h, text, user=user, thread_ts=fields.get("thread_ts"))
    h.event(message_event(ts, text, user=user, event_id=event_id, **fields))
    return ts


@dataclass(frozen=True)
class Kept:
    asker_id: str
    asked_id: str
    status: str
    message_ts: str


def questions(h: Harness) -> list[Kept]:
    with h.session() as session:
        return [
            Kept(q.asker_id, q.asked_id, q.status, q.message_ts)
            for q in session.scalars(select(Question).order_by(Question.id))
        ]


def nudges(h: Harness, user_id: str = BEN) -> list[dict[str, Any]]:
    return [p for p in h.posts(user_id) if "asked you" in p.get("text", "")]


def at_ben(hours: float) -> datetime:
    """`hours` into Ben's Thursday (from 09:00 in Tokyo)."""
    return BEN_THU_NINE + timedelta(hours=hours)


def test_nudges_are_off_until_an_admin_turns_them_on(harness: Harness) -> None:
    h = harness
    ask(h)
    assert questions(h) == []

    h.configure(question_nudges=True)
    ask(h, event_id="EvQ2")
    assert [(q.asker_id, q.asked_id, q.status) for q in questions(h)] == [(ANA, BEN, "open")]


def test_after_four_of_their_working_hours_one_nudge_then_on_it(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    ts = ask(h)
    h.event(message_event(ts, ASK, user=ANA, event_id="EvQ1"), retry_num=1)
    h.event(message_event(ts, ASK, user=ANA, event_id="EvQ9"))  # the same message, a new event id
    [kept] = questions(h)
    with h.session() as session:
        [row] = session.scalars(select(Question)).all()
        # Kept: where and who, never the words.
        assert "Q3" not in " ".join(str(value) for value in row.__dict__.values())

    # Four hours later it is night in Tokyo: nothing. Ben's day starts at 09:00; four working hours later,
    # 13:00, the nudge.
    tick(h, START + timedelta(hours=4))
    tick(h, at_ben(3.9))
    assert nudges(h) == []
    tick(h, at_ben(4))
    tick(h, at_ben(4.5))
    [nudge] = nudges(h)
    shown = texts(nudge["blocks"])
    assert (
        f"<@{ANA}> asked you 13 h ago: “<@{BEN}> could you check the Q3 numbers before the board call?”"
        in shown
    )
    actions = [e["action_id"] for b in nudge["blocks"] for e in b.get("elements", []) if "action_id" in e]
    assert actions == ["question_open", "question_on_it", "question_dismiss"]
    link = h.fake.calls_to("chat.getPermalink")[0].response["permalink"]
    assert nudge["blocks"][1]["elements"][0]["url"] == link
    # Two working hours from the nudge: 15:00 in Tokyo.
    assert "I'm on it: reply by Thu 19 Nov 15:00" in nudge["blocks"][1]["elements"][1]["text"]["text"]

    button(h, nudge, "question_on_it", user_id=BEN, tag="onit")
    button(h, nudge, "question_on_it", user_id=BEN, tag="onit2")  # a double click
    h.settle()
    tick(h, at_ben(4.6))

    [in_thread] = [p for p in h.posts(GENERAL) if p.get("thread_ts") == ts]
    assert f"<@{ANA}>, <@{BEN}> saw your question and will reply by <!date^" in texts(in_thread["blocks"])
    with h.session() as session:
        [promise] = session.scalars(select(Promise)).all()
        assert (promise.promiser_id, [p.user_id for p in promise.promisees]) == (BEN, [ANA])
        assert promise.due_at == at_ben(6) and promise.origin_ts == ts
    assert [q.status for q in questions(h)] == ["on_it"]
    assert h.posts(ANA) == []  # told in the thread, not by DM as well
    replies = [c.params for c in h.fake.calls_to("response_url") if c.params["tag"] == f"{BEN}/onit"]
    assert "knows you're on it" in replies[0]["text"]
    # One nudge per question, however many passes follow.
    tick(h, at_ben(5))
    assert len(nudges(h)) == 1
    assert kept.message_ts == ts


def test_a_reply_in_the_thread_or_a_reaction_answers_it_for_everyone_asked(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    first = ask(h)
    second = ask(h, f"<@{BEN}> <@{GIVER}> can one of you sign the contract?", event_id="EvQ2")
    third = ask(h, f"<@{BEN}> any news on the offsite?", event_id="EvQ3")
    # Ben answers the first in its thread; Gia reacts to the second, which asked them both.
    reply = written(h, "on it", user=BEN, thread_ts=first)
    h.event(message_event(reply, "on it", user=BEN, event_id="EvR1", thread_ts=first, parent_user_id=ANA))
    reaction = payload("reaction_added", event_id="EvR2")
    reaction["event"] = {
        **reaction["event"],
        "user": GIVER,
        "reaction": "eyes",
        "item_user": ANA,
        "item": {"type": "message", "channel": GENERAL, "ts": second},
    }
    h.event(reaction)

    assert [(q.asked_id, q.message_ts, q.status) for q in questions(h)] == [
        (BEN, first, "answered"),
        (BEN, second, "answered"),
        (GIVER, second, "answered"),
        (BEN, third, "open"),
    ]
    tick(h, at_ben(5))
    [nudge] = nudges(h)
    assert "any news on the offsite?" in texts(nudge["blocks"])


def test_not_a_question_a_bot_a_dm_or_oneself_is_not_kept(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    ask(h, f"<@{BEN}> great work on the launch!", event_id="EvN1")
    ask(h, "could anyone check the numbers?", event_id="EvN2")  # nobody mentioned
    ask(h, ASK, event_id="EvN3", bot_id="BOTHER")
    ask(h, f"<@{ANA}> note to self: what's next?", event_id="EvN4")  # asking yourself
    ask(h, ASK, event_id="EvN5", channel_type="im")
    ask(h, f"<@{BEN}> `is this ok?`", event_id="EvN6")  # a question mark in code only
    for number, statement in enumerate(
        ["will do, thanks", "Do not merge yet", "What a launch!", "Has been deployed, thanks", "is live now"]
    ):
        ask(h, f"<@{BEN}> {statement}", event_id=f"EvS{number}")
    many = " ".join(f"<@U0P{n:03d}>" for n in range(6))
    ask(h, f"{many} can you all fill in the survey?", event_id="EvN7")  # an announcement
    assert questions(h) == []


def test_a_deleted_question_gets_no_nudge(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    ts = ask(h)
    deletion = payload("message_deleted", event_id="EvDEL")
    deletion["event"] = {**deletion["event"], "deleted_ts": ts, "previous_message": {"ts": ts}}
    h.event(deletion)

    tick(h, at_ben(5))
    assert nudges(h) == [] and [q.status for q in questions(h)] == ["gone"]


def test_deleted_after_the_nudge_was_planned_it_is_not_sent(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    h.fake.fail_next("chat.postMessage", "ratelimited")
    ts = ask(h)
    tick(h, at_ben(4))
    assert nudges(h) == []
    h.fake.delete_message(GENERAL, ts)  # Slack did not tell us, or we missed it

    tick(h, at_ben(4.2))
    assert nudges(h) == []
    with h.session() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "question.nudge")).all()
        assert row.status == "cancelled"


def test_at_most_the_daily_cap_then_the_next_working_morning(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True, question_daily_cap=2)
    for number in range(3):
        ask(h, f"<@{BEN}> question number {number}?", event_id=f"EvC{number}")

    tick(h, at_ben(4))
    tick(h, at_ben(6))
    assert len(nudges(h)) == 2
    assert sorted(q.status for q in questions(h)) == ["nudged", "nudged", "open"]
    # Friday morning in Tokyo: the third.
    tick(h, at_ben(24))
    assert len(nudges(h)) == 3


def test_dismiss_ends_it_and_only_the_person_asked_can(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    ask(h)
    tick(h, at_ben(4))
    [nudge] = nudges(h)

    button(h, nudge, "question_dismiss", user_id=GIVER, tag="notmine")
    button(h, nudge, "question_on_it", user_id=GIVER, tag="notmine2")
    assert [q.status for q in questions(h)] == ["nudged"]
    button(h, nudge, "question_dismiss", user_id=BEN, tag="dismiss")

    assert [q.status for q in questions(h)] == ["dismissed"]
    [reply] = [c.params for c in h.fake.calls_to("response_url") if c.params["tag"] == f"{BEN}/dismiss"]
    assert "won't bring this question up again" in reply["text"]
    refusals = [
        c.params["text"] for c in h.fake.calls_to("response_url") if c.params["tag"].startswith(GIVER)
    ]
    assert all("only they can answer it" in text for text in refusals) and len(refusals) == 2
    button(h, nudge, "question_on_it", user_id=BEN, tag="late")
    [late] = [c.params for c in h.fake.calls_to("response_url") if c.params["tag"] == f"{BEN}/late"]
    assert "You dismissed this question" in late["text"]
    with h.session() as session:
        assert session.scalars(select(Promise)).all() == []


def test_the_quote_is_escaped(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    ask(h, f"<@{BEN}> <!channel> is <https://evil.example|this> &lt;ok&gt;?")
    tick(h, at_ben(4))
    [nudge] = nudges(h)
    shown = nudge["blocks"][0]["text"]["text"]
    assert "<!channel>" not in shown and "<https://evil.example" not in shown
    assert "@channel is this (https://evil.example) &lt;ok&gt;?" in shown


def test_a_pass_outside_their_hours_waits_for_their_next_morning(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    ask(h)

    tick(h, at_ben(11))  # 20:00 in Tokyo: the wait is over, but Ben's day is too
    assert nudges(h) == []
    tick(h, at_ben(23.9))
    assert nudges(h) == []
    tick(h, at_ben(24))  # Friday 09:00 in Tokyo
    assert len(nudges(h)) == 1


def test_away_people_are_nudged_when_back(harness: Harness) -> None:
    from datetime import date

    from bot.services.people import Preferences

    h = harness
    h.configure(question_nudges=True)
    h.app.services.people.save_preferences("T0001", BEN, Preferences(away_until=date(2026, 11, 19)))
    ask(h)

    tick(h, at_ben(5))
    assert nudges(h) == []
    tick(h, at_ben(24))  # back on Friday
    assert len(nudges(h)) == 1


def test_extramile_tick_sends_the_nudge_from_its_own_process(
    harness: Harness, database_url: str, tmp_path: Any
) -> None:
    """The question comes in as a signed event; `extramile tick --at` (a separate process, as cron or an
    operator runs it) plans and sends the nudge, once."""
    from tests.test_cli import clean_env, extramile

    h = harness
    h.configure(question_nudges=True)
    ask(h)
    h.fake.add_user(BEN, "ben", real_name="Ben Berg", tz="Asia/Tokyo")
    env = clean_env(
        tmp_path,
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-cli",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=h.fake.url,
    )

    early = extramile("tick", "--at", at_ben(3.5).isoformat(), env=env, cwd=tmp_path)
    first = extramile("tick", "--at", at_ben(4).isoformat(), env=env, cwd=tmp_path)
    again = extramile("tick", "--at", at_ben(4.5).isoformat(), env=env, cwd=tmp_path)

    assert (early.returncode, first.returncode, again.returncode) == (0, 0, 0), first.stderr
    assert first.stdout.endswith("extramile: planned 1, sent 1, rescheduled 0, dead 0, cancelled 0\n")
    [nudge] = nudges(h)
    assert f"<@{ANA}> asked you 13 h ago" in texts(nudge["blocks"])
    assert [q.status for q in questions(h)] == ["nudged"]


def test_a_question_asked_in_a_thread_is_nudged_and_answered_there(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    start = written(h, "Planning the offsite", user=GIVER, ago=timedelta(minutes=1))
    text = f"<@{BEN}> could you book the venue?"
    asked = ask(h, text, thread_ts=start, parent_user_id=GIVER)

    tick(h, at_ben(4))
    [nudge] = nudges(h)
    assert "could you book the venue?" in texts(nudge["blocks"])
    button(h, nudge, "question_on_it", user_id=BEN, tag="onit")
    tick(h, at_ben(4.1))
    [heard] = [p for p in h.posts(GENERAL) if p.get("thread_ts") == start]
    assert f"<@{BEN}> saw your question" in texts(heard["blocks"])
    with h.session() as session:
        [row] = session.scalars(select(Question)).all()
        assert (row.message_ts, row.thread_ts, row.status) == (asked, start, "on_it")


def test_nobody_is_nudged_about_a_private_channel_they_are_not_in(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    h.fake.add_channel("G0HR", "hr", is_private=True, members=[ANA, GIVER])
    text = f"should we tell <@{BEN}> about the reorg? <@{GIVER}> what do you think?"
    ts = f"{int((h.clock.now() - timedelta(seconds=5)).timestamp())}.000777"
    h.fake.add_message("G0HR", ANA, text, ts=ts)
    h.event(message_event(ts, text, user=ANA, channel="G0HR", channel_type="group"))

    assert sorted((q.asked_id, q.status) for q in questions(h)) == [(BEN, "dropped"), (GIVER, "open")]
    tick(h, at_ben(34))  # Friday 10:00 in London, where Gia works
    assert nudges(h) == [] and len(nudges(h, GIVER)) == 1


def test_an_answer_we_did_not_hear_of_means_no_nudge(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    ts = ask(h)
    # Ben replied in the thread, but the event never reached us (an outage, a lost retry).
    written(h, "done, see the sheet", user=BEN, thread_ts=ts, ago=timedelta(seconds=1))

    tick(h, at_ben(4))
    assert nudges(h) == []
    with h.session() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "question.nudge")).all()
        assert row.status == "cancelled"
    assert [q.status for q in questions(h)] == ["dropped"]


def test_a_nudge_that_cannot_go_today_ends_the_question(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    ask(h)
    h.fake.fail_next("chat.postMessage", "ratelimited", times=50)  # Slack says slow down all afternoon

    tick(h, at_ben(4))
    tick(h, at_ben(10))  # 19:00 in Tokyo: past Ben's working day, the nudge is dropped
    tick(h, at_ben(24))
    assert nudges(h) == []
    assert [q.status for q in questions(h)] == ["dropped"]


def test_the_daily_cap_holds_when_replicas_plan_at_once(harness: Harness) -> None:
    """Four planners (as four replicas would) at the same instant: three nudges, never more."""
    import threading

    h = harness
    h.configure(question_nudges=True, question_daily_cap=3)
    for number in range(8):
        ask(h, f"<@{BEN}> question {number}?", event_id=f"EvP{number}")
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def plan() -> None:
        barrier.wait()
        try:
            h.app.services.delivery.plan(at_ben(4))
        except BaseException as error:  # a deadlock or a lost update would show here
            failures.append(error)

    threads = [threading.Thread(target=plan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert failures == []
    with h.session() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "question.nudge")).all()
        assert len(rows) == 3
    assert sorted(q.status for q in questions(h)) == ["nudged"] * 3 + ["open"] * 5


def test_a_deleted_question_with_replies_is_a_tombstone_and_gets_no_nudge(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    ts = ask(h)
    written(h, "+1, curious too", user=GIVER, thread_ts=ts, ago=timedelta(seconds=1))
    h.fake.delete_message(GENERAL, ts)  # Slack keeps "This message was deleted." for the thread

    tick(h, at_ben(4))
    assert nudges(h) == [] and [q.status for q in questions(h)] == ["dropped"]
