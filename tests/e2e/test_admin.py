"""ExtraMile settings inside Slack: admins change every workspace setting, checked field by field;
everyone else is politely refused, and a forged form changes nothing."""

from __future__ import annotations

from typing import Any

from bot.services.workspaces import RecapSchedule, WorkspaceSettings
from tests.conftest import ANA, BEN, GENERAL, GIVER, TEAM, Harness, texts
from tests.e2e.test_home import latest_home, open_home
from tests.e2e.test_promises import submit

ADMIN = "U0BOSS"


def form_state(**overrides: Any) -> dict[str, Any]:
    """The settings form as Slack submits it: the defaults, with `overrides` by block id."""
    fields: dict[str, Any] = {
        "admin_kudos_channel": {"type": "conversations_select", "selected_conversation": None},
        "admin_kudos_emoji": {"type": "plain_text_input", "value": "clap"},
        "admin_allowance": {"type": "number_input", "value": "5"},
        "admin_values": {"type": "plain_text_input", "value": None},
        "admin_welcome_channel": {"type": "conversations_select", "selected_conversation": None},
        "admin_welcome_text": {"type": "plain_text_input", "value": None},
        "admin_guests": {"type": "checkboxes", "selected_options": []},
        "admin_greet_channels": {"type": "multi_conversations_select", "selected_conversations": []},
        "admin_greeting": {"type": "plain_text_input", "value": "Welcome to {channel}, {mention}!"},
        "admin_greeting_mode": {"type": "radio_buttons", "selected_option": {"value": "dm"}},
        "admin_celebrations_channel": {"type": "conversations_select", "selected_conversation": None},
        "admin_celebration_hour": {"type": "static_select", "selected_option": {"value": "9"}},
        "admin_weekend_rule": {"type": "radio_buttons", "selected_option": {"value": "friday"}},
        "admin_heads_up": {"type": "checkboxes", "selected_options": []},
        "admin_timezone": {"type": "plain_text_input", "value": None},
        "admin_recap_channels": {"type": "multi_conversations_select", "selected_conversations": []},
        "admin_recap_day": {"type": "static_select", "selected_option": {"value": "0"}},
        "admin_recap_hour": {"type": "static_select", "selected_option": {"value": "9"}},
        "admin_recap_scope": {"type": "radio_buttons", "selected_option": {"value": "members"}},
        "admin_recap_names": {"type": "checkboxes", "selected_options": []},
        "admin_admins": {"type": "multi_users_select", "selected_users": []},
        "admin_spot_promises": {"type": "checkboxes", "selected_options": []},
        "admin_question_nudges": {"type": "checkboxes", "selected_options": []},
        "admin_question_wait": {"type": "number_input", "value": "4"},
        "admin_question_cap": {"type": "number_input", "value": "3"},
    }
    for block_id, value in overrides.items():
        fields[block_id] = {**fields[block_id], **value}
    return {block_id: {"value": value} for block_id, value in fields.items()}


def open_settings(h: Harness, user_id: str) -> dict[str, Any]:
    view = open_home(h, user_id)
    press_as(h, view, "home_admin_settings", user_id)
    form: dict[str, Any] = h.fake.calls_to("views.open")[-1].params["view"]
    return form


def press_as(h: Harness, view: dict[str, Any], action_id: str, user_id: str) -> None:
    # press() clicks as Gia; the Home's button is the same for everyone who sees it.
    from tests.conftest import payload

    body = payload("block_actions")
    body.pop("message", None)
    body["user"] = {**body["user"], "id": user_id}
    body["container"] = {"type": "view", "view_id": "V0HOME"}
    body["view"] = {"id": "V0HOME", "type": "home", "blocks": view["blocks"], "private_metadata": ""}
    body["actions"] = [{**body["actions"][0], "action_id": action_id, "value": "open"}]
    h.interaction(body)


