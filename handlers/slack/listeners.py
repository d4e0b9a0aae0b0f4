"""Registers every Slack listener, once, from the app factory."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App, BoltContext

from bot.services.ports import DeliveryError
from handlers.slack import blocks, checkins, kudos, people, promises
from handlers.slack.container import CONTEXT_KEY, Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    def inject_services(context: BoltContext, next: Any) -> None:
        context[CONTEXT_KEY] = services
        next()

    app.use(inject_services)
    kudos.register(app)
    promises.register(app)
    checkins.register(app)
    people.register(app)
    app.error(on_error)


def on_error(error: Exception, body: dict[str, Any], context: BoltContext) -> None:
    """Unexpected failures: logged with an id the person can quote to an admin."""
    incident_id = uuid.uuid4().hex[:8]
    log.exception("incident %s: %s", incident_id, error, exc_info=error)
    user_id = body.get("user_id") or (body.get("user") or {}).get("id")
    channel_id = body.get("channel_id") or (body.get("channel") or {}).get("id")
    services = context.get(CONTEXT_KEY)
    if not (user_id and channel_id and isinstance(services, Services)):
        return
    try:
        services.messenger.ephemeral(channel_id, user_id, blocks.unexpected_error(incident_id))
    except DeliveryError as failure:
        log.info("incident %s: could not tell the user: %s", incident_id, failure)
