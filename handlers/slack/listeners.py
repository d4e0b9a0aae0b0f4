"""Registers every Slack listener, once, from the app factory."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk.webhook import WebhookClient
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.services.ports import DeliveryError
from handlers.slack import admin, blocks, checkins, home, kudos, messages, people, promises, recaps
from handlers.slack.container import CONTEXT_KEY, SlackServices

log = logging.getLogger(__name__)

# The database refused or did not answer: worth trying again in a moment, not a bug.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def register(app: App, services: SlackServices) -> None:
    def inject_services(context: BoltContext, next: Any) -> None:
        context[CONTEXT_KEY] = services
        next()

    app.use(log_request)
    app.use(inject_services)
    # First: the other listeners of `message` events (deletions, and the rest) must not take new messages.
    messages.register(app)
    kudos.register(app)
    promises.register(app)
    checkins.register(app)
    people.register(app)
    recaps.register(app)
    home.register(app)
    admin.register(app)
    app.error(on_error)


def log_request(body: dict[str, Any], next: Any) -> None:
    """One DEBUG line per request saying what it is and from whom: ids only, never what anybody typed."""
    log.debug("slack %s from %s in %s", _kind(body), _user_id(body), _team_id(body))
    next()


def _kind(body: dict[str, Any]) -> str:
    if body.get("command"):
        return f"command {body['command']}"
    kind = str(body.get("type", "unknown"))
    if kind == "event_callback":
        return f"event {(body.get('event') or {}).get('type')}"
    if kind == "block_actions":
        return f"block_actions {','.join(str(a.get('action_id')) for a in body.get('actions') or [])}"
    if kind in ("view_submission", "view_closed"):
        return f"{kind} {(body.get('view') or {}).get('callback_id')}"
    if body.get("callback_id"):
        return f"{kind} {body['callback_id']}"
    return kind


def _user_id(body: dict[str, Any]) -> str | None:
    event = body.get("event") or {}
    for candidate in (body.get("user_id"), body.get("user"), event.get("user")):
        # Some events carry the whole user object (a profile): only its id is logged.
        found = candidate.get("id") if isinstance(candidate, dict) else candidate
        if isinstance(found, str):
            return found
    return None


def _team_id(body: dict[str, Any]) -> str | None:
    team = body.get("team")
    found = body.get("team_id") or (team.get("id") if isinstance(team, dict) else team)
    return found if isinstance(found, str) else None


def on_error(
    error: Exception, body: dict[str, Any], context: BoltContext, response: BoltResponse | None
) -> BoltResponse | None:
    """The database unavailable for a moment: the person is asked to try again (an event is answered
    500, so Slack sends it again). Anything else unexpected: logged with an id they can quote."""
    if isinstance(error, DATABASE_UNAVAILABLE):
        log.warning("the database is unavailable (%s): asked to try again", type(error).__name__)
        return _try_again_later(body, response)
    _report(error, body, context)
    return None


def _try_again_later(body: dict[str, Any], response: BoltResponse | None) -> BoltResponse | None:
    text, block_list = blocks.try_again_later()
    if body.get("type") == "event_callback":
        return None  # a 500: Slack delivers the event again
    if response is not None and body.get("command"):
        return BoltResponse(
            status=200,
            body=json.dumps({"response_type": "ephemeral", "text": text, "blocks": block_list}),
            headers={"content-type": "application/json"},
        )
    if response is not None and body.get("type") == "view_submission":
        inputs = [
            b["block_id"] for b in (body.get("view") or {}).get("blocks", []) if b.get("type") == "input"
        ]
        if inputs:
            return BoltResponse(
                status=200,
                body=json.dumps({"response_action": "errors", "errors": {inputs[0]: text}}),
                headers={"content-type": "application/json"},
            )
    # A button, or anything already acknowledged: say it through the request's reply address.
    if body.get("response_url"):
        try:
            WebhookClient(body["response_url"], timeout=5).send(
                text=text, blocks=block_list, response_type="ephemeral", replace_original=False
            )
        except Exception as failure:  # the apology failing must not turn into a second error
            log.info("could not ask them to try again: %s", type(failure).__name__)
    return BoltResponse(status=200, body="") if response is not None else None


def _report(error: Exception, body: dict[str, Any], context: BoltContext) -> None:
    incident_id = uuid.uuid4().hex[:8]
    log.exception("incident %s: %s", incident_id, error, exc_info=error)
    user_id = body.get("user_id") or (body.get("user") or {}).get("id")
    channel_id = body.get("channel_id") or (body.get("channel") or {}).get("id")
    services = context.get(CONTEXT_KEY)
    if not (user_id and channel_id and isinstance(services, SlackServices)):
        return
    try:
        services.messenger.ephemeral(
            str(context.team_id or ""), channel_id, user_id, blocks.unexpected_error(incident_id)
        )
    except DeliveryError as failure:
        log.info("incident %s: could not tell the user: %s", incident_id, failure)
