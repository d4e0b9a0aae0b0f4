"""Recap listeners: /recap preview and /recap help."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.services.ports import DeliveryError
from handlers.slack import recap_blocks
from handlers.slack.container import services_of
from handlers.slack.parse import first_word
from handlers.slack.replies import ack_with


def recap_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    if first_word(command.get("text") or "") != "preview":
        ack_with(ack, recap_blocks.recap_help())
        return
    try:
        recap = services.recaps.preview(
            team_id=command["team_id"], channel_id=command.get("channel_id") or ""
        )
    except DeliveryError:
        ack_with(ack, recap_blocks.recap_unavailable())
        return
    ack_with(ack, recap_blocks.recap_post(recap))


def register(app: App) -> None:
    app.command("/recap")(recap_command)
