"""Kudos listeners: /kudos, the kudos modal, the "Give kudos" shortcut, reaction kudos."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.services.kudos import KudosRefused, KudosRequest, Period, reply_to
from bot.services.ports import DeliveryError, PrivateReply
from handlers.slack import blocks, messages, parse
from handlers.slack.container import services_of
from handlers.slack.events import deliver_now, recorded
from handlers.slack.replies import ack_with

log = logging.getLogger(__name__)

_PERIODS: dict[str, Period] = {"week": "week", "month": "month", "all": "all", "ever": "all"}


def kudos_command(ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    services = services_of(context)
    text = command.get("text") or ""
    word = parse.first_word(text)
    team_id = command["team_id"]
    settings = services.workspaces.get(team_id)
    # Typed in a DM with no kudos channel set: there is nowhere public to post yet.
    in_dm = command.get("channel_name") == "directmessage" or str(command.get("channel_id", "")).startswith(
        "D"
    )
    needs_channel = in_dm and not settings.kudos_channel_id
    if not text.strip():
        ack()
        client.views_open(
            trigger_id=command["trigger_id"],
            view=blocks.kudos_modal(
                values=settings.kudos_values,
                channel_id=None if needs_channel else command.get("channel_id"),
                ask_channel=needs_channel,
            ),
        )
        return
    if word in ("top", "leaderboard", "leaders"):
        args = text.lower().split()
        period = _PERIODS.get(args[1] if len(args) > 1 else "week")
        if period is None:
            ack(text="Try `/kudos top week`, `/kudos top month` or `/kudos top all`.")
            return
        board = services.kudos.leaderboard(team_id=team_id, viewer_id=command["user_id"], period=period)
        ack_with(ack, blocks.leaderboard(board))
        return
    parsed = parse.kudos_text(text)
    if needs_channel and word not in ("help", "top", "leaderboard", "leaders"):
        ack_with(ack, blocks.kudos_need_a_channel())
        return
    if word == "help" or (not parsed.user_ids and not parsed.group_ids and len(text.split()) == 1):
        ack_with(ack, blocks.kudos_help())
        return
    request = KudosRequest(
        team_id=team_id,
        giver_id=command["user_id"],
        # A trigger id is unique to one invocation: a redelivered command carries the same one.
        dedupe_key=f"command:{command['trigger_id']}",
        source="command",
        user_ids=parsed.user_ids,
        group_ids=parsed.group_ids,
        message=parsed.message,
        values=parsed.values,
        channel_id=command.get("channel_id"),
        reply=reply_to(command["user_id"], command.get("response_url"), now=services.clock.now()),
    )
    if parsed.group_ids:
        # Looking up every member of a group can outlast Slack's 3 s: the request is recorded, then
        # checked and given from the outbox; a refusal arrives a moment later, privately.
        services.kudos.give_later(request)
        ack()
        services.deliver_soon()
        return
    try:
        services.kudos.give(request)
    except KudosRefused as error:
        ack_with(ack, blocks.refusal(error))
        return
    # Recorded, with its post waiting in the outbox: the kick sends it now, a restart would too.
    ack()
    services.deliver_soon()


def kudos_modal_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    values = view.get("state", {}).get("values", {})
    metadata = _metadata(view.get("private_metadata"))
    user_ids = tuple(
        values.get(blocks.RECIPIENTS_BLOCK, {}).get(blocks.RECIPIENTS_ACTION, {}).get("selected_users") or ()
    )
    message = values.get(blocks.MESSAGE_BLOCK, {}).get(blocks.MESSAGE_ACTION, {}).get("value") or ""
    selected = values.get(blocks.VALUES_BLOCK, {}).get(blocks.VALUES_ACTION, {}).get("selected_options") or []
    giver_id = body["user"]["id"]
    request = KudosRequest(
        team_id=view.get("team_id") or body["team"]["id"],
        giver_id=giver_id,
        # The view id stays the same when Slack redelivers the same submission.
        dedupe_key=f"view:{view['id']}",
        source="shortcut" if metadata.get("reason_link") else "modal",
        user_ids=user_ids,
        message=message,
        values=tuple(option["value"] for option in selected),
        channel_id=metadata.get("channel_id")
        or values.get(blocks.CHANNEL_BLOCK, {}).get(blocks.CHANNEL_ACTION, {}).get("selected_conversation"),
        reason_link=metadata.get("reason_link"),
        # The form is closed by then: anything the giver should hear later comes by DM.
        reply=PrivateReply(user_id=giver_id),
    )
    try:
        services.kudos.give(request)
    except KudosRefused as error:
        block_id, text = blocks.error_for_block(error)
        ack(response_action="errors", errors={block_id: text})
        return
    ack()
    services.deliver_soon()


def give_kudos_shortcut(ack: Ack, shortcut: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ack()
    services = services_of(context)
    team_id = (shortcut.get("team") or {}).get("id") or context.team_id or ""
    message = shortcut.get("message") or {}
    channel_id = (shortcut.get("channel") or {}).get("id")
    author = message.get("user")
    reason_link: str | None = None
    if channel_id and message.get("ts"):
        try:
            reason_link = services.messenger.permalink(team_id, channel_id, message["ts"])
        except DeliveryError as error:
            log.info("no permalink for the shortcut's message: %s", error.reason)
    settings = services.workspaces.get(team_id)
    client.views_open(
        trigger_id=shortcut["trigger_id"],
        view=blocks.kudos_modal(
            values=settings.kudos_values,
            channel_id=channel_id,
            initial_user_ids=[author] if author and not message.get("bot_id") else None,
            reason_link=reason_link,
        ),
    )


def record_reaction_added(event: dict[str, Any], context: BoltContext) -> None:
    """Before the ack: a reaction with the kudos emoji is recorded as work to give."""
    item = event.get("item") or {}
    if item.get("type") != "message" or not event.get("item_user") or not item.get("channel"):
        return
    services_of(context).kudos.record_reaction(
        team_id=context.team_id or "",
        channel_id=item["channel"],
        message_ts=item["ts"],
        reactor_id=event["user"],
        author_id=event["item_user"],
        reaction=base_emoji(event.get("reaction") or ""),
        event_ts=event.get("event_ts"),
    )


def record_reaction_removed(event: dict[str, Any], context: BoltContext) -> None:
    """Before the ack: the kudos it gave is taken back (its post is taken down by the outbox)."""
    item = event.get("item") or {}
    if item.get("type") != "message" or not item.get("channel"):
        return
    services = services_of(context)
    team_id = context.team_id or ""
    if base_emoji(event.get("reaction") or "") != services.workspaces.get(team_id).kudos_emoji:
        return
    services.kudos.revoke_reaction(
        team_id=team_id,
        channel_id=item["channel"],
        message_ts=item["ts"],
        reactor_id=event["user"],
        event_ts=event.get("event_ts"),
    )


def record_message_deleted(event: dict[str, Any], context: BoltContext) -> None:
    """Before the ack: a deleted message takes its reaction kudos with it."""
    deleted_ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
    if not deleted_ts or not event.get("channel"):
        return
    services_of(context).kudos.revoke_for_deleted_message(
        team_id=context.team_id or "", channel_id=event["channel"], message_ts=deleted_ts
    )


def base_emoji(reaction: str) -> str:
    """`clap::skin-tone-3` is `clap`: Slack adds the reactor's skin tone to the name."""
    return reaction.split("::", 1)[0]


def on_other_message(ack: Ack) -> None:
    """We subscribe to channel messages only to see deletions; everything else is acknowledged."""
    ack()


def _metadata(raw: str | None) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def register(app: App) -> None:
    app.command("/kudos")(kudos_command)
    app.view_submission(blocks.KUDOS_MODAL)(kudos_modal_submit)
    app.message_shortcut(blocks.GIVE_KUDOS_SHORTCUT)(give_kudos_shortcut)
    # A reaction, or a deletion, may also settle a question kept to nudge about (handlers.slack.messages).
    app.event(
        "reaction_added", middleware=[recorded(record_reaction_added), recorded(messages.record_reaction)]
    )(deliver_now)
    app.event("reaction_removed", middleware=[recorded(record_reaction_removed)])(deliver_now)
    app.event(
        {"type": "message", "subtype": "message_deleted"},
        middleware=[recorded(record_message_deleted), recorded(messages.record_deletion)],
    )(deliver_now)
    app.event("message")(on_other_message)
