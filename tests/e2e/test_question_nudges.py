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


def test_a_reply_in_the_thread_or_a_reaction_answers_it(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    first = ask(h)
    second = ask(h, f"<@{BEN}> <@{GIVER}> any news on the contract?", event_id="EvQ2")
    # Ben answers the first in its thread; Gia reacts to the second. Ben's second stays open.
    h.event(
        message_event(
            written(h, "on it", user=BEN, thread_ts=first),
            "on it",
            user=BEN,
            event_id="EvR1",
            thread_ts=first,
            parent_user_id=ANA,
        )
    )
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
        (BEN, second, "open"),
        (GIVER, second, "answered"),
    ]
    tick(h, at_ben(5))
    [nudge] = nudges(h)
    assert "any news on the contract?" in texts(nudge["blocks"])


def test_not_a_question_a_bot_a_dm_or_oneself_is_not_kept(harness: Harness) -> None:
    h = harness
    h.configure(question_nudges=True)
    ask(h, f"<@{BEN}> great work on the launch!", event_id="EvN1")
    ask(h, "could anyone check the numbers?", event_id="EvN2")  # nobody mentioned
    ask(h, ASK, event_id="EvN3", bot_id="BOTHER")
    ask(h, f"<@{ANA}> note to self: what's next?", event_id="EvN4")  # asking yourself
    ask(h, ASK, event_id="EvN5", channel_type="im")
    ask(h, f"<@{BEN}> `is this ok?`", event_id="EvN6")  # a question mark in code only
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
