"""/promise end to end: signed requests in, reminders out through the outbox as the clock moves."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from storage.models import OutboxMessage, Promise
from tests.conftest import ANA, BEN, GENERAL, GIVER, Harness, payload, texts

WED = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # the harness's START


def cmd(h: Harness, text: str, **kwargs: Any) -> Any:
    return h.command(text, name="/promise", **kwargs)


def promise_rows(h: Harness) -> list[Promise]:
    with h.session() as session:
        return list(session.scalars(select(Promise).order_by(Promise.id)))


def outbox(h: Harness) -> list[OutboxMessage]:
    with h.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def dms(h: Harness, user_id: str) -> list[dict[str, Any]]:
    return h.posts(user_id)


def tick(h: Harness, at: datetime) -> None:
    h.clock.set(at)
    h.app.services.delivery.tick()
    h.settle()


def button(
    h: Harness, message: dict[str, Any], action_id: str, *, user_id: str = GIVER, tag: str = "btn"
) -> Any:
    """Clicks `action_id` on a message the fake Slack received."""
    block, element = next(
        (block, e)
        for block in message["blocks"]
        for e in [*block.get("elements", []), block.get("accessory") or {}]
        if isinstance(e, dict) and e.get("action_id") == action_id
    )
    body = payload("block_actions")
    body["user"] = {**body["user"], "id": user_id}
    body["response_url"] = h.fake.response_url(f"{user_id}/{tag}")
    body["trigger_id"] = f"trigger-{tag}"
    body["actions"] = [
        {
            **body["actions"][0],
            "action_id": action_id,
            "block_id": block.get("block_id", "b"),
            "value": element["value"],
            "action_ts": f"{h.clock.now().timestamp():.6f}",
        }
    ]
    return h.interaction(body)


def submit(
    h: Harness, view: dict[str, Any], values: dict[str, Any], *, view_id: str, user_id: str = GIVER
) -> Any:
    body = payload("view_submission")
    body["user"] = {**body["user"], "id": user_id}
    body["view"] = {
        **body["view"],
        "id": view_id,
        "callback_id": view["callback_id"],
        "private_metadata": view.get("private_metadata", ""),
        "state": {"values": values},
    }
    return h.interaction(body)


def test_a_promise_is_heard_reminded_nudged_closed_and_thanked(harness: Harness) -> None:
    h = harness
    reply = cmd(h, "<@U0ANA|ana> send the pricing deck by Friday 3pm", user_id=GIVER)

    # Gia sees the time resolved in her zone (London), with Edit and Cancel.
    assert (
        "You'll get back to <@U0ANA> about *send the pricing deck* by Fri 20 Nov 15:00 (your time)"
        in texts(reply["blocks"])
    )
    actions = [e["action_id"] for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["promise_still_on_it", "promise_cancel"]
    [promise] = promise_rows(h)
    assert (promise.promiser_id, promise.what, promise.due_at, promise.status) == (
        GIVER,
        "send the pricing deck",
        datetime(2026, 11, 20, 15, tzinfo=UTC),
        "open",
    )

    # Ana (New York, 10:00 her time: working hours) is told at once, in her own zone.
    [heard] = dms(h, ANA)
    assert (
        "<@U0GIVER> will get back to you about *send the pricing deck* by Fri 20 Nov 10:00 (your time)."
        in texts(heard["blocks"])
    )
    assert heard["metadata"]["event_type"] == "extramile_outbox"

    # Thursday: nothing for Gia yet. Friday 13:00: the two-hour heads-up. 15:00: it's time.
    tick(h, datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    assert dms(h, GIVER) == []
    tick(h, datetime(2026, 11, 20, 13, 0, tzinfo=UTC))
    [before] = dms(h, GIVER)
    assert "Coming up: <@U0ANA> is waiting on *send the pricing deck* (due Fri 20 Nov 15:00)." in texts(
        before["blocks"]
    )
    assert [e["action_id"] for b in before["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
        "promise_done",
        "promise_still_on_it",
        "promise_snooze_hour",
        "promise_snooze_morning",
        "promise_cancel",
    ]
    tick(h, datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    tick(h, datetime(2026, 11, 20, 15, 0, tzinfo=UTC))  # a second pass at the same instant sends nothing new
    assert len(dms(h, GIVER)) == 2
    assert "It's time" in texts(dms(h, GIVER)[1]["blocks"])

    # The weekend passes quietly; Monday 09:00 London brings one gentle nudge.
    tick(h, datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    tick(h, datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
    assert len(dms(h, GIVER)) == 2
    tick(h, datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    nudge = dms(h, GIVER)[2]
    assert texts(nudge["blocks"]).startswith(
        ":alarm_clock: No rush. <@U0ANA> is waiting on *send the pricing deck*"
    )

    # Done, clicked twice: one close, one message to Ana, and the reminder turns into a receipt.
    h.clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    button(h, nudge, "promise_done", tag="done1")
    button(h, nudge, "promise_done", tag="done2")
    [receipt] = [r for r in h.responses(GIVER) if r["tag"].endswith("done1")]
    assert receipt["replace_original"] is True and "Done: *send the pricing deck*" in receipt["text"]
    [again] = [r for r in h.responses(GIVER) if r["tag"].endswith("done2")]
    assert "already closed (done)" in again["text"] and again["replace_original"] is False
    # It is 04:30 in New York: Ana hears at the start of her working day, 09:00 (14:00 UTC).
    assert len(dms(h, ANA)) == 1
    tick(h, datetime(2026, 11, 23, 13, 59, tzinfo=UTC))
    assert len(dms(h, ANA)) == 1
    tick(h, datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    closed = dms(h, ANA)[1]
    assert "<@U0GIVER> got back to you about *send the pricing deck*: done, 2 days late." in texts(
        closed["blocks"]
    )
    assert len(dms(h, ANA)) == 2
    assert promise_rows(h)[0].status == "done"

    # Later passes send nothing more about a kept promise.
    tick(h, datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    tick(h, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert len(dms(h, GIVER)) == 3 and len(dms(h, ANA)) == 2

    # Ana says thanks: the kudos form opens with Gia and a message filled in.
    button(h, closed, "promise_say_thanks", user_id=ANA, tag="thanks")
    [opened] = h.fake.calls_to("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "kudos_modal"
    assert view["blocks"][0]["element"]["initial_users"] == [GIVER]
    assert (
        view["blocks"][1]["element"]["initial_value"]
        == "Thanks for getting back to me about send the pricing deck!"
    )


def test_the_same_promise_command_twice_is_one_promise(harness: Harness) -> None:
    cmd(harness, "<@U0ANA|ana> the deck tomorrow 10am", trigger_id="1111.2222.p")
    cmd(harness, "<@U0ANA|ana> the deck tomorrow 10am", trigger_id="1111.2222.p")

    assert len(promise_rows(harness)) == 1
    assert len(dms(harness, ANA)) == 1


def test_still_on_it_moves_the_reminders_and_tells_the_person_waiting(harness: Harness) -> None:
    h = harness
    cmd(h, "<@U0ANA|ana> <@U0BEN|ben> the contract review by Thursday 11am")
    tick(h, datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    [before] = dms(h, GIVER)

    button(h, before, "promise_still_on_it", tag="eta")
    [opened] = h.fake.calls_to("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "promise_eta_modal"
    new_eta = int(datetime(2026, 11, 23, 16, 0, tzinfo=UTC).timestamp())
    values = {"promise_eta": {"eta": {"type": "datetimepicker", "selected_date_time": new_eta}}}
    assert submit(h, view, values, view_id="VETA1") is None
    assert submit(h, view, values, view_id="VETA1") is None  # delivered twice

    [promise] = promise_rows(h)
    assert (promise.due_at, promise.version) == (datetime(2026, 11, 23, 16, 0, tzinfo=UTC), 2)
    updates = [r for r in h.responses(GIVER) if r["tag"].endswith("/eta")]
    # The redelivered form re-renders the same receipt; nothing else repeats.
    assert {(u["text"], u["replace_original"]) for u in updates} == {
        (
            ":hourglass_flowing_sand: *the contract review* is now due Mon 23 Nov 16:00. I'll remind you again.",
            True,
        )
    }

    def told(user_id: str) -> list[str]:
        return [texts(m["blocks"]) for m in dms(h, user_id) if "new ETA" in texts(m["blocks"])]

    # It is 04:00 in New York and 18:00 in Tokyo: each hears at the start of their own working day.
    assert told(ANA) == [] and told(BEN) == []
    tick(h, datetime(2026, 11, 19, 11, 0, tzinfo=UTC))  # the old due time: its reminder is gone
    assert len(dms(h, GIVER)) == 1
    tick(h, datetime(2026, 11, 19, 14, 0, tzinfo=UTC))  # 09:00 New York
    assert [t for t in told(ANA) if "the new ETA is Mon 23 Nov 11:00 (your time)" in t] != [] and told(
        BEN
    ) == []
    tick(h, datetime(2026, 11, 20, 0, 0, tzinfo=UTC))  # 09:00 Tokyo
    assert len(told(BEN)) == 1 and "the new ETA is Tue 24 Nov 01:00 (your time)" in told(BEN)[0]

    # The new reminders come on Monday.
    tick(h, datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    assert len(dms(h, GIVER)) == 1
    tick(h, datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    tick(h, datetime(2026, 11, 23, 16, 0, tzinfo=UTC))
    reminders = [texts(m["blocks"]) for m in dms(h, GIVER)]
    assert len(reminders) == 3 and "Coming up" in reminders[1] and "It's time" in reminders[2]
    assert "(due Mon 23 Nov 16:00)" in reminders[2]
    statuses = {row.dedupe_key: row.status for row in outbox(h)}
    assert statuses[f"promise:{promise.id}:v1:due"] == "cancelled"
    assert statuses[f"promise:{promise.id}:v2:due"] == "sent"


def test_snooze_an_hour_and_till_tomorrow_morning(harness: Harness) -> None:
    h = harness
    cmd(h, "<@U0ANA|ana> the numbers today 5pm")
    tick(h, datetime(2026, 11, 18, 17, 0, tzinfo=UTC))
    [due] = dms(h, GIVER)

    button(h, due, "promise_snooze_hour", tag="snooze")
    [snoozed] = [r for r in h.responses(GIVER) if r["tag"].endswith("/snooze")]
    assert "I'll remind you again Wed 18 Nov 18:00" in snoozed["text"]
    tick(h, datetime(2026, 11, 18, 17, 59, tzinfo=UTC))
    assert len(dms(h, GIVER)) == 1
    tick(h, datetime(2026, 11, 18, 18, 0, tzinfo=UTC))
    second = dms(h, GIVER)[1]
    assert "No rush." in texts(second["blocks"])

    button(h, second, "promise_snooze_morning", tag="morning")
    tick(h, datetime(2026, 11, 19, 8, 59, tzinfo=UTC))
    assert len(dms(h, GIVER)) == 2
    tick(h, datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    assert len(dms(h, GIVER)) == 3


def test_cancel_with_a_note(harness: Harness) -> None:
    h = harness
    reply = cmd(h, "<@U0ANA|ana> the intro to Dana by Friday")
    confirmation = {"blocks": reply["blocks"]}

    button(h, confirmation, "promise_cancel", tag="cancel")
    view = h.fake.calls_to("views.open")[0].params["view"]
    submit(
        h,
        view,
        {
            "promise_note": {
                "note": {"type": "plain_text_input", "value": "Dana is away until January, sorry!"}
            }
        },
        view_id="VCANCEL",
    )

    [promise] = promise_rows(h)
    assert promise.status == "cancelled" and promise.close_note == "Dana is away until January, sorry!"
    told = dms(h, ANA)[1]
    assert "can't get back to you about *the intro to Dana* after all" in texts(told["blocks"])
    assert ">Dana is away until January, sorry!" in texts(told["blocks"])
    tick(h, datetime(2026, 11, 20, 17, 0, tzinfo=UTC))
    assert dms(h, GIVER) == []


def test_someone_else_cannot_close_your_promise(harness: Harness) -> None:
    h = harness
    cmd(h, "<@U0ANA|ana> the deck tomorrow 10am")
    tick(h, datetime(2026, 11, 19, 8, 0, tzinfo=UTC))  # two hours before is 08:00, before Gia's day starts
    assert dms(h, GIVER) == []
    tick(h, datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    [before] = dms(h, GIVER)

    button(h, before, "promise_done", user_id=BEN, tag="intruder")

    [refused] = h.responses(BEN)
    assert "Only <@U0GIVER> can update that promise." in refused["text"]
    assert promise_rows(h)[0].status == "open"


def test_refusals_record_nothing(harness: Harness) -> None:
    harness.fake.add_user("U0BOT", "deploybot", is_bot=True)
    cases = {
        "the deck by Friday": "Who are you getting back to?",
        "<@U0GIVER|gia> the deck by Friday": "A promise to yourself is a to-do",
        "<@U0BOT|deploybot> the deck by Friday": "is a bot",
        "<@U0ANA|ana> the deck": "I couldn't tell when",
        "<@U0ANA|ana> the deck by yesterday": "has already passed",
        "<@U0ANA|ana> the deck by 3/4": "could be two dates",
        "<@U0ANA|ana> by Friday": "What will you get back to them about",
    }
    for text, expected in cases.items():
        reply = cmd(harness, text)
        assert expected in reply["text"], (text, reply["text"])
    assert promise_rows(harness) == []
    assert outbox(harness) == []


def test_outside_contact_and_list(harness: Harness) -> None:
    h = harness
    reply = cmd(h, '"Jane at ACME" call back with pricing tomorrow 10am')
    assert "You'll get back to Jane at ACME about *call back with pricing* by Thu 19 Nov 10:00" in texts(
        reply["blocks"]
    )
    cmd(h, "<@U0GIVER|gia> review the slides by Friday 9am", user_id=ANA)

    listing = cmd(h, "list")

    shown = texts(listing["blocks"])
    assert "*call back with pricing* for Jane at ACME, due Thu 19 Nov 10:00" in shown
    # Ana meant 9am in New York: Gia reads it in London time.
    assert "<@U0ANA>: *review the slides*, by Fri 20 Nov 14:00" in shown
    assert {e["action_id"] for b in listing["blocks"] if b["type"] == "actions" for e in b["elements"]} >= {
        "promise_done"
    }
    assert h.fake.calls_to("chat.postMessage") == [
        c for c in h.fake.calls_to("chat.postMessage") if c.params["channel"] == GIVER
    ]


def test_promise_a_follow_up_from_a_message(harness: Harness) -> None:
    h = harness
    ts = h.fake.add_message(GENERAL, ANA, "Could you send me the pricing deck?")
    shortcut = payload("message_action", callback_id="promise_follow_up")
    shortcut["message"] = {**shortcut["message"], "ts": ts, "user": ANA}
    h.interaction(shortcut)
    view = h.fake.calls_to("views.open")[0].params["view"]
    assert view["blocks"][1]["element"]["initial_users"] == [ANA]
    link = h.fake.calls_to("chat.getPermalink")[0].response["permalink"]
    assert json.loads(view["private_metadata"])["context_link"] == link

    due = int(datetime(2026, 11, 20, 15, 0, tzinfo=UTC).timestamp())
    submit(
        h,
        view,
        {
            "promise_promisees": {"promisees": {"type": "multi_users_select", "selected_users": [ANA]}},
            "promise_what": {"what": {"type": "plain_text_input", "value": "the pricing deck"}},
            "promise_due": {"due": {"type": "datetimepicker", "selected_date_time": due}},
        },
        view_id="VPROMISE",
    )

    [promise] = promise_rows(h)
    assert (promise.origin_channel_id, promise.origin_ts, promise.context_link) == (GENERAL, ts, link)
    [confirmation] = dms(h, GIVER)
    assert "about *the pricing deck* by Fri 20 Nov 15:00" in texts(confirmation["blocks"])

    # A new ETA is posted in the thread of the original message, for everyone who saw the ask.
    button(h, confirmation, "promise_still_on_it", tag="eta")
    eta_view = h.fake.calls_to("views.open")[1].params["view"]
    later = int(datetime(2026, 11, 24, 12, 0, tzinfo=UTC).timestamp())
    submit(
        h,
        eta_view,
        {"promise_eta": {"eta": {"type": "datetimepicker", "selected_date_time": later}}},
        view_id="VETA2",
    )
    [in_thread] = [p for p in h.posts(GENERAL) if p.get("thread_ts") == ts]
    # Everyone in the thread reads the time in their own zone.
    expected = f"the new ETA is <!date^{later}^{{date_short_pretty}} at {{time}}|Tue 24 Nov 12:00 UTC>."
    assert f"<@U0GIVER> is still on *the pricing deck*: {expected}" in texts(in_thread["blocks"])


def test_promise_help(harness: Harness) -> None:
    for text in ("", "help"):
        reply = cmd(harness, text)
        assert "/promise @carol send the pricing deck by Friday 3pm" in texts(reply["blocks"])


def test_every_button_and_form_delivered_twice_has_one_effect(harness: Harness) -> None:
    h = harness
    cmd(h, "<@U0ANA|ana> the numbers today 5pm")
    tick(h, datetime(2026, 11, 18, 17, 0, tzinfo=UTC))
    [due] = dms(h, GIVER)

    button(h, due, "promise_snooze_hour", tag="s1")
    button(h, due, "promise_snooze_hour", tag="s2")  # the same click (same action_ts), delivered again
    tick(h, datetime(2026, 11, 18, 18, 0, tzinfo=UTC))
    assert len(dms(h, GIVER)) == 2

    button(h, due, "promise_cancel", tag="c")
    view = h.fake.calls_to("views.open")[-1].params["view"]
    note = {"promise_note": {"note": {"type": "plain_text_input", "value": "sorry"}}}
    submit(h, view, note, view_id="VC")
    again = submit(h, view, note, view_id="VC")
    assert again["response_action"] == "errors" and "already closed" in again["errors"]["promise_note"]
    tick(h, datetime(2026, 11, 19, 14, 0, tzinfo=UTC))
    assert [("after all" in texts(m["blocks"])) for m in dms(h, ANA)] == [False, True]

    ts = h.fake.add_message(GENERAL, ANA, "Could you look at this?")
    shortcut = payload("message_action", callback_id="promise_follow_up")
    shortcut["message"] = {**shortcut["message"], "ts": ts, "user": ANA}
    h.interaction(shortcut)
    form = h.fake.calls_to("views.open")[-1].params["view"]
    values = {
        "promise_promisees": {"promisees": {"type": "multi_users_select", "selected_users": [ANA]}},
        "promise_what": {"what": {"type": "plain_text_input", "value": "a look"}},
        "promise_due": {
            "due": {
                "type": "datetimepicker",
                "selected_date_time": int(datetime(2026, 11, 25, 12, tzinfo=UTC).timestamp()),
            }
        },
    }
    submit(h, form, values, view_id="VP")
    submit(h, form, values, view_id="VP")
    assert [p.what for p in promise_rows(h)] == ["the numbers", "a look"]


def test_overdue_nudges_come_three_working_mornings_then_weekly(harness: Harness) -> None:
    h = harness
    cmd(h, '"Jane" the quote by Friday 3pm')
    sent_at: list[datetime] = []
    day = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    while day < datetime(2026, 12, 20, tzinfo=UTC):
        for hour in (9, 13, 15):
            tick(h, day.replace(hour=hour))
            while len(dms(h, GIVER)) > len(sent_at):
                sent_at.append(h.clock.now())
        day += timedelta(days=1)
    nudges = sent_at[2:]  # after the heads-up and the due reminder
    assert [n.strftime("%a %d %H:%M") for n in nudges] == [
        "Mon 23 09:00",
        "Tue 24 09:00",
        "Wed 25 09:00",
        "Wed 02 09:00",
        "Wed 09 09:00",
        "Wed 16 09:00",
    ]


def test_a_date_without_a_time_is_reminded_that_morning_and_due_at_five(harness: Harness) -> None:
    h = harness
    reply = cmd(h, "<@U0ANA|ana> the draft by Friday", user_id=BEN)  # Ben is in Tokyo
    assert "by Fri 20 Nov 17:00 (your time)" in texts(reply["blocks"])

    tick(h, datetime(2026, 11, 19, 23, 59, tzinfo=UTC))  # Friday 08:59 in Tokyo
    assert dms(h, BEN) == []
    tick(h, datetime(2026, 11, 20, 0, 0, tzinfo=UTC))  # Friday 09:00 in Tokyo: the morning of the day
    assert "Coming up" in texts(dms(h, BEN)[0]["blocks"]) and "(due Fri 20 Nov 17:00)" in texts(
        dms(h, BEN)[0]["blocks"]
    )
    tick(h, datetime(2026, 11, 20, 8, 0, tzinfo=UTC))  # 17:00 in Tokyo
    assert "It's time" in texts(dms(h, BEN)[1]["blocks"])


def test_say_thanks_for_a_promise_made_in_a_dm_asks_where_to_post(harness: Harness) -> None:
    h = harness
    cmd(h, "<@U0ANA|ana> the deck tomorrow 10am", channel_id="D0GIVER")
    h.clock.set(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    [confirmation_holder] = [
        c.params for c in h.fake.calls_to("chat.postMessage") if c.params["channel"] == ANA
    ]
    assert "will get back to you" in texts(confirmation_holder["blocks"])
    tick(h, datetime(2026, 11, 19, 9, 0, tzinfo=UTC))  # Gia's heads-up, an hour before it is due
    button(h, dms(h, GIVER)[0], "promise_done", tag="done")
    tick(h, datetime(2026, 11, 19, 14, 0, tzinfo=UTC))
    closed = dms(h, ANA)[-1]

    button(h, closed, "promise_say_thanks", user_id=ANA, tag="thanks")
    view = h.fake.calls_to("views.open")[-1].params["view"]
    assert [b["block_id"] for b in view["blocks"]] == ["kudos_recipients", "kudos_message", "kudos_channel"]
    values = {
        "kudos_recipients": {"recipients": {"type": "multi_users_select", "selected_users": [GIVER]}},
        "kudos_message": {"message": {"type": "plain_text_input", "value": "Thanks for the deck!"}},
        "kudos_channel": {"channel": {"type": "conversations_select", "selected_conversation": GENERAL}},
    }
    submit(h, view, values, view_id="VTHANKS", user_id=ANA)

    [thanks] = h.posts(GENERAL)
    assert f"<@{ANA}> gave kudos to <@{GIVER}>" in texts(thanks["blocks"])
    assert ">Thanks for the deck!" in texts(thanks["blocks"])


def test_the_heard_you_dm_waits_for_the_promisees_working_hours(harness: Harness) -> None:
    h = harness  # Wednesday 15:00 UTC: midnight in Tokyo, where Ben is

    cmd(h, "<@U0BEN|ben> send the deck by Friday 3pm")

    assert dms(h, BEN) == []
    [heard] = [row for row in outbox(h) if row.recipient_id == BEN]
    assert heard.deliver_after == datetime(2026, 11, 19, 0, 0, tzinfo=UTC)  # 09:00 Thursday in Tokyo
    tick(h, datetime(2026, 11, 18, 23, 59, tzinfo=UTC))
    assert dms(h, BEN) == []
    tick(h, datetime(2026, 11, 19, 0, 0, tzinfo=UTC))
    [dm] = dms(h, BEN)
    assert "will get back to you about *send the deck*" in texts(dm["blocks"])
