"""A WebClient per workspace: what every Slack call outside a request goes through."""

from __future__ import annotations

from typing import Protocol

from slack_sdk import WebClient


class SlackClients(Protocol):
    def for_team(self, team_id: str) -> WebClient:
        """A client with the workspace's bot token; DeliveryError(not_installed) when it has none."""
        ...


class OneWorkspace:
    """SLACK_BOT_TOKEN: one client for everything."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def for_team(self, team_id: str) -> WebClient:
        return self.client