def admin_harness(h: Harness) -> Harness:
    h.fake.add_user(ADMIN, "boss", tz="Europe/London", is_admin=True)
    h.fake.add_channel("C0KUDOS", "kudos")
    h.fake.add_channel("C0TEAM", "team", members=[ADMIN, GIVER, ANA])
    h.fake.add_channel("C0PARTY", "celebrations", members=[ADMIN, GIVER, ANA, BEN])
    h.fake.add_channel("C0QUIET", "quiet", bot_is_member=False)
    return h


def test_an_admin_changes_every_setting_from_the_home(harness: Harness) -> None:
    h = admin_harness(harness)
    h.fake.add_custom_emoji("partyparrot")
    form = open_settings(h, ADMIN)
    assert form["callback_id"] == "admin_settings_modal"
    assert {b["block_id"] for b in form["blocks"] if b["type"] == "input"} == set(form_state())

    reply = submit(
        h,
        form,
        form_state(
            admin_kudos_channel={"selected_conversation": "C0KUDOS"},
            admin_kudos_emoji={"value": "partyparrot"},
            admin_allowance={"value": "3"},
            admin_values={"value": "ownership, #craft"},
            admin_celebrations_channel={"selected_conversation": "C0PARTY"},
            admin_heads_up={"selected_options": [{"value": "yes"}]},
            admin_recap_channels={"selected_conversations": ["C0TEAM"]},
            admin_recap_day={"selected_option": {"value": "4"}},
            admin_recap_hour={"selected_option": {"value": "16"}},
            admin_recap_scope={"selected_option": {"value": "workspace"}},
            admin_admins={"selected_users": [ANA]},
            admin_spot_promises={"selected_options": [{"value": "yes"}]},
            admin_question_nudges={"selected_options": [{"value": "yes"}]},
            admin_question_wait={"value": "6"},
            admin_question_cap={"value": "2"},
        ),
        view_id="VADMIN1",
        user_id=ADMIN,
    )

    assert reply is None
    settings = h.app.services.workspaces.get(TEAM)
    assert settings.spot_promises is True
    assert (settings.question_nudges, settings.question_wait_hours, settings.question_daily_cap) == (
        True,
        6,
        2,
    )
    assert (settings.kudos_channel_id, settings.kudos_emoji, settings.daily_allowance) == (
        "C0KUDOS",
        "partyparrot",
        3,
    )
    assert settings.kudos_values == ("ownership", "craft")
    assert settings.recaps == {"C0TEAM": RecapSchedule(weekday=4, hour=16, scope="workspace")}
    assert settings.timezone == "Europe/London"  # the zone of the admin who set up the recap
    assert settings.admin_ids == (ANA,) and settings.celebration_heads_up
    assert len(h.fake.calls_to("conversations.members")) == 1  # the heads-up's audience, read once
    assert "ExtraMile settings" in str(latest_home(h, ADMIN)["blocks"])


def test_each_field_is_checked_and_explained_on_the_field(harness: Harness) -> None:
    h = admin_harness(harness)
    form = open_settings(h, ADMIN)

    reply = submit(
        h,
        form,
        form_state(
            admin_kudos_channel={"selected_conversation": "C0QUIET"},
            admin_kudos_emoji={"value": "not_an_emoji_at_all"},
            admin_allowance={"value": "1001"},
            admin_timezone={"value": "Mars/Olympus"},
        ),
        view_id="VADMIN2",
        user_id=ADMIN,
    )

    assert reply["response_action"] == "errors"
    errors = reply["errors"]
    assert "I'm not in <#C0QUIET> yet. Type `/invite @ExtraMile` there" in errors["admin_kudos_channel"]
    assert ":not_an_emoji_at_all: isn't an emoji here" in errors["admin_kudos_emoji"]
    assert "less than or equal to 1000" in errors["admin_allowance"]
    assert "Mars/Olympus is not a timezone name" in errors["admin_timezone"]
    assert h.app.services.workspaces.get(TEAM) == WorkspaceSettings(team_id=TEAM)  # nothing saved


