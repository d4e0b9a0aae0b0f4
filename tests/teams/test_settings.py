"""`settings` in Teams: the admin's card, saved through the same checks as Slack's admin modal."""

from __future__ import annotations

from typing import Any

from handlers.teams.admin import SAVE
from tests.teams.conftest import BEN, GENERAL, GIA, TEAM, TeamsHarness, card_text


def _make_admin(teams: TeamsHarness, user_id: str) -> None:
    workspaces = teams.app.services.workspaces
    workspaces.save(workspaces.get(TEAM).model_copy(update={"admin_ids": (user_id,)}))


def _inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        element["id"]: element
        for element in card["body"]
        if str(element.get("type", "")).startswith("Input.")
    }


FORM = {
    "kudos_channel_id": GENERAL,
    "welcome_channel_id": "none",
    "celebrations_channel_id": GENERAL,
    "daily_allowance": "3",
    "kudos_values": "#teamwork ownership",
    "timezone": "Europe/Paris",
    "celebration_hour": "10",
    "recaps": GENERAL,
    "recap_day": "Friday",
    "recap_hour": "16",
}


def test_an_admin_sees_the_channels_and_saves_the_settings(teams: TeamsHarness) -> None:
    _make_admin(teams, GIA)
    teams.message("settings", channel=GENERAL)
    [reply] = [sent for sent in teams.connector.sent() if sent.reply_to_id]
    card = reply.activity["attachments"][0]["content"]
    kudos_choices = [choice["value"] for choice in _inputs(card)["kudos_channel_id"]["choices"]]
    assert kudos_choices == ["none", GENERAL]

    answer = teams.press(SAVE, FORM)
    assert answer.status == 200
    assert "Saved" in card_text(answer.body["value"])
    saved = teams.app.services.workspaces.get(TEAM)
    assert saved.kudos_channel_id == GENERAL and saved.celebrations_channel_id == GENERAL
    assert saved.welcome_channel_id is None
    assert saved.daily_allowance == 3 and saved.kudos_values == ("teamwork", "ownership")
    assert saved.timezone == "Europe/Paris" and saved.celebration_hour == 10
    assert {channel: (s.weekday, s.hour) for channel, s in saved.recaps.items()} == {GENERAL: (4, 16)}


def test_a_bad_field_is_shown_beside_it_and_nothing_changes(teams: TeamsHarness) -> None:
    _make_admin(teams, GIA)
    teams.message("help", channel=GENERAL)
    before = teams.app.services.workspaces.get(TEAM)
    answer = teams.press(SAVE, {**FORM, "timezone": "Mars/Olympus_Mons"})
    words = card_text(answer.body["value"])
    assert "⚠️" in words and "Saved" not in words
    assert _inputs(answer.body["value"])["timezone"]["value"] == "Mars/Olympus_Mons"
    assert teams.app.services.workspaces.get(TEAM) == before


def test_a_channel_extramile_is_not_in_is_refused(teams: TeamsHarness) -> None:
    _make_admin(teams, GIA)
    answer = teams.press(SAVE, {**FORM, "kudos_channel_id": "19:elsewhere@thread.tacv2", "recaps": ""})
    assert "I'm not in that channel yet. Add ExtraMile to that channel's team" in card_text(
        answer.body["value"]
    )
    assert teams.app.services.workspaces.get(TEAM).kudos_channel_id is None


def test_someone_who_is_not_an_admin_changes_nothing(teams: TeamsHarness) -> None:
    _make_admin(teams, GIA)
    teams.message("settings", user_id=BEN)
    [reply] = teams.connector.sent()
    assert "Only ExtraMile admins can change these settings" in card_text(
        reply.activity["attachments"][0]["content"]
    )
    before = teams.app.services.workspaces.get(TEAM)
    answer = teams.press(SAVE, FORM, user_id=BEN)
    assert "Only ExtraMile admins" in card_text(answer.body["value"])
    assert teams.app.services.workspaces.get(TEAM) == before
