"""Promises in Microsoft Teams, end to end: typed to ExtraMile, the person waiting told in their own chat,
the promiser reminded as the clock moves, and the reminder's buttons (inline forms for a new ETA, a
cancel note and a thank-you) answered with the card in the pressed one's place."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from bot.services.delivery import Digest
from bot.services.people import Preferences
from bot.services.promises import PromiseNotice, PromiseView
from handlers.teams.outbox import render
from handlers.teams.promise_cards import MAX_CARD_BYTES
from storage.models import Kudos, OutboxMessage, Promise
from tests.teams.conftest import ANA, BEN, GENERAL, GIA, TEAM, Answer, TeamsHarness, card_text

CARD = "application/vnd.microsoft.card.adaptive"
MESSAGE = "application/vnd.microsoft.activity.message"


# ---------------------------------------------------------------- helpers (test_checkins uses them too)


def chat(user_id: str) -> str:
    """A person's 1:1 conversation, as the fixture's activities name it."""
    return f"a:1chat-{user_id}"


def tick(teams: TeamsHarness, at: datetime) -> None:
    """The scheduler's pass at `at`: plan what is due, send it."""
    teams.clock.set(at)
    teams.app.services.delivery.tick()
    teams.settle()


def shown(card: dict[str, Any]) -> str:
    """A card's words, a line per block (the runs of a RichTextBlock make one line), inputs shown as
    `<id=value>` and buttons as `[title]`."""
    lines: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not isinstance(node, dict):
            return
        kind = str(node.get("type", ""))
        if kind == "RichTextBlock":
            lines.append("".join(inline.get("text", "") for inline in node.get("inlines", [])))
        elif kind == "TextBlock":
            lines.append(node["text"])
        elif kind.startswith("Input."):
            lines.append(f"<{node['id']}={node.get('value', '')}>")
        elif kind.startswith("Action."):
            lines.append(f"[{node['title']}]")
            walk(node.get("card", {}).get("body", []))
            walk(node.get("card", {}).get("actions", []))
            return
        for key, value in node.items():
            if key not in ("msteams", "card"):
                walk(value)

    walk(card.get("body", []))
    walk(card.get("actions", []))
    return "\n".join(lines)


def first_line(card: dict[str, Any]) -> str:
    return shown(card).splitlines()[0]


def actions(card: dict[str, Any]) -> list[str]:
    """The titles of a card's own buttons (not those inside its forms)."""
    return [action["title"] for action in card.get("actions", [])]


def execute_of(card: dict[str, Any], verb: str, nth: int = 0) -> tuple[dict[str, Any], list[str]]:
    """The `nth` Action.Execute with `verb` in a card: its data, and the ids of the inputs Teams would
    collect with it (those of the form it sits in, and of the card)."""
    found: list[tuple[dict[str, Any], list[str]]] = []

    def inputs(node: Any) -> list[str]:
        if isinstance(node, list):
            return [i for child in node for i in inputs(child)]
        if not isinstance(node, dict):
            return []
        own = [node["id"]] if str(node.get("type", "")).startswith("Input.") else []
        return own + [i for key, value in node.items() if key != "card" for i in inputs(value)]

    def walk(node: Any, ids: list[str]) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child, ids)
        elif isinstance(node, dict):
            if node.get("type") == "Action.Execute" and node.get("verb") == verb:
                found.append((node.get("data") or {}, ids))
            if node.get("type") == "Action.ShowCard":
                walk(node["card"], ids + inputs(node["card"].get("body", [])))
                return
            for value in node.values():
                walk(value, ids)

    walk(card, inputs(card.get("body", [])))
    return found[nth]


def submit(
    teams: TeamsHarness,
    card: dict[str, Any],
    verb: str,
    *,
    nth: int = 0,
    user_id: str = GIA,
    **values: str,
) -> Answer:
    """Presses a button of `card`, with `values` typed into its form's inputs (by the start of their ids),
    as Teams sends it: the action's data and the inputs' values in one object."""
    data, ids = execute_of(card, verb, nth)
    typed = {}
    for name, value in values.items():
        [input_id] = [i for i in ids if i == name + data.get("slot", "")]
        typed[input_id] = value
    return teams.press(verb, {**data, **typed}, user_id=user_id)


