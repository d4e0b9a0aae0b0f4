"""What people write in channels the bot is in (and in its DMs): a promise spotted as it is written is
offered privately to its author, with Track, Change…, Not now and Don't ask me.

Only plain new messages by people are read: edits, deletions, joins and bots' messages have subtypes or
bot ids and never reach the offer.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.services.offers import ChatMessage
from bot.services.promises import PromiseRefused
from handlers.slack import offer_blocks, parse, promise_blocks
from handlers.slack.container import services_of
from handlers.slack.events import deliver_now, recorded
from handlers.slack.replies import replace_with

log = logging.getLogger(__name__)

# Where the bot reads messages (the manifest's message events): public and private channels, its own DMs.
READ_IN = frozenset({"channel", "group", "im"})
OFFERED = "extramile_offer_recorded"


def record_message(event: dict[str, Any], context: BoltContext) -> None:
    """Before the ack: a message that reads as a promise gets its offer recorded (its words are not)."""
    message = chat_message(event, team_id=context.team_id or "", bot_user_id=context.bot_user_id)
    if message is not None and services_of(context).offers.notice(message):
        context[OFFERED] = True


def after_message(context: BoltContext) -> None:
    """After the ack: an offer just recorded is shown now (most messages record nothing, and cost nothing)."""
    if context.get(OFFERED):
        deliver_now(context)


def chat_message(event: dict[str, Any], *, team_id: str, bot_user_id: str | None) -> ChatMessage | None:
    """A person's new message as the offer service reads it; None for anything else (a bot, an edit,
    a join, a shape we do not know)."""
    user_id, text, ts, channel_id = (
        event.get("user"),
        event.get("text"),
        event.get("ts"),
        event.get("channel"),
    )
    if event.get("bot_id") or event.get("hidden") or event.get("subtype") not in (None, "thread_broadcast"):
        return None
    if not all(isinstance(value, str) and value for value in (user_id, text, ts, channel_id, team_id)):
        return None
    if event.get("channel_type", "channel") not in READ_IN or user_id == bot_user_id:
        return None
    thread_ts, parent = event.get("thread_ts"), event.get("parent_user_id")
    return ChatMessage(
        team_id=team_id,
        channel_id=str(channel_id),
        user_id=str(user_id),
        ts=str(ts),
        text=str(text),
        thread_ts=thread_ts if isinstance(thread_ts, str) else None,
        parent_user_id=parent if isinstance(parent, str) else None,
        mentioned_ids=tuple(
            user for user in parse.mentioned_user_ids(str(text)) if user not in (user_id, bot_user_id)
        ),
    )


def on_offer_track(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, respond: Respond
) -> None:
    services = services_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    choice = offer_blocks.choice_from(action.get("value"), team_id=team_id, author_id=user_id)
    if choice is None:
        ack()
        replace_with(respond, offer_blocks.not_understood())
        return
    try:
        made = services.offers.track(choice)
    except PromiseRefused as error:
        ack()
        replace_with(respond, promise_blocks.refusal(error))
        return
    ack()  # the promise is recorded: a 200 means it is tracked
    replace_with(respond, promise_blocks.confirmation(made))
    services.deliver_soon()


def on_offer_change(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    respond: Respond,
) -> None:
    """The promise form, filled in with what was offered: the people waiting, the words, the time."""
    ack()
    services = services_of(context)
    choice = offer_blocks.choice_from(
        action.get("value"), team_id=body["team"]["id"], author_id=body["user"]["id"]
    )
    if choice is None:
        replace_with(respond, offer_blocks.not_understood())
        return
    now = services.clock.now()
    view = promise_blocks.promise_modal(
        author_id=None,
        context_link=choice.link,
        channel_id=choice.channel_id,
        message_ts=choice.message_ts,
        initial=choice.due_at if choice.due_at > now else now + timedelta(days=1),
        initial_user_ids=choice.promisee_ids,
        initial_what=choice.title,
        from_offer=True,
    )
    metadata = json.loads(view["private_metadata"])
    metadata["response_url"] = body.get("response_url")
    client.views_open(trigger_id=body["trigger_id"], view={**view, "private_metadata": json.dumps(metadata)})


def on_offer_not_now(ack: Ack, respond: Respond) -> None:
    ack()
    respond(delete_original=True)


def on_offer_stop(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    services_of(context).offers.stop_offering(body["team"]["id"], body["user"]["id"])
    ack()  # recorded: no offer after this one
    replace_with(respond, offer_blocks.stopped())


def register(app: App) -> None:
    """Before any other listener of `message` events: Bolt runs the first one that matches."""
    app.event(
        {"type": "message", "subtype": (None, "thread_broadcast")}, middleware=[recorded(record_message)]
    )(after_message)
    app.action(offer_blocks.TRACK)(on_offer_track)
    app.action(offer_blocks.CHANGE)(on_offer_change)
    app.action(offer_blocks.NOT_NOW)(on_offer_not_now)
    app.action(offer_blocks.STOP)(on_offer_stop)
