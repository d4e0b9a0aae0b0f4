"""Odd input gets a friendly reply and changes nothing, the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import Checkin, Kudos, KudosValue, OutboxMessage, Promise
from tests.conftest import ANA, BEN, GENERAL, GIVER, Harness, texts
from tests.e2e.test_kudos_command import kudos_rows
from tests.e2e.test_kudos_interactive import MESSAGE_TS, reaction


def rows(h: Harness, model: Any) -> list[Any]:
    with h.session() as session:
        return list(session.scalars(select(model)))


def test_a_date_the_calendar_cannot_hold_is_a_friendly_refusal(harness: Harness) -> None:
    h = harness
    h.fake.add_user("U0LA", "lou", tz="America/Los_Angeles")

    for text in (
        f"<@{BEN}|ben> call back by 31 December 9999",
        f"<@{BEN}|ben> call back in 99999999 weeks",
        f"<@{BEN}|ben> call back in 1{'0' * 300} hours",
        f"<@{BEN}|ben> call back by 14 March 2040",
    ):
        reply = h.command(text, name="/promise", user_id="U0LA")
        assert "further ahead than I can keep track of" in reply["text"], (text, reply)
    assert rows(h, Promise) == [] and rows(h, OutboxMessage) == []


def test_a_long_promise_is_refused_before_it_is_read(harness: Harness) -> None:
    h = harness

    reply = h.command(f"<@{BEN}|ben> " + "on " * 800 + "friday", name="/promise")

    assert "a promise can be up to 500" in reply["text"]
    assert rows(h, Promise) == []


def test_a_promise_with_many_date_like_words_still_finds_its_due_time(harness: Harness) -> None:
    h = harness
    what = "check on " * 54 + "the numbers"  # 497 characters, half of them "on": reading it stays cheap
    reply = h.command(f"<@{BEN}|ben> {what} by Friday 3pm", name="/promise")

    assert "by Fri 20 Nov 15:00 (your time)" in texts(reply["blocks"])
    [promise] = rows(h, Promise)
    assert promise.what == what


def test_control_characters_are_removed_everywhere(harness: Harness) -> None:
    h = harness
    h.command(f"<@{ANA}|ana> thanks a\x00b\x07 for the\u202e fix")
    h.command(f"<@{BEN}|ben> send the de\x00ck by Friday 3pm", name="/promise")
    h.command('"Jane\x00 at ACME" every year say h\x00i', name="/checkin")

    [kudos] = kudos_rows(h)
    assert kudos.message == "thanks ab for the fix"
    assert "thanks ab for the fix" in texts(h.posts(GENERAL)[0]["blocks"])
    [promise] = rows(h, Promise)
    assert promise.what == "send the deck"
    [checkin] = rows(h, Checkin)
    assert (checkin.contact_name, checkin.note) == ("Jane at ACME", "say hi")


def test_a_value_longer_than_the_column_is_refused_with_the_fix(harness: Harness) -> None:
    h = harness

    reply = h.command(f"<@{ANA}|ana> thanks #" + "x" * 101)

    assert "longer than 100 characters" in reply["text"]
    assert kudos_rows(h) == [] and rows(h, KudosValue) == [] and h.posts(GENERAL) == []
    assert h.command(f"<@{ANA}|ana> thanks #" + "x" * 100) is None
    assert [v.value for v in rows(h, KudosValue)] == ["x" * 100]


def test_check_ins_follow_the_same_recipient_rules_as_kudos(harness: Harness) -> None:
    h = harness
    h.fake.add_user("U0BOT", "deploybot", is_bot=True)
    h.fake.add_user("U0GONE", "gone", deleted=True)
    cases = {
        "<@U0NOPE> every year say hi": "I can't find <@U0NOPE>",
        "<@U0BOT|deploybot> every week ping": "is a bot",
        "<@U0GONE|gone> every month": "no longer active",
        "<@U" + "1" * 40 + "> every year hi": "Who would you like to keep in touch with?",
    }
    for text, expected in cases.items():
        reply = h.command(text, name="/checkin")
        assert expected in reply["text"], (text, reply)
    assert rows(h, Checkin) == []


def test_a_skin_toned_kudos_reaction_gives_and_takes_back(harness: Harness) -> None:
    h = harness
    h.fake.add_message(GENERAL, ANA, "Shipped the hotfix", ts=MESSAGE_TS)

    h.event(reaction(emoji="clap::skin-tone-3", event_id="EvTone1"))
    [post] = h.posts(GENERAL)
    assert f"<@{GIVER}> gave kudos to <@{ANA}>" in texts(post["blocks"])

    h.event(
        reaction("reaction_removed", emoji="clap::skin-tone-3", event_id="EvTone2", event_ts="1700000060.0")
    )
    assert [k.status for k in kudos_rows(h)] == ["revoked"]
    assert len(h.fake.calls_to("chat.delete")) == 1


def test_odd_modal_input_is_cleaned_too(harness: Harness) -> None:
    from tests.e2e.test_kudos_interactive import submission

    h = harness
    h.interaction(submission("V0ODD", users=[ANA], message="great\x00 work\ud800!"))

    [kudos] = rows(h, Kudos)
    assert kudos.message == "great work!"
