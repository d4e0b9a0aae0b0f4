"""What the services need from a chat platform, in platform-neutral terms.

`handlers/slack/` implements these with the Slack Web API; a Teams adapter would implement them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

# Errors after which retrying the same call cannot succeed.
PERMANENT_REASONS = frozenset(
    {
        "account_inactive",
        "user_not_found",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "token_revoked",
        "no_such_subteam",
        "restricted_action",
        # A private reply whose sender crashed mid-send: it cannot be looked up, so it is not resent.
        "not_resent_after_crash",
        # Microsoft Teams: the person removed the app or blocked the bot; the conversation is gone;
        # a kind of message Teams cannot take (an export's files).
        "forbidden",
        "conversation_not_found",
        "not_on_teams",
    }
)
UNVERIFIED = "unverified:"
# Errors that mean the person is not there any more (as opposed to "try again later").
# (`account_inactive` is about the bot's own token, not the person: it is not among them.)
GONE_REASONS = frozenset({"user_not_found", "user_disabled", "users_not_found"})
# Errors that mean "the bot is not allowed to post there", which the person asking can fix.
CANNOT_POST_REASONS = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


class DeliveryError(Exception):
    """The platform refused a call; `reason` is its error code (e.g. not_in_channel)."""

    def __init__(self, reason: str, *, retry_after: float | None = None, not_sent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        # Certain that nothing reached the platform (a refused upload): a retry need not look first.
        self.not_sent = not_sent

    @property
    def permanent(self) -> bool:
        return self.reason in PERMANENT_REASONS or self.unverified

    @property
    def unverified(self) -> bool:
        """An earlier attempt may have gone out, and the conversation can no longer be read to tell."""
        return self.reason.startswith(UNVERIFIED)

    @property
    def gone(self) -> bool:
        """The person asked about does not exist or was deactivated: a fact, not a hiccup."""
        return self.reason in GONE_REASONS


class PrivateReply(BaseModel):
    """Where a private answer to one person goes. The platform's reply address for their request
    (`reply_url`, good until `reply_url_until`) when there is one; else ephemeral in `channel_id`;
    else a direct message."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    reply_url: str | None = None
    reply_url_until: datetime | None = None
    channel_id: str | None = None
    # Ephemeral in this thread of `channel_id` (an answer to a message written in a thread).
    thread_ts: str | None = None


@dataclass(frozen=True)
class Withdrawal:
    """A message of ours to take down (a kudos taken back)."""

    channel_id: str
    ts: str


@dataclass(frozen=True)
class PersonInfo:
    team_id: str
    user_id: str
    display_name: str
    tz: str
    is_bot: bool
    is_deleted: bool
    is_guest: bool = False
    # A workspace admin or owner (who may change ExtraMile's settings).
    is_admin: bool = False


@dataclass(frozen=True)
class PostedMessage:
    channel_id: str
    ts: str
    permalink: str | None = None


class Directory(Protocol):
    def person(self, team_id: str, user_id: str) -> PersonInfo:
        """Raises DeliveryError (user_not_found, ...) when the platform cannot say."""
        ...

    def group_members(self, team_id: str, group_id: str) -> list[str]: ...

    def channel_members(self, team_id: str, channel_id: str) -> list[str]: ...

    def can_post(self, team_id: str, channel_id: str) -> bool:
        """Whether the bot is in the channel; DeliveryError when the platform cannot say now."""
        ...

    def custom_emoji(self, team_id: str) -> set[str]: ...

    def is_private(self, team_id: str, channel_id: str) -> bool:
        """Whether only some people can read the channel (a private channel, a DM)."""
        ...


class Messenger(Protocol):
    def permalink(self, team_id: str, channel_id: str, ts: str) -> str | None: ...

    def message_text(self, team_id: str, channel_id: str, ts: str, *, thread_ts: str | None) -> str | None:
        """What a person's message says now (read again, never kept); None when it is gone or cannot
        be read there."""
        ...

    def replied(self, team_id: str, channel_id: str, thread_ts: str, user_id: str, *, after_ts: str) -> bool:
        """Whether `user_id` wrote in the thread of `thread_ts` after `after_ts` (read, never kept)."""
        ...
