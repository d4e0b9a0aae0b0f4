"""The weekly recap in Microsoft Teams: a week of kudos counted for the channel's members, posted once
as a card that @mentions the people it praises, followed by its chart inside a card; `recap preview`."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.services.charts import recap_chart
from handlers.teams.recap_cards import MAX_IMAGE_BYTES, compact_png
from storage.models import OutboxMessage
from tests.teams.conftest import ANA, BEN, GENERAL, GIA, TeamsHarness, card_text
from tests.teams.test_people import configure

# Monday 23 November 2026, 09:00 in London (GMT): the recap of Monday 16 to Sunday 22.
RECAP_TIME = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# Teams refuses messages over about 25 KB (the lower of the figures quoted).
TEAMS_MESSAGE_LIMIT = 25_000


def at(teams: TeamsHarness, *when: int) -> None:
    teams.clock.set(datetime(*when, tzinfo=UTC))  # type: ignore[misc]


def kudos(teams: TeamsHarness, text: str, *mentioned: str, user_id: str = GIA) -> None:
    teams.message(text, channel=GENERAL, mentions=mentioned, user_id=user_id)
    teams.deliver()


@pytest.fixture
def week(teams: TeamsHarness) -> TeamsHarness:
    """Gia, Ana and Ben are the General channel's members; a week of kudos between them."""
    configure(teams, timezone="Europe/London", daily_allowance=0, recaps={GENERAL: {"weekday": 0, "hour": 9}})
    at(teams, 2026, 11, 10, 12)  # the week before
    kudos(teams, "kudos @Ana for last week's help", ANA)
    at(teams, 2026, 11, 16, 10)
    kudos(teams, "kudos @Ana thanks for the late-night fix #ownership", ANA)
    at(teams, 2026, 11, 17, 11)
    kudos(teams, "kudos @Ben great review #craft", BEN, user_id=ANA)
    at(teams, 2026, 11, 19, 14)
    kudos(teams, "kudos @Ana @Ben the launch went so smoothly #ownership", ANA, BEN)
    teams.connector.clear_calls()
    return teams


def test_the_recap_is_posted_once_with_its_chart(week: TeamsHarness) -> None:
    teams = week
    before = len(teams.cards_to(GENERAL))
    teams.clock.set(RECAP_TIME)
    teams.app.services.delivery.tick()
    teams.settle()
    teams.app.services.delivery.tick()  # ticked again: nothing more
    teams.settle()

    post, chart = teams.cards_to(GENERAL)[before:]
    shown = card_text(post)
    assert shown.startswith("This week at a glance\nMon 16 Nov to Sun 22 Nov · about this channel's members")
    assert "👏 **3 kudos**, thanking **2 people**. Most mentioned: \\#ownership (2), \\#craft (1)" in shown
    assert "<at>Gia Giver</at> → <at>Ana Ames</at> and <at>Ben Berg</at>" in shown
    assert "the launch went so smoothly" in shown and "last week's help" not in shown
    assert {e["mentioned"]["id"] for e in post["msteams"]["entities"]} == {GIA, ANA, BEN}

    assert card_text(chart) == "Kudos, week of 16 Nov"
    [image] = [item for item in chart["body"] if item["type"] == "Image"]
    prefix = "data:image/png;base64,"
    assert image["url"].startswith(prefix)
    png = base64.b64decode(image["url"][len(prefix) :])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) <= MAX_IMAGE_BYTES

    sends = teams.connector.calls_of("send")
    assert [call.conversation_id for call in sends] == [GENERAL, GENERAL]
    assert all(len(json.dumps(call.body).encode()) < TEAMS_MESSAGE_LIMIT for call in sends)
    with teams.app.sessions() as session:
        rows = session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.status).where(OutboxMessage.kind.like("recap.%"))
        )
        assert sorted((key, status) for key, status in rows) == [
            (f"recap:{GENERAL}:2026-W48", "sent"),
            (f"recap:{GENERAL}:2026-W48:chart", "sent"),
        ]


def test_recap_preview_shows_the_week_so_far_where_it_is_asked_and_pings_nobody(week: TeamsHarness) -> None:
    teams = week
    at(teams, 2026, 11, 20, 17)  # Friday: Monday's recap is still to come

    teams.message("recap preview", channel=GENERAL, user_id=BEN)
    teams.message("recap preview", user_id=BEN)
    teams.message("recap", user_id=BEN)

    in_channel, in_chat, usage = [
        sent.activity["attachments"][0]["content"] for sent in teams.connector.sent()[-3:]
    ]
    shown = card_text(in_channel)
    assert shown.startswith("This week so far")
    assert "👏 **3 kudos**" in shown and "**Gia Giver** → **Ana Ames** and **Ben Berg**" in shown
    assert "msteams" not in in_channel  # no @mention: a preview notifies nobody
    assert card_text(in_chat) == (
        "A recap is about a channel's people, so ask in the channel: @mention me there with `recap preview`."
    )
    assert "`recap preview`" in card_text(usage)
    # The channel's members asked of Teams, three answers, and no post.
    assert [call.kind for call in teams.connector.calls] == ["members", "send", "send", "send"]


def test_a_busy_weeks_chart_is_made_small_enough_for_a_teams_message() -> None:
    png = recap_chart(
        day_labels=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        this_week=(4, 7, 2, 9, 5, 1, 0),
        last_week=(3, 2, 6, 4, 8, 0, 1),
        values=(("ownership", 12), ("craft", 9), ("customer-first", 7)),
    )
    assert len(png) > MAX_IMAGE_BYTES  # as drawn for Slack, too big for Teams

    small = compact_png(png)

    assert small.startswith(b"\x89PNG\r\n\x1a\n") and len(small) <= MAX_IMAGE_BYTES
