"""Promise spotting end to end: a message event in, a private offer out, Track / Change… / Not now /
Don't ask me pressed, over signed HTTP against the fake Slack, on both databases."""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from storage.models import OutboxMessage, PersonSettings, Promise
from tests.conftest import ANA, BEN, GENERAL, GIVER, START, Harness, payload, texts
from tests.e2e.test_promises import button, submit, tick

PROMISE = f"<@{ANA}> I'll send you the pricing deck by Friday"
# Gia is in London: "by Friday" is Friday 20 November at 17:00 her time (GMT).
FRIDAY_FIVE = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
_SEQUENCE = itertools.count(1)


def written(
    h: Harness, text: str, *, user: str = GIVER, ago: timedelta = timedelta(seconds=5), **more: Any
) -> str:
    """A message a person just wrote in #general, as the fake holds it: its ts (unique, as Slack's are)."""
    ts = f"{int((h.clock.now() - ago).timestamp())}.{next(_SEQUENCE):06d}"
    return h.fake.add_message(GENERAL, user, text, ts=ts, thread_ts=more.get("thread_ts"))


def message_event(
    ts: str, text: str, *, user: str = GIVER, event_id: str = "EvMSG1", **fields: Any
) -> dict[str, Any]:
    envelope = payload("message", event_id=event_id)
    envelope["event"] = {**envelope["event"], "text": text, "user": user, "ts": ts, "event_ts": ts, **fields}
    return envelope


def say(h: Harness, text: str, *, user: str = GIVER, event_id: str = "EvMSG1", **fields: Any) -> str:
    """`user` writes `text` in #general and Slack tells the bot; the ts of the message."""
    ts = written(h, text, user=user, thread_ts=fields.get("thread_ts"))
    h.event(message_event(ts, text, user=user, event_id=event_id, **fields))
    return ts


def offers(h: Harness) -> list[dict[str, Any]]:
    return [call.params for call in h.fake.calls_to("chat.postEphemeral") if call.ok]


def offer_rows(h: Harness) -> list[OutboxMessage]:
    with h.session() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "promise.offer")))


@dataclass(frozen=True)
class Made:
    promiser_id: str | None
    promisee_ids: list[str]
    what: str
    due_at: datetime
    date_only: bool
    origin_channel_id: str | None
    origin_ts: str | None
    context_link: str | None


def promises(h: Harness) -> list[Made]:
    with h.session() as session:
        return [
            Made(
                promiser_id=p.promiser_id,
                promisee_ids=[row.user_id for row in p.promisees],
                what=p.what,
                due_at=p.due_at,
                date_only=p.date_only,
                origin_channel_id=p.origin_channel_id,
                origin_ts=p.origin_ts,
                context_link=p.context_link,
            )
            for p in session.scalars(select(Promise).order_by(Promise.id))
        ]


def responses(h: Harness, tag: str) -> list[dict[str, Any]]:
    return [call.params for call in h.fake.calls_to("response_url") if call.params["tag"] == f"{GIVER}/{tag}"]


def test_spotting_is_off_until_an_admin_turns_it_on(harness: Harness) -> None:
    h = harness
    say(h, PROMISE)
    assert offers(h) == [] and offer_rows(h) == []

    h.configure(spot_promises=True)
    say(h, PROMISE, event_id="EvMSG2")
    assert len(offers(h)) == 1


