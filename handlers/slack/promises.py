"""Promise listeners: /promise, the reminder buttons, the ETA and cancel forms, the message shortcut."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.services import keys
from bot.services.ports import DeliveryError
from bot.services.promises import PromiseRefused, PromiseRequest, PromiseView
from handlers.slack import blocks, parse, promise_blocks
from handlers.slack.blocks import Rendered, in_digest
from handlers.slack.container import SlackServices, services_of
from handlers.slack.home import from_home, publish_home
from handlers.slack.replies import ack_with, replace_with, tell_privately

log = logging.getLogger(__name__)


def promise_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    text = (command.get("text") or "").strip()
    word = text.split(maxsplit=1)[0].lower() if text else ""
    team_id, user_id = command["team_id"], command["user_id"]
    if word in ("", "help"):
        ack_with(ack, promise_blocks.promise_help())
        return
    if word == "list":
        ack_with(ack, promise_blocks.promise_list(services.promises.lists(team_id=team_id, user_id=user_id)))
        return
    who = parse.addressed(text)
    request = PromiseRequest(
        team_id=team_id,
        promiser_id=user_id,
        dedupe_key=f"command:{command['trigger_id']}",
        promisee_ids=who.user_ids,
        contact_name=who.contact_name,
        text=who.rest,
        channel_id=command.get("channel_id"),
    )
    try:
        made = services.promises.make(request)
    except PromiseRefused as error:
        ack_with(ack, promise_blocks.refusal(error))
        return
    ack_with(ack, promise_blocks.confirmation(made))
    services.deliver_soon()


def on_promise_button(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    respond: Respond,
) -> None:
    services = services_of(context)
    team_id = body["team"]["id"]
    user_id = body["user"]["id"]
    action_id = action["action_id"]
    try:
        promise_id = int(action.get("value") or "")
    except ValueError:
        ack()
        return
    # Each change is recorded before the ack: a 200 means it happened.
    try:
        if action_id == promise_blocks.DONE:
            done = services.promises.done(team_id=team_id, promise_id=promise_id, actor_id=user_id)
            ack()
            _show(
                services,
                client,
                body,
                respond,
                promise_blocks.closed_reminder(done, services.promises.tz_of(team_id, user_id)),
            )
        elif action_id in (promise_blocks.SNOOZE_HOUR, promise_blocks.SNOOZE_MORNING):
            at = services.promises.snooze(
                team_id=team_id,
                promise_id=promise_id,
                actor_id=user_id,
                until="hour" if action_id == promise_blocks.SNOOZE_HOUR else "morning",
                token=action["action_ts"],
            )
            ack()
            _show(
                services,
                client,
                body,
                respond,
                promise_blocks.snoozed(at, services.promises.tz_of(team_id, user_id)),
            )
        elif action_id == promise_blocks.STILL_ON_IT:
            promise = _open_promise(services, team_id, promise_id, user_id)
            ack()
            client.views_open(
                trigger_id=body["trigger_id"],
                view=_with_reply_url(
                    promise_blocks.eta_modal(
                        promise, initial=max(promise.due_at, services.clock.now()) + timedelta(days=1)
                    ),
                    body,
                ),
            )
        else:
            promise = _open_promise(services, team_id, promise_id, user_id)
            ack()
            client.views_open(
                trigger_id=body["trigger_id"],
                view=_with_reply_url(promise_blocks.cancel_modal(promise), body),
            )
    except PromiseRefused as error:
        ack()
        _refuse(services, client, body, respond, promise_blocks.refusal(error))
        return
    services.deliver_soon()


def on_say_thanks(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """The person who waited thanks the one who kept the promise: the kudos form, filled in."""
    ack()
    services = services_of(context)
    try:
        promise = services.promises.get(team_id=body["team"]["id"], promise_id=int(action.get("value") or ""))
    except (PromiseRefused, ValueError):
        return
    settings = services.workspaces.get(promise.team_id)
    # A promise made in a DM has no channel where a public thank-you belongs: the form asks for one.
    channel_id = promise.origin_channel_id if (promise.origin_channel_id or "")[:1] in ("C", "G") else None
    client.views_open(
        trigger_id=body["trigger_id"],
        view=blocks.kudos_modal(
            values=settings.kudos_values,
            channel_id=channel_id,
            initial_user_ids=[promise.promiser_id] if promise.promiser_id else None,
            initial_message=f"Thanks for getting back to me about {promise.what}!",
            ask_channel=not (channel_id or settings.kudos_channel_id),
        ),
    )


def on_eta_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    services = services_of(context)
    metadata = _metadata(view)
    picked = _picked(view, promise_blocks.ETA_BLOCK, promise_blocks.ETA_ACTION)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    if picked is None:
        ack(response_action="errors", errors={promise_blocks.ETA_BLOCK: "Pick a date and a time."})
        return
    try:
        updated = services.promises.still_on_it(
            team_id=team_id,
            promise_id=int(metadata.get("promise_id", 0)),
            actor_id=user_id,
            new_due_at=picked,
        )
    except PromiseRefused as error:
        ack(response_action="errors", errors={promise_blocks.ETA_BLOCK: promise_blocks.refusal_text(error)})
        return
    ack()
    _reply_to(metadata, promise_blocks.closed_reminder(updated, services.promises.tz_of(team_id, user_id)))
    if metadata.get("home"):
        publish_home(services, client, team_id, user_id)
    services.deliver_soon()


def on_cancel_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    services = services_of(context)
    metadata = _metadata(view)
    note = _state(view, promise_blocks.NOTE_BLOCK, promise_blocks.NOTE_ACTION).get("value")
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    try:
        cancelled = services.promises.cancel(
            team_id=team_id, promise_id=int(metadata.get("promise_id", 0)), actor_id=user_id, note=note
        )
    except PromiseRefused as error:
        ack(response_action="errors", errors={promise_blocks.NOTE_BLOCK: promise_blocks.refusal_text(error)})
        return
    ack()
    _reply_to(metadata, promise_blocks.closed_reminder(cancelled, services.promises.tz_of(team_id, user_id)))
    if metadata.get("home"):
        publish_home(services, client, team_id, user_id)
    services.deliver_soon()


def promise_shortcut(ack: Ack, shortcut: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ack()
    services = services_of(context)
    team_id = (shortcut.get("team") or {}).get("id") or context.team_id or ""
    message = shortcut.get("message") or {}
    channel_id = (shortcut.get("channel") or {}).get("id")
    link: str | None = None
    if channel_id and message.get("ts"):
        try:
            link = services.messenger.permalink(team_id, channel_id, message["ts"])
        except DeliveryError as error:
            log.info("no permalink for the shortcut's message: %s", error.reason)
    author = message.get("user") if not message.get("bot_id") else None
    tomorrow = services.clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    client.views_open(
        trigger_id=shortcut["trigger_id"],
        view=promise_blocks.promise_modal(
            author_id=author if author != shortcut["user"]["id"] else None,
            context_link=link,
            channel_id=channel_id,
            message_ts=message.get("ts"),
            initial=tomorrow,
        ),
    )


def on_promise_modal_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    services = services_of(context)
    metadata = _metadata(view)
    picked = _picked(view, promise_blocks.DUE_BLOCK, promise_blocks.DUE_ACTION)
    if picked is None:
        ack(response_action="errors", errors={promise_blocks.DUE_BLOCK: "Pick a date and a time."})
        return
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    channel_id, message_ts = metadata.get("channel_id"), metadata.get("message_ts")
    # Filled in from an offer: one promise per message, whether tracked in one click or here.
    from_offer = bool(metadata.get("offer")) and isinstance(channel_id, str) and isinstance(message_ts, str)
    request = PromiseRequest(
        team_id=team_id,
        promiser_id=user_id,
        dedupe_key=keys.promise_from_offer(str(channel_id), str(message_ts), user_id)
        if from_offer
        else f"view:{view['id']}",
        promisee_ids=tuple(
            _state(view, promise_blocks.PROMISEES_BLOCK, promise_blocks.PROMISEES_ACTION).get(
                "selected_users"
            )
            or ()
        ),
        what=_state(view, promise_blocks.WHAT_BLOCK, promise_blocks.WHAT_ACTION).get("value") or "",
        due_at=picked,
        channel_id=metadata.get("channel_id"),
        origin_ts=metadata.get("message_ts"),
        context_link=metadata.get("context_link"),
        # The form closes on submit: the confirmation, with Edit time and Cancel, takes the offer's
        # place, or comes by DM.
        confirm=not metadata.get("response_url"),
    )
    try:
        made = services.promises.make(request)
    except PromiseRefused as error:
        block_id, text = promise_blocks.modal_error_block(error)
        ack(response_action="errors", errors={block_id: text})
        return
    ack()
    _reply_to(metadata, promise_blocks.confirmation(made))
    services.deliver_soon()


def _open_promise(services: SlackServices, team_id: str, promise_id: int, user_id: str) -> PromiseView:
    from bot.services.promises import NotYourPromise, PromiseClosed

    promise = services.promises.get(team_id=team_id, promise_id=promise_id)
    if promise.promiser_id != user_id:
        raise NotYourPromise(promise)
    if promise.status != "open":
        raise PromiseClosed(promise)
    return promise


def _with_reply_url(view: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    # The form closes without a response_url of its own: keep the button's, to update that message
    # (or, from the Home, remember to show the Home again).
    metadata = json.loads(view.get("private_metadata") or "{}")
    metadata["response_url"] = body.get("response_url")
    metadata["home"] = from_home(body)
    return {**view, "private_metadata": json.dumps(metadata)}


def _show(
    services: SlackServices, client: WebClient, body: dict[str, Any], respond: Respond, rendered: Rendered
) -> None:
    """The reminder whose button was clicked becomes `rendered`; a button on the Home shows the Home
    again; one on a digest item answers privately (the other items stay as they are)."""
    if from_home(body):
        publish_home(services, client, body["team"]["id"], body["user"]["id"])
    elif any(in_digest(action) for action in body.get("actions") or []):
        tell_privately(respond, rendered)
    else:
        replace_with(respond, rendered)


def _refuse(
    services: SlackServices, client: WebClient, body: dict[str, Any], respond: Respond, rendered: Rendered
) -> None:
    """A stale button: the Home shows how things are now; a message gets a private word."""
    if from_home(body):
        publish_home(services, client, body["team"]["id"], body["user"]["id"])
    else:
        tell_privately(respond, rendered)


def _reply_to(metadata: dict[str, Any], rendered: Rendered) -> None:
    url = metadata.get("response_url")
    if not url:
        return
    text, block_list = rendered
    response = WebhookClient(url).send(text=text, blocks=block_list, replace_original=True)
    if response.status_code != 200:
        log.info("could not update the reminder: %s", response.status_code)


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _picked(view: dict[str, Any], block_id: str, action_id: str) -> datetime | None:
    """The date-time picker's instant; None when it holds none a calendar can."""
    seconds = _state(view, block_id, action_id).get("selected_date_time")
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _state(view: dict[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    value = ((view.get("state") or {}).get("values") or {}).get(block_id, {}).get(action_id)
    return value if isinstance(value, dict) else {}


def register(app: App) -> None:
    app.command("/promise")(promise_command)
    for action_id in promise_blocks.PROMISE_ACTIONS:
        app.action(action_id)(on_promise_button)
    app.action(promise_blocks.SAY_THANKS)(on_say_thanks)
    app.view_submission(promise_blocks.ETA_MODAL)(on_eta_submit)
    app.view_submission(promise_blocks.CANCEL_MODAL)(on_cancel_submit)
    app.view_submission(promise_blocks.PROMISE_MODAL)(on_promise_modal_submit)
    app.message_shortcut(promise_blocks.PROMISE_SHORTCUT)(promise_shortcut)
