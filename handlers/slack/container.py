"""The services a Slack listener can reach, injected through Bolt's context by the app factory."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import BoltContext

from bot.container import Services
from handlers.slack.messenger import SlackMessenger

CONTEXT_KEY = "extramile_services"


@dataclass(frozen=True)
class SlackServices(Services):
    """The services, and Slack's own messenger (ephemeral messages, permalinks) for its listeners."""

    messenger: SlackMessenger


def services_of(context: BoltContext) -> SlackServices:
    services = context[CONTEXT_KEY]
    assert isinstance(services, SlackServices)
    return services