def test_a_promise_is_offered_once_privately_and_tracked_in_one_click(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    ts = say(h, PROMISE)
    h.event(message_event(ts, PROMISE), retry_num=1)  # Slack's retry
    h.event(message_event(ts, PROMISE, event_id="EvMSG9"))  # the same message under a new event id

    [offer] = offers(h)
    assert (offer["channel"], offer["user"], offer.get("thread_ts")) == (GENERAL, GIVER, None)
    assert f"Track this as a promise to <@{ANA}>, due Fri 20 Nov 17:00?" in texts(offer["blocks"])
    actions = [e["action_id"] for b in offer["blocks"] for e in b.get("elements", []) if "action_id" in e]
    assert actions == ["offer_track", "offer_change", "offer_not_now", "offer_stop"]
    assert h.fake.calls_to("chat.postMessage") == []  # nothing public, nothing to Ana yet
    # What is kept is ids, never the words.
    [row] = offer_rows(h)
    assert "pricing" not in json.dumps(row.payload)
    assert row.payload["message_ts"] == ts and row.recipient_id == GIVER

    button(h, offer, "offer_track", tag="track")
    button(h, offer, "offer_track", tag="track2")  # a double click

    [promise] = promises(h)
    assert (promise.promiser_id, promise.promisee_ids, promise.due_at, promise.date_only) == (
        GIVER,
        [ANA],
        FRIDAY_FIVE,
        True,
    )
    assert "pricing deck" in promise.what and "Friday" not in promise.what
    link = h.fake.calls_to("chat.getPermalink")[0].response["permalink"]
    assert (promise.origin_channel_id, promise.origin_ts, promise.context_link) == (GENERAL, ts, link)
    [confirmation] = responses(h, "track")
    assert confirmation["replace_original"] is True
    assert "Got it. You'll get back to <@U0ANA> about *" in texts(confirmation["blocks"])
    # From here it is an ordinary promise: Ana hears it was heard, in her working hours.
    tick(h, START + timedelta(minutes=1))
    [heard] = h.posts(ANA)
    assert "pricing deck" in texts(heard["blocks"])


def test_an_answer_in_a_thread_is_offered_there_as_a_promise_to_whoever_asked(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    question = written(h, "Could someone send me the Q3 numbers?", user=BEN, ago=timedelta(minutes=2))
    text = "will send them over tomorrow morning"
    say(h, text, thread_ts=question, parent_user_id=BEN)

    [offer] = offers(h)
    assert offer["thread_ts"] == question
    assert f"Track this as a promise to <@{BEN}>, due Thu 19 Nov 09:00?" in texts(offer["blocks"])
    button(h, offer, "offer_track", tag="track")
    [promise] = promises(h)
    assert promise.promisee_ids == [BEN] and promise.due_at == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)


def test_what_is_not_a_promise_by_its_author_gets_no_offer(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    cases = [
        ("can you send me the deck by Friday?", {}),
        ("Ben will send it by Friday", {}),
        ("I sent the deck yesterday", {}),
        ("I can't get to it this week", {}),
        ("I'll be out tomorrow", {}),
        (PROMISE, {"bot_id": "BOTHER"}),  # a bot's message
        (PROMISE, {"subtype": "message_changed"}),  # an edit
        (PROMISE, {"subtype": "channel_join"}),
        (PROMISE, {"channel_type": "mpim"}),  # a group DM the manifest does not read
    ]
    for number, (text, fields) in enumerate(cases):
        say(h, text, event_id=f"EvNO{number}", **fields)
    assert offers(h) == [] and offer_rows(h) == []


def test_an_old_message_a_replay_is_not_offered(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    ts = written(h, PROMISE, ago=timedelta(minutes=30))
    h.event(message_event(ts, PROMISE))
    assert offers(h) == [] and offer_rows(h) == []


def test_a_message_deleted_before_the_offer_is_shown_gets_none(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    h.fake.fail_next("chat.postEphemeral", "ratelimited")  # the first try fails; the next pass shows it
    ts = say(h, PROMISE)
    assert offers(h) == []
    h.fake.delete_message(GENERAL, ts)

    tick(h, START + timedelta(minutes=2))

    assert offers(h) == []
    [row] = offer_rows(h)
    assert row.status == "cancelled"


def test_an_edited_message_is_offered_as_it_reads_now(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    h.fake.fail_next("chat.postEphemeral", "ratelimited")
    ts = say(h, PROMISE)
    h.fake.edit_message(GENERAL, ts, f"<@{ANA}> I'll send you the pricing deck by Monday")

    tick(h, START + timedelta(minutes=2))

    [offer] = offers(h)
    assert "due Mon 23 Nov 17:00" in texts(offer["blocks"])


def test_dont_ask_me_stops_the_offers_for_that_person_only(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    say(h, PROMISE)
    [offer] = offers(h)

    button(h, offer, "offer_stop", tag="stop")

    [reply] = responses(h, "stop")
    assert "I won't offer to track what you write" in reply["text"] and reply["replace_original"] is True
    with h.session() as session:
        [settings] = session.scalars(select(PersonSettings)).all()
        assert (settings.user_id, settings.promise_offers) == (GIVER, False)
    say(h, f"<@{BEN}> I'll review your PR by tomorrow", event_id="EvMSG2")
    say(h, f"<@{GIVER}> I'll review your PR by tomorrow", user=ANA, event_id="EvMSG3")
    assert [o["user"] for o in offers(h)] == [GIVER, ANA]
    assert promises(h) == []


def test_not_now_takes_the_offer_away_and_records_nothing(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    say(h, PROMISE)
    [offer] = offers(h)

    button(h, offer, "offer_not_now", tag="later")

    [reply] = responses(h, "later")
    assert reply["delete_original"] is True
    assert promises(h) == []


def test_change_opens_the_form_filled_in_and_tracks_what_was_edited(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    ts = say(h, PROMISE)
    [offer] = offers(h)

    button(h, offer, "offer_change", tag="change")

    [opened] = h.fake.calls_to("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "promise_modal"
    assert view["blocks"][1]["element"]["initial_users"] == [ANA]
    assert "pricing deck" in view["blocks"][2]["element"]["initial_value"]
    assert view["blocks"][3]["element"]["initial_date_time"] == int(FRIDAY_FIVE.timestamp())
    monday = int(datetime(2026, 11, 23, 12, 0, tzinfo=UTC).timestamp())
    values = {
        "promise_promisees": {"promisees": {"type": "multi_users_select", "selected_users": [ANA, BEN]}},
        "promise_what": {"what": {"type": "plain_text_input", "value": "the pricing deck, with Q4"}},
        "promise_due": {"due": {"type": "datetimepicker", "selected_date_time": monday}},
    }
    submit(h, view, values, view_id="VOFFER1")
    submit(h, view, values, view_id="VOFFER2")  # the form sent twice
    button(h, offer, "offer_track", tag="track")  # and Track pressed after all

    [promise] = promises(h)
    assert (promise.what, promise.promisee_ids, promise.origin_ts) == (
        "the pricing deck, with Q4",
        [ANA, BEN],
        ts,
    )
    assert promise.due_at == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    [confirmation, *_] = responses(h, "change")
    assert "*the pricing deck, with Q4*" in texts(confirmation["blocks"])
    assert h.posts(GIVER) == []  # the offer's place holds the confirmation: no DM besides


def test_a_promise_to_nobody_in_particular_asks_who_is_waiting(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    say(h, "I'll send the notes by Friday")

    [offer] = offers(h)
    assert "Track this as a promise, due Fri 20 Nov 17:00? Pick who's waiting" in texts(offer["blocks"])
    actions = [e["action_id"] for b in offer["blocks"] for e in b.get("elements", []) if "action_id" in e]
    assert actions == ["offer_change", "offer_not_now", "offer_stop"]


def test_the_words_offered_are_escaped(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    # As Slack sends it: a typed "<b>" arrives as &lt;b&gt;, an @channel as <!channel>.
    say(h, f"<@{ANA}> I'll send the &lt;b&gt; &amp; <!channel> notes by Friday")

    [offer] = offers(h)
    quoted = offer["blocks"][0]["text"]["text"].split("\n>", 1)[1]
    assert quoted == "send the &lt;b&gt; &amp; notes"  # an @channel is no part of a title
    button(h, offer, "offer_track", tag="track")
    [promise] = promises(h)
    assert promise.what == "send the <b> & notes"


def test_a_forged_or_garbled_track_changes_nothing(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    say(h, PROMISE)
    [offer] = offers(h)
    garbled = copy.deepcopy(offer)
    for block in garbled["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == "offer_track":
                element["value"] = '{"c": "C0GENERAL"'

    button(h, garbled, "offer_track", tag="bad")

    [reply] = responses(h, "bad")
    assert "/promise @person" in reply["text"]
    assert promises(h) == []


def test_a_promise_written_in_the_bots_dm_is_offered_there(harness: Harness) -> None:
    h = harness
    h.configure(spot_promises=True)
    dm = f"D{GIVER}"
    ts = f"{int((h.clock.now() - timedelta(seconds=3)).timestamp())}.{next(_SEQUENCE):06d}"
    h.fake.add_message(dm, GIVER, PROMISE, ts=ts)
    h.event(message_event(ts, PROMISE, channel=dm, channel_type="im"))

    [offer] = offers(h)
    assert (offer["channel"], offer["user"]) == (dm, GIVER)
    assert f"Track this as a promise to <@{ANA}>" in texts(offer["blocks"])


def test_extramile_tick_shows_an_offer_slack_refused_at_first(
    harness: Harness, database_url: str, tmp_path: Any
) -> None:
    """Slack said "slow down" when the offer was first shown; `extramile tick` (its own process, as cron or
    an operator runs it) shows it a moment later, once, and the offer's Track still works."""
    from tests.test_cli import clean_env, extramile

    h = harness
    h.configure(spot_promises=True)
    h.fake.rate_limit_next("chat.postEphemeral", retry_after=30)
    say(h, PROMISE)
    assert offers(h) == []
    env = clean_env(
        tmp_path,
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-cli",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=h.fake.url,
    )

    soon = extramile("tick", "--at", (START + timedelta(seconds=10)).isoformat(), env=env, cwd=tmp_path)
    later = extramile("tick", "--at", (START + timedelta(minutes=1)).isoformat(), env=env, cwd=tmp_path)
    again = extramile("tick", "--at", (START + timedelta(minutes=2)).isoformat(), env=env, cwd=tmp_path)

    assert (soon.returncode, later.returncode, again.returncode) == (0, 0, 0), later.stderr
    assert later.stdout.endswith("extramile: planned 0, sent 1, rescheduled 0, dead 0, cancelled 0\n")
    [offer] = offers(h)
    assert f"Track this as a promise to <@{ANA}>, due Fri 20 Nov 17:00?" in texts(offer["blocks"])
    button(h, offer, "offer_track", tag="track")
    assert [p.promisee_ids for p in promises(h)] == [[ANA]]
