"""Which chat platform a workspace is on. Its id says so, so that one database serves both side by side
and no key of one can meet a key of the other: Slack's team ids are Slack's own (`T…`, `E…`); a
Microsoft Teams tenant is stored as `teams:<tenant id>`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from bot.services.delivery import Outbound, OutboxSender
from bot.services.ports import DeliveryError, Directory, Messenger, PersonInfo, PostedMessage

Platform = Literal["slack", "teams"]

TEAMS_PREFIX = "teams:"


def platform_of(team_id: str) -> Platform:
    return "teams" if team_id.startswith(TEAMS_PREFIX) else "slack"


def teams_workspace(tenant_id: str) -> str:
    """The workspace id of a Teams tenant."""
    return TEAMS_PREFIX + tenant_id


def is_person(recipient_id: str) -> bool:
    """A person (Slack's U…/W…, Teams' 29:…), not a channel or chat: only people have working hours
    and digests."""
    return recipient_id[:1] in ("U", "W") or recipient_id.startswith("29:")


def tenant_of(team_id: str) -> str:
    """The tenant id of a Teams workspace id."""
    return team_id.removeprefix(TEAMS_PREFIX)


class NotServed:
    """A platform this process is not configured for: its rows wait (the outbox retries) rather than
    going to the wrong one."""

    def __init__(self, platform: Platform) -> None:
        self._reason = f"{platform}_not_configured"

    def send(self, message: Outbound, view: object) -> PostedMessage:
        raise DeliveryError(self._reason)

    def describe(self, message: Outbound, view: object) -> str:
        return f"{message.deliver_after:%Y-%m-%d %H:%M}Z  {message.kind:<16} ({self._reason})"


class PlatformSender:
    """The outbox's sender: each row to its own platform's."""

    def __init__(self, senders: Mapping[Platform, OutboxSender]) -> None:
        self._senders = senders

    def _for(self, team_id: str) -> OutboxSender:
        platform = platform_of(team_id)
        return self._senders.get(platform) or NotServed(platform)

    def send(self, message: Outbound, view: object) -> PostedMessage:
        return self._for(message.team_id).send(message, view)

    def describe(self, message: Outbound, view: object) -> str:
        return self._for(message.team_id).describe(message, view)


class PlatformDirectory:
    """The Directory port: each question to the workspace's own platform."""

    def __init__(self, directories: Mapping[Platform, Directory]) -> None:
        self._directories = directories

    def _for(self, team_id: str) -> Directory:
        platform = platform_of(team_id)
        directory = self._directories.get(platform)
        if directory is None:
            raise DeliveryError(f"{platform}_not_configured")
        return directory

    def person(self, team_id: str, user_id: str) -> PersonInfo:
        return self._for(team_id).person(team_id, user_id)

    def group_members(self, team_id: str, group_id: str) -> list[str]:
        return self._for(team_id).group_members(team_id, group_id)

    def channel_members(self, team_id: str, channel_id: str) -> list[str]:
        return self._for(team_id).channel_members(team_id, channel_id)

    def can_post(self, team_id: str, channel_id: str) -> bool:
        return self._for(team_id).can_post(team_id, channel_id)

    def custom_emoji(self, team_id: str) -> set[str]:
        return self._for(team_id).custom_emoji(team_id)

    def is_private(self, team_id: str, channel_id: str) -> bool:
        return self._for(team_id).is_private(team_id, channel_id)


class PlatformMessenger:
    """The Messenger port: each question to the workspace's own platform."""

    def __init__(self, messengers: Mapping[Platform, Messenger]) -> None:
        self._messengers = messengers

    def permalink(self, team_id: str, channel_id: str, ts: str) -> str | None:
        messenger = self._messengers.get(platform_of(team_id))
        return messenger.permalink(team_id, channel_id, ts) if messenger is not None else None

    def message_text(self, team_id: str, channel_id: str, ts: str, *, thread_ts: str | None) -> str | None:
        messenger = self._messengers.get(platform_of(team_id))
        if messenger is None:
            return None
        return messenger.message_text(team_id, channel_id, ts, thread_ts=thread_ts)

    def replied(self, team_id: str, channel_id: str, thread_ts: str, user_id: str, *, after_ts: str) -> bool:
        messenger = self._messengers.get(platform_of(team_id))
        if messenger is None:
            return False
        return messenger.replied(team_id, channel_id, thread_ts, user_id, after_ts=after_ts)
