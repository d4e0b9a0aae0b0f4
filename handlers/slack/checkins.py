"""Check-in listeners: /checkin and the Done / Tomorrow morning / Skip / Stop buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.services.checkins import CheckinRefused, CheckinRequest
from handlers.slack import checkin_blocks, parse
from handlers.slack.blocks import in_digest
from handlers.slack.container import services_of
from handlers.slack.home import from_home, publish_home
from handlers.slack.replies import ack_with, replace_with, tell_privately


def checkin_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    text = (command.get("text") or "").strip()
    word = text.split(maxsplit=1)[0].lower() if text else ""
    team_id, user_id = command["team_id"], command["user_id"]
    if word in ("", "help"):
        ack_with(ack, checkin_blocks.checkin_help())
        return
    if word == "list":
        checkins, tz = services.checkins.active(team_id=team_id, user_id=user_id)
        ack_with(ack, checkin_blocks.listing(checkins, tz))
        return
    if word == "stop":
        _stop_command(ack, services, team_id, user_id, text[len(word) :].strip())
        return
    who = parse.addressed(text, many=False)
    request = CheckinRequest(
        team_id=team_id,
        requester_id=user_id,
        dedupe_key=f"command:{command['trigger_id']}",
        contact_user_id=who.user_ids[0] if who.user_ids else None,
        contact_name=who.contact_name,
        text=who.rest,
    )
    try:
        made = services.checkins.make(request)
    except CheckinRefused as error:
        ack_with(ack, checkin_blocks.refusal(error))
        return
    ack_with(ack, checkin_blocks.confirmation(made))


def _stop_command(ack: Ack, services: Any, team_id: str, user_id: str, who: str) -> None:
    checkins, tz = services.checkins.active(team_id=team_id, user_id=user_id)
    named = parse.addressed(who, many=False)
    name = (named.contact_name or who).strip().casefold()
    matching = [
        c
        for c in checkins
        if (named.user_ids and c.contact_user_id == named.user_ids[0])
        or (not named.user_ids and name and (c.contact_name or "").casefold() == name)
    ]
    if not matching:
        # Nothing named, or nothing matched: show them all, each with its Stop button.
        ack_with(ack, checkin_blocks.listing(checkins, tz))
        return
    for checkin in matching:
        services.checkins.stop(team_id=team_id, checkin_id=checkin.id, actor_id=user_id)
    ack_with(ack, checkin_blocks.stopped(matching[0]))


def on_checkin_button(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    context: BoltContext,
    respond: Respond,
    client: WebClient,
) -> None:
    services = services_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    try:
        checkin_id = int(action.get("value") or "")
    except ValueError:
        ack()
        return
    action_id = action["action_id"]
    tz = services.promises.tz_of(team_id, user_id)
    try:
        if action_id in (checkin_blocks.DONE, checkin_blocks.SKIP):
            skipped = action_id == checkin_blocks.SKIP
            checkin = services.checkins.done(
                team_id=team_id,
                checkin_id=checkin_id,
                actor_id=user_id,
                skipped=skipped,
                token=str(action.get("action_ts") or ""),
            )
            rendered = checkin_blocks.after_done(checkin, tz, skipped=skipped)
        elif action_id == checkin_blocks.SNOOZE:
            at = services.checkins.snooze(
                team_id=team_id, checkin_id=checkin_id, actor_id=user_id, token=action["action_ts"]
            )
            rendered = checkin_blocks.snoozed(at, tz)
        else:
            rendered = checkin_blocks.stopped(
                services.checkins.stop(team_id=team_id, checkin_id=checkin_id, actor_id=user_id)
            )
    except CheckinRefused as error:
        ack()
        if from_home(body):
            publish_home(services, client, team_id, user_id)  # a stale button: show how things are now
        else:
            tell_privately(respond, checkin_blocks.refusal(error))
        return
    ack()  # after the change is recorded: a 200 means it happened
    if from_home(body):
        publish_home(services, client, team_id, user_id)
    elif in_digest(action):
        tell_privately(respond, rendered)  # the digest's other items stay as they are
    else:
        replace_with(respond, rendered)


def register(app: App) -> None:
    app.command("/checkin")(checkin_command)
    for action_id in checkin_blocks.CHECKIN_ACTIONS:
        app.action(action_id)(on_checkin_button)
