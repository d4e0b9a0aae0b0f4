"""The admins' "ExtraMile settings" form: opened from the Home, checked on every submission."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.services.administration import NotAnAdmin, SettingsRefused
from bot.services.workspaces import WorkspaceSettings
from handlers.slack import admin_blocks, home_blocks
from handlers.slack.admin_blocks import ACTION
from handlers.slack.container import services_of
from handlers.slack.home import publish_home


def on_open_admin_settings(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ack()
    services = services_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    if not services.administration.is_admin(team_id=team_id, user_id=user_id, fresh=True):
        client.views_open(trigger_id=body["trigger_id"], view=admin_blocks.only_admins())
        return
    settings = services.workspaces.get(team_id)
    client.views_open(trigger_id=body["trigger_id"], view=admin_blocks.settings_modal(settings))


def on_admin_settings_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    services = services_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    try:
        current = services.workspaces.get(team_id)
        changed = services.administration.change(
            team_id=team_id, actor_id=user_id, changes=settings_from(view, current)
        )
    except NotAnAdmin:
        # A forged or stale form from someone who is not an admin: nothing changes.
        ack(
            response_action="errors",
            errors={admin_blocks.KUDOS_EMOJI: "Only admins can change these settings."},
        )
        return
    except SettingsRefused as refused:
        errors: dict[str, str] = {}
        for field, message in refused.errors.items():
            errors.setdefault(admin_blocks.BLOCK_FOR_FIELD.get(field, admin_blocks.KUDOS_EMOJI), message)
        ack(response_action="errors", errors=errors)
        return
    ack()
    if services.administration.heads_up_needs_members(current, changed):
        # Read after the acknowledgement (a big channel takes a while); kept up to date from events.
        services.follow_ups.submit(services.administration.refresh_heads_up_audience, team_id=team_id)
    publish_home(services, client, team_id, user_id)


def settings_from(view: dict[str, Any], current: WorkspaceSettings) -> dict[str, Any]:
    """The form's values as workspace settings (validated by the service, not here). The recap schedule
    and the greeting are one field for many channels: left as shown, each channel keeps its own; changed,
    every chosen channel takes the new one. A channel newly chosen takes what the form says."""
    values = (view.get("state") or {}).get("values") or {}
    try:
        shown = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        shown = {}
    if not isinstance(shown, dict):
        shown = {}

    def field(block_id: str) -> dict[str, Any]:
        value = (values.get(block_id) or {}).get(ACTION)
        return value if isinstance(value, dict) else {}

    def text(block_id: str) -> str:
        return str(field(block_id).get("value") or "").strip()

    def chosen(block_id: str) -> str | None:
        option = field(block_id).get("selected_option")
        return str(option.get("value")) if isinstance(option, dict) else None

    def ticked(block_id: str) -> bool:
        return bool(field(block_id).get("selected_options"))

    def number(raw: str | None, default: int) -> int | str:
        # A forged non-number goes on as it is: the settings' own check explains it on its field.
        if not raw:
            return default
        return int(raw) if raw.lstrip("-").isdigit() else raw

    def chosen_many(block_id: str, key: str) -> list[str]:
        picked = field(block_id).get(key)
        return [str(item) for item in picked] if isinstance(picked, list) else []

    greeting = text(admin_blocks.GREETING) or admin_blocks.DEFAULT_GREETING
    recap = {
        "weekday": number(chosen(admin_blocks.RECAP_DAY), 0),
        "hour": number(chosen(admin_blocks.RECAP_HOUR), 9),
        "scope": chosen(admin_blocks.RECAP_SCOPE) or "members",
    }
    keep_schedules = recap == shown.get("schedule")
    keep_greetings = greeting == shown.get("greeting")
    return {
        "kudos_channel_id": field(admin_blocks.KUDOS_CHANNEL).get("selected_conversation"),
        "kudos_emoji": text(admin_blocks.KUDOS_EMOJI),
        "daily_allowance": number(text(admin_blocks.ALLOWANCE), 0),
        "kudos_values": text(admin_blocks.VALUES),
        "welcome_channel_id": field(admin_blocks.WELCOME_CHANNEL).get("selected_conversation"),
        "welcome_text": text(admin_blocks.WELCOME_TEXT) or None,
        "welcome_guests": ticked(admin_blocks.GUESTS),
        "channel_welcomes": {
            channel: current.channel_welcomes[channel]
            if keep_greetings and channel in current.channel_welcomes
            else greeting
            for channel in chosen_many(admin_blocks.GREET_CHANNELS, "selected_conversations")
        },
        "channel_welcome_mode": chosen(admin_blocks.GREETING_MODE) or "dm",
        "celebrations_channel_id": field(admin_blocks.CELEBRATIONS_CHANNEL).get("selected_conversation"),
        "celebration_hour": number(chosen(admin_blocks.CELEBRATION_HOUR), 9),
        "weekend_rule": chosen(admin_blocks.WEEKEND_RULE) or "friday",
        "celebration_heads_up": ticked(admin_blocks.HEADS_UP),
        "timezone": text(admin_blocks.TIMEZONE) or None,
        "recaps": {
            channel: current.recaps[channel].model_dump()
            if keep_schedules and channel in current.recaps
            else recap
            for channel in chosen_many(admin_blocks.RECAP_CHANNELS, "selected_conversations")
        },
        "recap_names": ticked(admin_blocks.RECAP_NAMES),
        "admin_ids": chosen_many(admin_blocks.ADMINS, "selected_users"),
        "spot_promises": ticked(admin_blocks.SPOT_PROMISES),
        "question_nudges": ticked(admin_blocks.QUESTION_NUDGES),
        "question_wait_hours": number(text(admin_blocks.QUESTION_WAIT), 4),
        "question_daily_cap": number(text(admin_blocks.QUESTION_CAP), 3),
    }


def register(app: App) -> None:
    app.action(home_blocks.OPEN_ADMIN_SETTINGS)(on_open_admin_settings)
    app.view_submission(admin_blocks.SETTINGS_MODAL)(on_admin_settings_submit)
