"""Events are recorded before Slack hears "200".

Bolt acknowledges an event before its listener runs, so a listener's writes could be lost to a crash
after the 200, and Slack would not send the event again. Listener middleware runs before that
automatic acknowledgement: `recorded` does the event's writes there (database only, no Slack call), and
the listener itself only asks for delivery. If the database refuses, Slack gets a 500 and sends the
event again later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext

from handlers.slack.container import services_of

Record = Callable[[dict[str, Any], BoltContext], None]


def recorded(record: Record) -> Callable[..., None]:
    def middleware(event: dict[str, Any], context: BoltContext, next: Callable[[], None]) -> None:
        record(event, context)
        next()

    return middleware


def deliver_now(context: BoltContext) -> None:
    """After the ack: what the event put in the outbox goes out now, not at the next pass."""
    services_of(context).deliver_soon()
