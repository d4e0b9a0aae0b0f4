"""What people write in channels the bot is in (and in its DMs): a promise spotted as it is written is
offered privately to its author, with Track, Change…, Not now and Don't ask me.

Only plain new messages by people are read: edits, deletions, joins and bots' messages have subtypes or
bot ids and never reach the offer.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.services.offers import ChatMessage
from bot.services.promises import PromiseRefused
from bot.services.questions import QuestionRefused
from handlers.slack import offer_blocks, parse, promise_blocks, question_blocks
from handlers.slack.container import services_of
from handlers.slack.events import deliver_now, recorded
from handlers.slack.replies import replace_with, tell_privately

log = logging.getLogger(__name__)

# Where the bot reads messages (the manifest's message events): public and private channels, its own DMs.
READ_IN = frozenset({"channel", "group", "im"})
# Where questions are kept to nudge about: channels, not DMs with the bot.
IN_CHANNELS = frozenset({"channel", "group"})
OFFERED = "extramile_offer_recorded"
ASKED = "extramile_question_recorded"


def record_message(event: dict[str, Any], context: BoltContext) -> None:
    """Before the ack: a message that reads as a promise gets its offer recorded, a question that
    @mentions people is kept to nudge them, a reply in a thread answers the questions there (the words
    are never kept)."""
    message = chat_message(event, team_id=context.team_id or "", bot_user_id=context.bot_user_id)
    if message is None:
        return
    services = services_of(context)
    if services.questions.notice(message, in_channel=_channel_type(event) in IN_CHANNELS):
        context[ASKED] = message
    if services.offers.notice(message):
        context[OFFERED] = True


def record_reaction(event: dict[str, Any], context: BoltContext) -> None:
    """Before the ack: a reaction to a question by the person asked answers it."""
    item = event.get("item")
    if not isinstance(item, dict):
        return
    user_id, channel_id, ts = event.get("user"), item.get("channel"), item.get("ts")
    if item.get("type") != "message" or not all(isinstance(v, str) and v for v in (user_id, channel_id, ts)):
        return
    services_of(context).questions.reacted(
        team_id=context.team_id or "", channel_id=str(channel_id), message_ts=str(ts), user_id=str(user_id)
    )


def record_deletion(event: dict[str, Any], context: BoltContext) -> None:
    """Before the ack: a deleted question is nudged about no more."""
    previous = event.get("previous_message")
    deleted_ts = event.get("deleted_ts") or (previous.get("ts") if isinstance(previous, dict) else None)
    if isinstance(deleted_ts, str) and isinstance(event.get("channel"), str):
        services_of(context).questions.deleted(
            team_id=context.team_id or "", channel_id=event["channel"], message_ts=deleted_ts
        )


def after_message(context: BoltContext) -> None:
    """After the ack: an offer just recorded is shown now, and the people a question asked are looked up
    (most messages record nothing, and cost nothing here)."""
    if context.get(OFFERED):
        deliver_now(context)
    if isinstance(asked := context.get(ASKED), ChatMessage):
        services_of(context).questions.look_into(asked)


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
    if _channel_type(event) not in READ_IN or user_id == bot_user_id:
        return None
    written_at = _time_of(str(ts))
    if written_at is None:
        return None
    thread_ts, parent = event.get("thread_ts"), event.get("parent_user_id")
    return ChatMessage(
        team_id=team_id,
        channel_id=str(channel_id),
        user_id=str(user_id),
        ts=str(ts),
        text=str(text),
        written_at=written_at,
        thread_ts=thread_ts if isinstance(thread_ts, str) else None,
        parent_user_id=parent if isinstance(parent, str) else None,
        mentioned_ids=tuple(
            user for user in parse.mentioned_user_ids(str(text)) if user not in (user_id, bot_user_id)
        ),
    )


def _time_of(ts: str) -> datetime | None:
    """A Slack ts is the Unix time the message was written (None for one that is no time)."""
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _channel_type(event: dict[str, Any]) -> str:
    kind = event.get("channel_type", "channel")
    return kind if isinstance(kind, str) else ""


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
        tell_privately(respond, promise_blocks.refusal(error))  # the offer stays: Change… can fix it
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


def on_question_on_it(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, respond: Respond
) -> None:
    services = services_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    question, _, shown = str(action.get("value") or "").partition(":")
    try:
        question_id = int(question)
        shown_reply_by = datetime.fromtimestamp(int(shown), UTC) if shown else None
    except (ValueError, OverflowError, OSError):
        ack()
        return  # not a button of ours
    try:
        done = services.questions.on_it(
            team_id=team_id, question_id=question_id, actor_id=user_id, shown_reply_by=shown_reply_by
        )
    except QuestionRefused as error:
        ack()
        replace_with(respond, question_blocks.refusal(error))
        return
    except PromiseRefused as error:
        ack()
        tell_privately(respond, promise_blocks.refusal(error))  # the nudge stays, with its buttons
        return
    ack()  # the promise and the word in the thread are recorded
    promise = done.promise.promise
    replace_with(
        respond, question_blocks.on_it(done.reply_by, done.promise.promiser_tz, promise.promisee_ids[0])
    )
    services.deliver_soon()


def on_question_dismiss(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, respond: Respond
) -> None:
    try:
        question_id = int(action.get("value") or "")
        services_of(context).questions.dismiss(
            team_id=body["team"]["id"], question_id=question_id, actor_id=body["user"]["id"]
        )
    except ValueError:
        ack()
        return
    except QuestionRefused as error:
        ack()
        replace_with(respond, question_blocks.refusal(error))
        return
    ack()
    replace_with(respond, question_blocks.dismissed())


def on_question_open(ack: Ack) -> None:
    """A link button: Slack opens the question itself; there is nothing to record."""
    ack()


def register(app: App) -> None:
    """Before any other listener of `message` events: Bolt runs the first one that matches."""
    app.event(
        {"type": "message", "subtype": (None, "thread_broadcast")}, middleware=[recorded(record_message)]
    )(after_message)
    app.action(offer_blocks.TRACK)(on_offer_track)
    app.action(offer_blocks.CHANGE)(on_offer_change)
    app.action(offer_blocks.NOT_NOW)(on_offer_not_now)
    app.action(offer_blocks.STOP)(on_offer_stop)
    app.action(question_blocks.ON_IT)(on_question_on_it)
    app.action(question_blocks.DISMISS)(on_question_dismiss)
    app.action(question_blocks.OPEN)(on_question_open)
