"""The App Home: published when a person opens it and again after each change they make through it,
and the form for how ExtraMile reaches them."""

from __future__ import annotations

import logging
from datetime import date, time
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.people import Preferences
from handlers.slack import home_blocks
from handlers.slack.container import SlackServices, services_of

log = logging.getLogger(__name__)


def publish_home(services: SlackServices, client: WebClient, team_id: str, user_id: str) -> None:
    """Shows the person their Home as of now. A view, not a promise: a failure is only logged."""
    view = home_blocks.home(services.home.home(team_id=team_id, user_id=user_id))
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as error:
        log.info("could not publish the Home of %s: %s", user_id, error.response.get("error"))


def from_home(body: dict[str, Any]) -> bool:
    """Whether an action came from a button on the Home (there is no message there to replace)."""
    return (body.get("container") or {}).get("type") == "view" and (body.get("view") or {}).get(
        "type"
    ) == "home"


def on_app_home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    if event.get("tab") != "home" or not event.get("user"):
        return
    publish_home(services_of(context), client, context.team_id or "", event["user"])


def on_open_preferences(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ack()
    services = services_of(context)
    preferences = services.people.preferences(body["team"]["id"], body["user"]["id"])
    client.views_open(trigger_id=body["trigger_id"], view=home_blocks.preferences_modal(preferences))


def on_preferences_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    services = services_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    values = (view.get("state") or {}).get("values") or {}

    def picked(block: str, action: str) -> dict[str, Any]:
        value = (values.get(block) or {}).get(action)
        return value if isinstance(value, dict) else {}

    errors: dict[str, str] = {}
    days = [
        int(o["value"])
        for o in picked(home_blocks.DAYS_BLOCK, home_blocks.DAYS_ACTION).get("selected_options") or []
        if isinstance(o, dict) and str(o.get("value")).isdigit()  # a forged form gets "pick a day"
    ]
    start = _time(picked(home_blocks.START_BLOCK, home_blocks.START_ACTION).get("selected_time"))
    end = _time(picked(home_blocks.END_BLOCK, home_blocks.END_ACTION).get("selected_time"))
    away_text = picked(home_blocks.AWAY_BLOCK, home_blocks.AWAY_ACTION).get("selected_date")
    mode = (picked(home_blocks.DIGEST_BLOCK, home_blocks.DIGEST_ACTION).get("selected_option") or {}).get(
        "value"
    )
    offers = any(
        isinstance(option, dict) and option.get("value") == home_blocks.OFFERS_ON
        for option in picked(home_blocks.OFFERS_BLOCK, home_blocks.OFFERS_ACTION).get("selected_options")
        or []
    )
    if not days:
        errors[home_blocks.DAYS_BLOCK] = "Pick at least one day you work."
    if start is None:
        errors[home_blocks.START_BLOCK] = "Pick a time, like 09:00."
    if end is None:
        errors[home_blocks.END_BLOCK] = "Pick a time, like 18:00."
    elif start is not None and end <= start:
        errors[home_blocks.END_BLOCK] = "Your day has to end after it starts."
    away = _date(away_text)
    if away_text and away is None:
        errors[home_blocks.AWAY_BLOCK] = "Pick a date."
    if errors or start is None or end is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        preferences = Preferences(
            work_days=tuple(days),
            work_start=start,
            work_end=end,
            away_until=away,
            digest=mode == "digest",
            promise_offers=offers,
        )
    except ValidationError:
        ack(
            response_action="errors",
            errors={home_blocks.DAYS_BLOCK: "Those days and hours don't fit together."},
        )
        return
    services.people.save_preferences(team_id, user_id, preferences)
    ack()
    publish_home(services, client, team_id, user_id)


def _time(text: object) -> time | None:
    try:
        return time.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _date(text: object) -> date | None:
    try:
        return date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def register(app: App) -> None:
    app.event("app_home_opened")(on_app_home_opened)
    app.action(home_blocks.OPEN_PREFERENCES)(on_open_preferences)
    app.view_submission(home_blocks.PREFERENCES_MODAL)(on_preferences_submit)