def answered_card(answer: Answer) -> dict[str, Any]:
    """The card an invoke answered with (it takes the pressed card's place)."""
    assert answer.status == 200 and answer.body["type"] == CARD, answer.body
    card: dict[str, Any] = answer.body["value"]
    return card


def answered_words(answer: Answer) -> str:
    """The words an invoke answered with, the pressed card left as it was."""
    assert answer.status == 200 and answer.body["type"] == MESSAGE, answer.body
    return str(answer.body["value"])


def sent(teams: TeamsHarness) -> list[tuple[str, str, str]]:
    """Every activity ExtraMile sent: (conversation, "reply" or "post", the card's summary)."""
    return [
        (s.conversation_id, "reply" if s.reply_to_id else "post", str(s.activity.get("summary")))
        for s in teams.connector.sent()
    ]


def promises(teams: TeamsHarness) -> list[Promise]:
    with teams.app.sessions() as session:
        return list(session.scalars(select(Promise).where(Promise.team_id == TEAM).order_by(Promise.id)))


def outbox(teams: TeamsHarness) -> list[OutboxMessage]:
    with teams.app.sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.team_id == TEAM).order_by(OutboxMessage.id)
            )
        )


def reply_to(teams: TeamsHarness, conversation_id: str) -> dict[str, Any]:
    """The last card ExtraMile answered with in a conversation."""
    return teams.cards_to(conversation_id, replies=True)[-1]


def say(teams: TeamsHarness, text: str, **kwargs: Any) -> dict[str, Any]:
    """Types `text` in Gia's 1:1 chat (or where `kwargs` say) and returns ExtraMile's answer."""
    before = len(teams.connector.sent())
    answer = teams.message(text, **kwargs)
    assert answer.status in (200, 202)
    [reply] = [s for s in teams.connector.sent()[before:] if s.reply_to_id]
    content: dict[str, Any] = reply.activity["attachments"][0]["content"]
    return content


# ---------------------------------------------------------------- the tests