def test_everyone_else_is_politely_refused_and_a_forged_form_changes_nothing(harness: Harness) -> None:
    h = admin_harness(harness)
    view = open_home(h, GIVER)
    assert "ExtraMile settings" not in str(view["blocks"])

    press_as(h, view, "home_admin_settings", GIVER)
    refusal = h.fake.calls_to("views.open")[-1].params["view"]
    assert "Only workspace admins and owners" in texts(refusal["blocks"])

    form = open_settings(h, ADMIN)
    forged = submit(h, form, form_state(admin_allowance={"value": "0"}), view_id="VFORGED", user_id=GIVER)
    assert forged["response_action"] == "errors"
    assert h.app.services.workspaces.get(TEAM).daily_allowance == 5


def test_someone_an_admin_chose_can_change_settings_too(harness: Harness) -> None:
    h = admin_harness(harness)
    h.configure(admin_ids=(ANA,))

    form = open_settings(h, ANA)
    reply = submit(
        h,
        form,
        form_state(admin_kudos_channel={"selected_conversation": GENERAL}),
        view_id="VANA",
        user_id=ANA,
    )

    assert reply is None and h.app.services.workspaces.get(TEAM).kudos_channel_id == GENERAL


def test_saving_the_form_keeps_each_channels_own_recap_and_greeting(harness: Harness) -> None:
    h = admin_harness(harness)
    h.fake.add_channel("C0ALL", "everyone")
    h.configure(
        recaps={
            "C0TEAM": {"weekday": 4, "hour": 16},
            "C0ALL": {"weekday": 0, "hour": 9, "scope": "workspace"},
        },
        channel_welcomes={"C0TEAM": "Hi {mention}, welcome to the team!", "C0ALL": "Welcome, {name}."},
    )
    form = open_settings(h, ADMIN)

    unchanged = submit(
        h,
        form,
        form_state(
            admin_recap_channels={"selected_conversations": ["C0TEAM", "C0ALL", GENERAL]},
            admin_recap_day={"selected_option": {"value": "4"}},
            admin_recap_hour={"selected_option": {"value": "16"}},
            admin_greet_channels={"selected_conversations": ["C0TEAM", "C0ALL"]},
            admin_greeting={"value": "Hi {mention}, welcome to the team!"},
        ),
        view_id="VKEEP",
        user_id=ADMIN,
    )

    assert unchanged is None
    settings = h.app.services.workspaces.get(TEAM)
    assert settings.recaps == {
        "C0TEAM": RecapSchedule(weekday=4, hour=16),
        "C0ALL": RecapSchedule(weekday=0, hour=9, scope="workspace"),
        GENERAL: RecapSchedule(weekday=4, hour=16),  # newly chosen: takes what the form says
    }
    assert settings.channel_welcomes == {
        "C0TEAM": "Hi {mention}, welcome to the team!",
        "C0ALL": "Welcome, {name}.",
    }


def test_a_greeting_channel_the_bot_is_not_in_is_explained_on_the_channel_picker(harness: Harness) -> None:
    h = admin_harness(harness)
    form = open_settings(h, ADMIN)

    reply = submit(
        h,
        form,
        form_state(
            admin_greet_channels={"selected_conversations": ["C0QUIET"]},
            admin_recap_channels={"selected_conversations": ["C0TEAM"]},
            admin_recap_hour={"selected_option": {"value": "nine"}},  # forged: not a number
        ),
        view_id="VQUIET",
        user_id=ADMIN,
    )

    assert "I'm not in <#C0QUIET> yet" in reply["errors"]["admin_greet_channels"]
    assert "valid integer" in reply["errors"]["admin_recap_channels"]
    assert h.app.services.workspaces.get(TEAM) == WorkspaceSettings(team_id=TEAM)
