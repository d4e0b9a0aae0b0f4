"""People listeners: joins and profile changes, /birthday, /anniversary, the dates form, waves, and
/extramile forget-me."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.services.administration import NotAnAdmin
from bot.services.celebrations import DateRefused
from bot.services.hours import zone_of
from handlers.slack import people_blocks
from handlers.slack.container import services_of
from handlers.slack.events import deliver_now, recorded
from handlers.slack.home import publish_home
from handlers.slack.messenger import person_from_slack
from handlers.slack.replies import ack_with, replace_with, tell_privately

log = logging.getLogger(__name__)


def record_team_join(event: dict[str, Any], context: BoltContext) -> None:
    """Before the ack: the welcome is queued, once per person however often Slack reports the join."""
    services = services_of(context)
    services.welcomes.joined_workspace(person_from_slack(context.team_id or "", event.get("user") or {}))


def record_user_change(event: dict[str, Any], context: BoltContext) -> None:
    services_of(context).people.changed(person_from_slack(context.team_id or "", event.get("user") or {}))


def record_member_joined_channel(event: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    team_id = context.team_id or event.get("team") or ""
    channel_id, user_id = event.get("channel"), event.get("user")
    if not (channel_id and user_id):
        return
    if services.celebrations.member_joined(team_id=team_id, channel_id=channel_id, user_id=user_id):
        # Their timezone, for the heads-up: a cache warmed in passing, nothing was promised on it.
        services.follow_ups.submit(services.people.tz, team_id, user_id)
    services.welcomes.joined_channel(team_id=team_id, user_id=user_id, channel_id=channel_id)


def record_member_left_channel(event: dict[str, Any], context: BoltContext) -> None:
    if not (event.get("channel") and event.get("user")):
        return
    services_of(context).celebrations.member_left(
        team_id=context.team_id or event.get("team") or "", channel_id=event["channel"], user_id=event["user"]
    )


def birthday_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    _dates_command(ack, command, context, "birthday")


def anniversary_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    _dates_command(ack, command, context, "anniversary")


def _dates_command(ack: Ack, command: dict[str, Any], context: BoltContext, kind: str) -> None:
    services = services_of(context)
    team_id, user_id = command["team_id"], command["user_id"]
    text = (command.get("text") or "").strip()
    word = text.lower()
    if word in ("", "help"):
        ack_with(ack, people_blocks.birthday_help())
        return
    if word == "list":
        ack_with(
            ack, people_blocks.upcoming(services.celebrations.upcoming(team_id=team_id, viewer_id=user_id))
        )
        return
    if word in ("clear", "forget", "remove"):
        services.celebrations.clear(
            team_id=team_id, user_id=user_id, kind="birthday" if kind == "birthday" else "anniversary"
        )
        ack_with(
            ack,
            people_blocks.shared(
                services.celebrations.shared(team_id=team_id, user_id=user_id), "Cleared. Now"
            ),
        )
        return
    try:
        if kind == "birthday":
            services.celebrations.share_birthday(team_id=team_id, user_id=user_id, text=text)
        else:
            services.celebrations.share_start_date(team_id=team_id, user_id=user_id, text=text)
    except DateRefused as error:
        ack_with(ack, people_blocks.date_refused(error))
        return
    ack_with(
        ack,
        people_blocks.shared(
            services.celebrations.shared(team_id=team_id, user_id=user_id), "Thanks! :sparkles: Saved."
        ),
    )


def on_share_dates(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ack()
    services = services_of(context)
    dates = services.celebrations.shared(team_id=body["team"]["id"], user_id=body["user"]["id"])
    client.views_open(trigger_id=body["trigger_id"], view=people_blocks.dates_modal(dates))


def on_dates_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    services = services_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    values = (view.get("state") or {}).get("values") or {}
    birthday = (
        (values.get(people_blocks.BIRTHDAY_BLOCK) or {}).get(people_blocks.BIRTHDAY_ACTION) or {}
    ).get("value")
    start = ((values.get(people_blocks.START_BLOCK) or {}).get(people_blocks.START_ACTION) or {}).get(
        "selected_date"
    )
    errors: dict[str, str] = {}
    try:
        if birthday:
            services.celebrations.share_birthday(team_id=team_id, user_id=user_id, text=birthday)
    except DateRefused as error:
        errors[people_blocks.BIRTHDAY_BLOCK] = str(error)
    try:
        if start:
            services.celebrations.share_start_date(team_id=team_id, user_id=user_id, text=start)
    except DateRefused as error:
        errors[people_blocks.START_BLOCK] = str(error)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    publish_home(services, client, team_id, user_id)  # the Home shows dates: show the new ones


def on_wave(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, respond: Respond
) -> None:
    services = services_of(context)
    newcomer_id, waver_id = action.get("value") or "", body["user"]["id"]
    waved = services.welcomes.wave(team_id=body["team"]["id"], newcomer_id=newcomer_id, waver_id=waver_id)
    ack()  # after the wave is recorded: a 200 means it will reach them
    if waved:
        services.deliver_soon()
        text = f"Wave sent to <@{newcomer_id}> 👋"
    elif newcomer_id == waver_id:
        text = "That's you! Everyone else can wave at you, though."
    else:
        text = f"You already waved at <@{newcomer_id}>. Maybe say hi in the thread?"
    tell_privately(respond, people_blocks.message(text))


EXPORT_DAYS = 90


def extramile_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    text = (command.get("text") or "").strip().lower()
    if text in ("forget-me", "forget me", "forgetme"):
        ack_with(ack, people_blocks.forget_me_confirm())
        return
    if text.split()[:1] == ["export"]:
        _export(ack, command, context, text.split()[1:])
        return
    ack_with(
        ack,
        people_blocks.message(
            "`/kudos` to thank someone, `/promise` to close a loop, `/checkin` to keep in touch, "
            "`/birthday` and `/anniversary` to be celebrated, `/extramile forget-me` to be forgotten. "
            "Admins: `/extramile export [FROM] [TO]` for CSV files of kudos, promises and check-ins."
        ),
    )


def _export(ack: Ack, command: dict[str, Any], context: BoltContext, words: list[str]) -> None:
    """`/extramile export [FROM] [TO]`: days in the admin's own zone, the last 90 days by default."""
    services = services_of(context)
    team_id, user_id = command["team_id"], command["user_id"]
    zone = zone_of(services.people.tz(team_id, user_id))
    today = services.clock.now().astimezone(zone).date()
    try:
        days = [date.fromisoformat(word) for word in words[:2]]
    except ValueError:
        days = []
    if len(words) > 2 or len(days) != len(words) or any(not 2000 <= day.year <= 2100 for day in days):
        ack_with(ack, people_blocks.message(EXPORT_USAGE))
        return
    first = days[0] if days else today - timedelta(days=EXPORT_DAYS)
    last = days[1] if len(days) > 1 else today
    if first > last:
        ack_with(ack, people_blocks.message(f"{first} comes after {last}. " + EXPORT_USAGE))
        return
    try:
        services.exports.request(
            team_id=team_id,
            admin_id=user_id,
            since=datetime.combine(first, time(0), zone),
            until=datetime.combine(last + timedelta(days=1), time(0), zone),
            token=command["trigger_id"],
        )
    except NotAnAdmin:
        ack_with(
            ack,
            people_blocks.message(
                "Exports are for workspace admins. Ask one of them if you need the numbers."
            ),
        )
        return
    ack_with(
        ack,
        people_blocks.message(
            f"On it: kudos, promises and check-ins from {first} to {last}, as CSV files in our DM."
        ),
    )
    services.deliver_soon()


EXPORT_USAGE = "Try `/extramile export` (the last 90 days) or `/extramile export 2026-09-01 2026-11-30`."


def on_forget_confirm(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    services = services_of(context)
    result = services.privacy.forget(team_id=body["team"]["id"], user_id=body["user"]["id"])
    ack()
    replace_with(respond, people_blocks.forgotten(result))


def register(app: App) -> None:
    app.event("team_join", middleware=[recorded(record_team_join)])(deliver_now)
    app.event("user_change", middleware=[recorded(record_user_change)])(deliver_now)
    app.event("member_joined_channel", middleware=[recorded(record_member_joined_channel)])(deliver_now)
    app.event("member_left_channel", middleware=[recorded(record_member_left_channel)])(deliver_now)
    app.command("/birthday")(birthday_command)
    app.command("/anniversary")(anniversary_command)
    app.command("/extramile")(extramile_command)
    app.action(people_blocks.SHARE_DATES)(on_share_dates)
    app.action(people_blocks.WAVE)(on_wave)
    app.action(people_blocks.FORGET_CONFIRM)(on_forget_confirm)
    app.view_submission(people_blocks.DATES_MODAL)(on_dates_submit)