def test_a_promise_is_heard_reminded_moved_closed_and_thanked(teams: TeamsHarness) -> None:
    teams.message("help", user_id=ANA)  # Ana has talked to ExtraMile: her chat and zone are known

    confirmation = say(teams, "promise @Ana send the pricing deck by Friday 3pm", mentions=(ANA,))

    # Gia sees the time resolved in her zone (London), with Edit time and Cancel.
    assert first_line(confirmation) == (
        "Got it. You'll get back to Ana Ames about send the pricing deck by Fri 20 Nov 15:00 (your time). "
        "I've let them know."
    )
    assert actions(confirmation) == ["Edit time", "Cancel"]
    assert "<eta_date=2026-11-20>\n<eta_time=15:00>" in shown(confirmation)
    [promise] = promises(teams)
    assert (promise.promiser_id, promise.what, promise.due_at, promise.status, promise.origin_channel_id) == (
        GIA,
        "send the pricing deck",
        datetime(2026, 11, 20, 15, tzinfo=UTC),
        "open",
        None,
    )

    # Ana (New York, 10:00 her time) is told at once, in her own chat and zone.
    teams.deliver()
    [heard] = teams.cards_to(chat(ANA))
    assert (
        shown(heard)
        == "🤝 Gia Giver will get back to you about send the pricing deck by Fri 20 Nov 10:00 (your time)."
    )

    # Thursday: nothing for Gia. Friday 13:00: the two-hour heads-up. 15:00: it's time.
    tick(teams, datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    assert teams.cards_to(chat(GIA)) == []
    tick(teams, datetime(2026, 11, 20, 13, 0, tzinfo=UTC))
    [before] = teams.cards_to(chat(GIA))
    assert (
        first_line(before)
        == "⏰ Coming up: Ana Ames is waiting on send the pricing deck (due Fri 20 Nov 15:00)."
    )
    assert actions(before) == ["Done", "Still on it, new ETA", "Snooze 1 hour", "Tomorrow morning", "Cancel"]
    tick(teams, datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    tick(teams, datetime(2026, 11, 20, 15, 0, tzinfo=UTC))  # a second pass at the same instant: nothing new
    [_, due] = teams.cards_to(chat(GIA))
    assert (
        first_line(due)
        == "⏰ It's time: Ana Ames is waiting on send the pricing deck (due Fri 20 Nov 15:00)."
    )

    # Still on it: a new ETA, typed twice (the second changes nothing), tells Ana once, in her zone.
    for _ in range(2):
        moved = submit(teams, due, "promise.new_eta", eta_date="2026-11-23", eta_time="16:00")
        assert (
            shown(answered_card(moved))
            == "⏳ send the pricing deck is now due Mon 23 Nov 16:00. I'll remind you again."
        )
    [promise] = promises(teams)
    assert (promise.due_at, promise.version) == (datetime(2026, 11, 23, 16, tzinfo=UTC), 2)
    teams.deliver()
    [_, eta] = teams.cards_to(chat(ANA))
    assert (
        shown(eta)
        == "⏳ Gia Giver is still on send the pricing deck: the new ETA is Mon 23 Nov 11:00 (your time)."
    )

    # A form with no date, or a time already gone, is shown again with what to fix; nothing changes.
    empty = answered_card(submit(teams, due, "promise.new_eta", eta_date="", eta_time="16:00"))
    assert first_line(empty) == "Pick a date and a time."
    assert shown(empty).splitlines()[2:] == ["<eta_date=>", "<eta_time=>", "[Save new ETA]"]
    past = answered_card(submit(teams, due, "promise.new_eta", eta_date="2026-11-20", eta_time="09:00"))
    assert first_line(past) == (
        "That time (Fri 20 Nov 09:00, your time) has already passed. When will you get back to them?"
    )
    assert promises(teams)[0].version == 2

    # The old due time's reminders are gone; the new ones come on Monday.
    tick(teams, datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    tick(teams, datetime(2026, 11, 23, 16, 0, tzinfo=UTC))
    reminders = teams.cards_to(chat(GIA))
    assert [first_line(card).split(":")[0] for card in reminders] == [
        "⏰ Coming up",
        "⏰ It's time",
        "⏰ Coming up",
        "⏰ It's time",
    ]
    assert "(due Mon 23 Nov 16:00)" in first_line(reminders[3])

    # Done, pressed twice: one close, one word to Ana, the same receipt both times.
    teams.clock.set(datetime(2026, 11, 23, 16, 30, tzinfo=UTC))
    rows_before = len(outbox(teams))
    for _ in range(2):
        done = answered_card(submit(teams, reminders[3], "promise.done"))
        assert shown(done) == "✅ Done: send the pricing deck. Ana Ames has been told."
    [promise] = promises(teams)
    assert (promise.status, promise.closed_at) == ("done", datetime(2026, 11, 23, 16, 30, tzinfo=UTC))
    assert len(outbox(teams)) == rows_before + 1  # the word to Ana, once

    teams.deliver()  # 11:30 in New York
    [_, _, closed] = teams.cards_to(chat(ANA))
    assert (
        first_line(closed)
        == "✅ Gia Giver got back to you about send the pricing deck: done, 30 minutes late."
    )
    assert actions(closed) == ["Say thanks"]
    assert "<thanks=Thanks for getting back to me about send the pricing deck!>" in shown(closed)

    # Later passes send nothing more about a kept promise.
    tick(teams, datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    tick(teams, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))

    # Everything ExtraMile sent, where: answers in the chats typed in, the rest in each person's own chat.
    assert sent(teams) == [
        (chat(ANA), "reply", "What ExtraMile can do"),
        (
            chat(GIA),
            "reply",
            "Got it. You'll get back to Ana Ames about send the pricing deck by Fri 20 Nov 15:00 (your time). I've let them know.",
        ),
        (
            chat(ANA),
            "post",
            "Gia Giver will get back to you about send the pricing deck by Fri 20 Nov 10:00 (your time).",
        ),
        (
            chat(GIA),
            "post",
            "Coming up: Ana Ames is waiting on send the pricing deck (due Fri 20 Nov 15:00).",
        ),
        (
            chat(GIA),
            "post",
            "It's time: Ana Ames is waiting on send the pricing deck (due Fri 20 Nov 15:00).",
        ),
        (
            chat(ANA),
            "post",
            "Gia Giver is still on send the pricing deck: the new ETA is Mon 23 Nov 11:00 (your time).",
        ),
        (
            chat(GIA),
            "post",
            "Coming up: Ana Ames is waiting on send the pricing deck (due Mon 23 Nov 16:00).",
        ),
        (
            chat(GIA),
            "post",
            "It's time: Ana Ames is waiting on send the pricing deck (due Mon 23 Nov 16:00).",
        ),
        (chat(ANA), "post", "Gia Giver got back to you about send the pricing deck: done, 30 minutes late."),
    ]
    statuses = {row.dedupe_key: row.status for row in outbox(teams)}
    assert statuses[f"promise:{promise.id}:v1:due"] == "sent"
    assert statuses[f"promise:{promise.id}:v2:due"] == "sent"
    assert statuses[f"promise:{promise.id}:v2:eta:{ANA}"] == "sent"


def test_a_promise_made_in_a_channel_is_confirmed_in_private_and_thanked_there(teams: TeamsHarness) -> None:
    teams.message("help", user_id=BEN)  # Ben, in Tokyo

    teams.message("promise @Ben review the contract by Thursday 11am", channel=GENERAL, mentions=(BEN,))

    # Nothing is said in the channel; the confirmation comes in Gia's own chat, opened for it.
    assert [s for s in teams.connector.sent() if s.conversation_id.startswith(GENERAL)] == []
    teams.deliver()
    [created] = teams.connector.conversations_created()
    assert created.member_ids == (GIA,)
    [confirmation] = teams.cards_to(created.id)
    assert first_line(confirmation) == (
        "Got it. You'll get back to Ben Berg about review the contract by Thu 19 Nov 11:00 (your time). "
        "I've let them know."
    )
    [promise] = promises(teams)
    assert promise.origin_channel_id == GENERAL
    # Midnight in Tokyo: Ben hears at 09:00 his time.
    assert teams.cards_to(chat(BEN)) == []
    [heard] = [row for row in outbox(teams) if row.recipient_id == BEN]
    assert heard.deliver_after == datetime(2026, 11, 19, 0, 0, tzinfo=UTC)

    # Open loops are private: in the channel, ExtraMile says where to ask; in the chat, it lists them.
    in_channel = say(teams, "promise list", channel=GENERAL)
    assert "Type `promise list` in our 1:1 chat." in shown(in_channel)
    listing = say(teams, "promise list")
    assert shown(listing).splitlines()[:3] == [
        "Your open loops",
        "**You promised**",
        "review the contract for Ben Berg, due Thu 19 Nov 11:00",
    ]
    done = answered_card(submit(teams, listing, "promise.done"))
    assert shown(done) == "✅ Done: review the contract. Ben Berg has been told."

    tick(teams, datetime(2026, 11, 19, 0, 0, tzinfo=UTC))
    closed = teams.cards_to(chat(BEN))[-1]
    assert first_line(closed) == "✅ Gia Giver got back to you about review the contract: done, on time."

    # Ben says thanks, twice: one kudos, in the channel where the promise was made.
    for _ in range(2):
        thanked = submit(
            teams, closed, "promise.say_thanks", user_id=BEN, thanks="Thanks for the quick review! #teamwork"
        )
        assert shown(answered_card(thanked)) == "👏 Thanks sent: your kudos to Gia Giver is on its way."
    teams.deliver()
    with teams.app.sessions() as session:
        [kudos] = session.scalars(select(Kudos).where(Kudos.team_id == TEAM)).all()
        assert (kudos.giver_id, kudos.message, kudos.post_channel_id) == (
            BEN,
            "Thanks for the quick review!",
            GENERAL,
        )
    [post] = teams.cards_to(GENERAL)
    assert "<at>Ben Berg</at> gave kudos to <at>Gia Giver</at>" in card_text(post)
    assert "Thanks for the quick review!" in card_text(post) and "#teamwork" in card_text(post)


def test_thanks_for_a_promise_made_in_a_chat_need_a_kudos_channel(teams: TeamsHarness) -> None:
    say(teams, "promise @Ana the deck tomorrow 10am", mentions=(ANA,))
    [promise] = promises(teams)
    teams.app.services.promises.done(team_id=TEAM, promise_id=promise.id, actor_id=GIA)
    tick(teams, datetime(2026, 11, 19, 14, 0, tzinfo=UTC))
    closed = teams.cards_to(teams.chat_of(ANA) or "")[-1]

    refused = answered_card(submit(teams, closed, "promise.say_thanks", user_id=ANA, thanks="Thanks!"))

    assert shown(refused).startswith("I don't know where to post these kudos, so they weren't sent.")
    with teams.app.sessions() as session:
        assert session.scalars(select(Kudos)).all() == []


def test_snooze_an_hour_then_till_tomorrow_morning_each_once(teams: TeamsHarness) -> None:
    say(teams, "promise @Ana the numbers today 5pm", mentions=(ANA,))
    tick(teams, datetime(2026, 11, 18, 17, 0, tzinfo=UTC))
    [due] = teams.cards_to(chat(GIA))

    for _ in range(2):  # pressed twice: one snooze
        snoozed = answered_card(submit(teams, due, "promise.snooze_hour"))
        assert shown(snoozed) == "💤 Snoozed. I'll remind you again Wed 18 Nov 18:00."
    assert len([row for row in outbox(teams) if ":snooze:" in row.dedupe_key]) == 1
    tick(teams, datetime(2026, 11, 18, 17, 59, tzinfo=UTC))
    assert len(teams.cards_to(chat(GIA))) == 1
    tick(teams, datetime(2026, 11, 18, 18, 0, tzinfo=UTC))
    second = teams.cards_to(chat(GIA))[1]
    assert first_line(second) == (
        "⏰ No rush. Ana Ames is waiting on the numbers (due Wed 18 Nov 17:00). Want to let them know you're still on it?"
    )
    # An overdue reminder cannot know today's date: its new-ETA form proposes none.
    assert "<eta_date=>" in shown(second)

    morning = answered_card(submit(teams, second, "promise.snooze_morning"))
    assert shown(morning) == "💤 Snoozed. I'll remind you again Thu 19 Nov 09:00."
    tick(teams, datetime(2026, 11, 19, 8, 59, tzinfo=UTC))
    assert len(teams.cards_to(chat(GIA))) == 2
    tick(teams, datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    assert len(teams.cards_to(chat(GIA))) == 3


def test_cancel_with_a_note_tells_the_person_waiting(teams: TeamsHarness) -> None:
    teams.message("help", user_id=ANA)
    confirmation = say(teams, "promise @Ana the intro to Dana by Friday", mentions=(ANA,))

    too_long = answered_card(submit(teams, confirmation, "promise.cancel", note="x" * 501))
    assert first_line(too_long) == "That note is 501 characters; up to 500 fit. Could you shorten it?"
    assert promises(teams)[0].status == "open"
    cancelled = answered_card(
        submit(teams, too_long, "promise.cancel", note="Dana is away until January, sorry!")
    )
    assert shown(cancelled) == "Cancelled: the intro to Dana. Ana Ames has been told."
    again = answered_card(submit(teams, confirmation, "promise.cancel", note="again"))
    assert shown(again) == shown(cancelled)

    [promise] = promises(teams)
    assert (promise.status, promise.close_note) == ("cancelled", "Dana is away until January, sorry!")
    teams.deliver()
    told = teams.cards_to(chat(ANA))[-1]
    assert shown(told) == (
        "Gia Giver can't get back to you about the intro to Dana after all.\nDana is away until January, sorry!"
    )
    tick(teams, datetime(2026, 11, 20, 17, 0, tzinfo=UTC))
    assert teams.cards_to(chat(GIA)) == []


def test_someone_else_cannot_close_your_promise(teams: TeamsHarness) -> None:
    say(teams, "promise @Ana the deck tomorrow 10am", mentions=(ANA,))
    tick(teams, datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    [before] = teams.cards_to(chat(GIA))

    refused = answered_card(submit(teams, before, "promise.done", user_id=BEN))

    assert (
        shown(refused)
        == "Only **Gia Giver** can update that promise. Ask them, or make your own with `promise`."
    )
    assert promises(teams)[0].status == "open"


def test_refusals_in_slacks_words_record_nothing(teams: TeamsHarness) -> None:
    cases = {
        (
            "promise the deck by Friday",
            (),
        ): "Who are you getting back to? Mention them first (`promise @Carol ...`)",
        (
            "promise @Gia the deck by Friday",
            (GIA,),
        ): "A promise to yourself is a to-do. Who's waiting on you?",
        ("promise @Ana the deck", (ANA,)): "I couldn't tell when. End your promise with a time, like",
        ("promise @Ana the deck by yesterday", (ANA,)): "has already passed. When will you get back to them?",
        (
            "promise @Ana the deck by 3/4",
            (ANA,),
        ): "`by 3/4` could be two dates. Write the month as a word (`4 March`) or use `2026-03-04`.",
        (
            "promise @Ana by Friday",
            (ANA,),
        ): "What will you get back to them about, and when? For example: `promise @Carol",
    }
    for (text, mentions), expected in cases.items():
        assert expected in shown(say(teams, text, mentions=mentions)), text
    assert promises(teams) == []
    assert outbox(teams) == []

    for text in ("promise", "promise help"):
        assert "`promise @Carol send the pricing deck by Friday 3pm`" in shown(say(teams, text))


def test_an_outside_contact_in_quotes_and_the_same_message_twice(teams: TeamsHarness) -> None:
    for _ in range(2):
        teams.message(
            'promise "Jane at ACME" call back with pricing tomorrow 10am', activity_id="f:1700000000999"
        )
    [promise] = promises(teams)
    assert (promise.contact_name, promise.what) == ("Jane at ACME", "call back with pricing")
    confirmations = teams.cards_to(chat(GIA), replies=True)
    assert [first_line(card) for card in confirmations] == [
        "Got it. You'll get back to Jane at ACME about call back with pricing by Thu 19 Nov 10:00 (your time)."
    ] * 2


def test_a_digest_holds_the_days_reminders_and_a_button_there_leaves_it_as_it_is(teams: TeamsHarness) -> None:
    teams.message("help")  # Gia's chat is known
    teams.app.services.people.save_preferences(TEAM, GIA, Preferences(digest=True))
    for n in range(2):
        teams.message(f'promise "Client {n}" call by Thursday 3pm')
    tick(teams, datetime(2026, 11, 19, 15, 0, tzinfo=UTC))  # heads-ups and due times: never folded
    assert len(teams.cards_to(chat(GIA))) == 4
    tick(teams, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))  # Friday morning: the nudges fold
    tick(teams, datetime(2026, 11, 20, 9, 1, tzinfo=UTC))

    [digest] = teams.cards_to(chat(GIA))[4:]
    lines = shown(digest).splitlines()
    assert lines[0] == "Good morning! 2 things from ExtraMile for today:"
    assert [line for line in lines if line.startswith("⏰")] == [
        f"⏰ No rush. Client {n} is waiting on call (due Thu 19 Nov 15:00). Want to let them know you're still on it?"
        for n in range(2)
    ]
    # Each item's form has inputs of its own.
    assert [line for line in lines if line.startswith("<eta_date")] == ["<eta_date~0=>", "<eta_date~1=>"]

    first, second = (p.id for p in promises(teams))
    for _ in range(2):
        answer = submit(teams, digest, "promise.done", nth=0)
        assert answered_words(answer) == "Done: call. Client 0 has been told."
    assert [p.status for p in promises(teams)] == ["done", "open"]
    moved = submit(teams, digest, "promise.new_eta", nth=1, eta_date="2026-11-24", eta_time="10:00")
    assert answered_words(moved) == "call is now due Tue 24 Nov 10:00. I'll remind you again."
    assert promises(teams)[1].due_at == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert (first, second) == tuple(p.id for p in promises(teams))


def test_a_digest_of_ten_reminders_is_one_teams_message(teams: TeamsHarness) -> None:
    teams.message("help")
    teams.app.services.people.save_preferences(TEAM, GIA, Preferences(digest=True))
    for n in range(12):
        teams.message(f'promise "Client {n} of the northern region" call about the renewal by Thursday 3pm')
    tick(teams, datetime(2026, 11, 19, 15, 0, tzinfo=UTC))
    tick(teams, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    tick(teams, datetime(2026, 11, 20, 9, 1, tzinfo=UTC))

    # Ten items make a digest; the other two wait for the next one.
    [digest] = teams.cards_to(chat(GIA))[24:]
    lines = shown(digest).splitlines()
    assert lines[0] == "Good morning! 10 things from ExtraMile for today:"
    assert len([line for line in lines if line.startswith("⏰ No rush.")]) == 10
    assert len(json.dumps(digest).encode()) <= MAX_CARD_BYTES


def _promise(**changes: Any) -> PromiseView:
    made = PromiseView(
        id=1,
        team_id=TEAM,
        promiser_id=GIA,
        promisee_ids=(),
        contact_name="J" * 200,
        what="w" * 500,
        due_at=datetime(2026, 11, 19, 15, tzinfo=UTC),
        date_only=False,
        status="open",
        version=1,
        created_at=datetime(2026, 11, 18, 15, tzinfo=UTC),
        closed_at=None,
        origin_channel_id=None,
        origin_ts=None,
        context_link=None,
        close_note=None,
    )
    return replace(made, **changes)


def test_a_new_eta_in_a_channel_thread_shows_each_reader_their_own_time() -> None:
    """A thread has many readers: Adaptive Cards' DATE and TIME show each their own zone."""
    promise = _promise(
        contact_name=None, promisee_ids=(ANA,), what="the deck", due_at=datetime(2026, 11, 24, 12, tzinfo=UTC)
    )
    notice = PromiseNotice(
        promise=promise,
        stage="eta",
        reader_id=GENERAL,
        reader_tz="UTC",
        thread_ts="1700000000001",
        promiser_away_until=date(2026, 11, 27),
    )

    rendered = render(notice, {GIA: "Gia Giver", ANA: "Ana Ames"}.__getitem__)

    assert rendered.summary == "Gia Giver is still on the deck: the new ETA is Tue 24 Nov 12:00 UTC."
    assert shown(rendered.card).splitlines() == [
        "⏳ Gia Giver is still on the deck: the new ETA is",
        "{{DATE(2026-11-24T12:00:00Z, SHORT)}} at {{TIME(2026-11-24T12:00:00Z)}}.",
        "Gia Giver is away until Fri 27 Nov, so an answer may take a little longer.",
    ]


def test_a_digest_too_big_for_one_message_says_how_many_more() -> None:
    """Ten promises with the longest titles do not fit in one Teams message: those that do are shown."""
    promise = _promise()
    items = tuple(
        PromiseNotice(promise=replace(promise, id=n), stage="nudge", reader_id=GIA, reader_tz="Europe/London")
        for n in range(10)
    )

    rendered = render(Digest(day=date(2026, 11, 20), items=items), lambda user_id: "Gia Giver")

    lines = shown(rendered.card).splitlines()
    items_shown = len([line for line in lines if line.startswith("⏰ No rush.")])
    assert 0 < items_shown < 10
    assert lines[-1] == f"…and {10 - items_shown} more. `promise list` shows your open loops."
    assert len(json.dumps(rendered.card).encode()) <= MAX_CARD_BYTES
