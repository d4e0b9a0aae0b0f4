"""Check-ins in Microsoft Teams, end to end: set up in the 1:1 chat, the nudge delivered in the
requester's working hours as the clock moves, and its buttons answered in the nudge's place."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from storage.models import Checkin, CheckinCompletion, OutboxMessage
from tests.teams.conftest import ANA, GENERAL, GIA, TEAM, TeamsHarness
from tests.teams.test_promises import (
    actions,
    answered_card,
    answered_words,
    chat,
    first_line,
    say,
    sent,
    shown,
    submit,
    tick,
)


def checkins(teams: TeamsHarness) -> list[Checkin]:
    with teams.app.sessions() as session:
        return list(session.scalars(select(Checkin).where(Checkin.team_id == TEAM).order_by(Checkin.id)))


def completions(teams: TeamsHarness) -> int:
    with teams.app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(CheckinCompletion)) or 0)


def snoozes(teams: TeamsHarness) -> list[OutboxMessage]:
    with teams.app.sessions() as session:
        return list(
            session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("checkin:%:snooze:%")))
        )


def test_every_two_weeks_with_done_snooze_and_stop(teams: TeamsHarness) -> None:
    for _ in range(2):  # Teams sends the same message again: one check-in
        teams.message(
            "checkin @Ana every 2 weeks catch up on the roadmap",
            mentions=(ANA,),
            activity_id="f:1700000000777",
        )
    confirmation = teams.cards_to(chat(GIA), replies=True)[-1]
    assert shown(confirmation) == (
        "Done. I'll nudge you to check in with Ana Ames every 2 weeks, starting Wed 2 Dec 09:00 (your time).\n"
        "Note: catch up on the roadmap\n"
        "[Stop]"
    )
    [checkin] = checkins(teams)
    assert (checkin.requester_id, checkin.contact_user_id, checkin.every_count, checkin.every_unit) == (
        GIA,
        ANA,
        2,
        "week",
    )
    assert checkin.note == "catch up on the roadmap"

    tick(teams, datetime(2026, 12, 2, 8, 59, tzinfo=UTC))
    assert teams.cards_to(chat(GIA)) == []
    tick(teams, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    tick(teams, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    [nudge] = teams.cards_to(chat(GIA))
    assert shown(nudge) == (
        "👋 Time to check in with Ana Ames.\n"
        "catch up on the roadmap\n"
        "You asked for this every 2 weeks.\n"
        "[Done]\n[Tomorrow morning]\n[Skip this time]"
    )

    # Done, pressed twice: one completion, the same answer.
    teams.clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    for _ in range(2):
        done = answered_card(submit(teams, nudge, "checkin.done"))
        assert (
            shown(done) == "✅ Nice, that's the loop closed. Next check-in with Ana Ames: Wed 16 Dec 09:00."
        )
    assert completions(teams) == 1
    assert checkins(teams)[0].last_done_at == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)

    # Tomorrow morning, pressed twice: one more nudge.
    for _ in range(2):
        snoozed = answered_card(submit(teams, nudge, "checkin.snooze"))
        assert shown(snoozed) == "💤 I'll remind you again Thu 3 Dec 09:00."
    assert len(snoozes(teams)) == 1
    tick(teams, datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    [_, again] = teams.cards_to(chat(GIA))
    assert first_line(again) == "👋 Time to check in with Ana Ames (snoozed from yesterday)."

    stopped = say(teams, "checkin stop @Ana", mentions=(ANA,))
    assert shown(stopped) == "Stopped: no more check-in reminders for Ana Ames."
    assert [c.status for c in checkins(teams)] == ["stopped"]
    # A button on an older card finds it stopped, and says so.
    assert shown(answered_card(submit(teams, again, "checkin.done"))) == shown(stopped)
    assert completions(teams) == 1

    tick(teams, datetime(2026, 12, 16, 9, 0, tzinfo=UTC))
    assert len(teams.cards_to(chat(GIA))) == 2
    assert sent(teams) == [
        (
            chat(GIA),
            "reply",
            "Done. I'll nudge you to check in with Ana Ames every 2 weeks, starting Wed 2 Dec 09:00 (your time).",
        ),
        (
            chat(GIA),
            "reply",
            "Done. I'll nudge you to check in with Ana Ames every 2 weeks, starting Wed 2 Dec 09:00 (your time).",
        ),
        (chat(GIA), "post", "Time to check in with Ana Ames."),
        (chat(GIA), "post", "Time to check in with Ana Ames (snoozed from yesterday)."),
        (chat(GIA), "reply", "Stopped: no more check-in reminders for Ana Ames."),
    ]


def test_an_outside_contact_list_stop_picker_and_skip(teams: TeamsHarness) -> None:
    say(teams, 'checkin "Jane at ACME" every 6 months send something useful')
    say(teams, "checkin @Ana every quarter", mentions=(ANA,))

    listing = say(teams, "checkin list")
    assert shown(listing).splitlines() == [
        "Your check-ins",
        "Jane at ACME, every 6 months. Next: Tue 18 May 09:00",
        "send something useful",
        "[Stop]",
        "Ana Ames, every 3 months. Next: Thu 18 Feb 09:00",
        "[Stop]",
    ]

    tick(teams, datetime(2027, 2, 18, 9, 0, tzinfo=UTC))
    [nudge] = teams.cards_to(chat(GIA))
    skipped = answered_card(submit(teams, nudge, "checkin.skip"))
    assert shown(skipped) == "⏩ Skipped. Next check-in with Ana Ames: Tue 18 May 09:00."
    assert completions(teams) == 0

    picker = say(teams, "checkin stop")
    assert actions(picker) == []  # each Stop sits beside its check-in
    assert shown(picker) == shown(say(teams, "checkin list"))
    stopped = answered_card(submit(teams, picker, "checkin.stop"))
    assert shown(stopped) == "Stopped: no more check-in reminders for Jane at ACME."
    assert answered_card(submit(teams, picker, "checkin.stop")) == stopped  # pressed again: how it stands
    assert [c.status for c in checkins(teams)] == ["stopped", "active"]
    assert shown(say(teams, 'checkin stop "jane at acme"')) == shown(say(teams, "checkin list"))


def test_help_refusals_and_privacy(teams: TeamsHarness) -> None:
    for text in ("checkin", "checkin help"):
        assert "`checkin @Dan every 2 weeks catch up on the roadmap`" in shown(say(teams, text))
    cases = {
        ("checkin @Ana sometimes", (ANA,)): "How often? Start with `every`:",
        ("checkin @Ana every 0 weeks", (ANA,)): "How often?",
        ("checkin @Ana every 400 days", (ANA,)): "How often?",
        ("checkin every week", ()): "Who would you like to keep in touch with? `checkin @Dan every 2 weeks`",
        ("checkin @Gia every week", (GIA,)): "Checking in with yourself is a fine habit",
    }
    for (text, mentions), expected in cases.items():
        assert expected in shown(say(teams, text, mentions=mentions)), text
    assert checkins(teams) == []

    # In a channel, only the help: whom you mean to call is nobody else's business.
    in_channel = say(teams, "checkin @Ana every week", channel=GENERAL, mentions=(ANA,))
    assert "Check-ins are just for you" in shown(in_channel)
    assert checkins(teams) == []

    # Someone else's check-in cannot be changed from a card.
    say(teams, "checkin @Ana every week", mentions=(ANA,))
    [checkin] = checkins(teams)
    refused = teams.press("checkin.done", {"checkin_id": checkin.id, "occurrence": 1}, user_id=ANA)
    assert shown(answered_card(refused)).startswith("Only the person who set up that check-in can change it.")


def test_a_check_in_in_a_digest_answers_with_words(teams: TeamsHarness) -> None:
    from bot.services.people import Preferences

    say(teams, "checkin @Ana every week", mentions=(ANA,))
    teams.app.services.people.save_preferences(TEAM, GIA, Preferences(digest=True))
    tick(teams, datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    tick(teams, datetime(2026, 11, 25, 9, 1, tzinfo=UTC))

    [digest] = teams.cards_to(chat(GIA))
    assert shown(digest).splitlines()[:2] == [
        "Good morning! 1 thing from ExtraMile for today:",
        "👋 Time to check in with Ana Ames.",
    ]
    answer = submit(teams, digest, "checkin.done")
    assert (
        answered_words(answer)
        == "Nice, that's the loop closed. Next check-in with Ana Ames: Wed 2 Dec 09:00."
    )
    assert completions(teams) == 1
