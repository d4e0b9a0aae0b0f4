"""The Slack side of the Messenger and Directory ports (bot.services.ports)."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

from bot.services.ports import DeliveryError, PersonInfo
from handlers.slack import blocks
from handlers.slack.clients import SlackClients


def delivery_error(error: SlackApiError) -> DeliveryError:
    response = error.response
    retry_after: float | None = None
    if response.status_code == 429:
        try:
            retry_after = float(response.headers.get("Retry-After", response.headers.get("retry-after", 1)))
        except (TypeError, ValueError):
            retry_after = 1.0
        return DeliveryError("ratelimited", retry_after=retry_after)
    reason = response.get("error") if isinstance(response.data, dict) else None
    return DeliveryError(str(reason or f"http_{response.status_code}"))


# The message, its thread or its channel is not there (any more) for the bot to read.
GONE_MESSAGE_REASONS = frozenset(
    {"message_not_found", "thread_not_found", "channel_not_found", "not_in_channel"}
)


class SlackMessenger:
    def __init__(self, clients: SlackClients) -> None:
        self._clients = clients

    def _call(self, team_id: str, method: str, **params: Any) -> dict[str, Any]:
        """Calls a typed WebClient method (chat_postMessage, ...), turning Slack's errors into ours."""
        try:
            response = getattr(self._clients.for_team(team_id), method)(**params)
        except SlackApiError as error:
            raise delivery_error(error) from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    def permalink(self, team_id: str, channel_id: str, ts: str) -> str | None:
        data = self._call(team_id, "chat_getPermalink", channel=channel_id, message_ts=ts)
        link = data.get("permalink")
        return str(link) if link else None

    def message_text(self, team_id: str, channel_id: str, ts: str, *, thread_ts: str | None) -> str | None:
        """The message at `ts` as it reads now: read from the channel (or its thread), never kept."""
        # A thread's first message always comes first in conversations.replies: room for it and ours.
        bounds: dict[str, Any] = {"oldest": ts, "latest": ts, "inclusive": True, "limit": 2}
        try:
            if thread_ts and thread_ts != ts:
                data = self._call(
                    team_id, "conversations_replies", channel=channel_id, ts=thread_ts, **bounds
                )
            else:
                data = self._call(team_id, "conversations_history", channel=channel_id, **bounds)
        except DeliveryError as error:
            if error.reason in GONE_MESSAGE_REASONS:
                return None
            raise
        for message in data.get("messages") or []:
            if isinstance(message, dict) and message.get("ts") == ts:
                text = message.get("text")
                # A deleted message that had replies stays as a tombstone ("This message was deleted.").
                gone = message.get("subtype") == "tombstone"
                return text if isinstance(text, str) and not gone else None
        return None

    def replied(self, team_id: str, channel_id: str, thread_ts: str, user_id: str, *, after_ts: str) -> bool:
        """Whether `user_id` wrote in the thread of `thread_ts` after `after_ts` (read, never kept)."""
        try:
            pages = self._clients.for_team(team_id).conversations_replies(
                channel=channel_id, ts=thread_ts, oldest=after_ts, limit=200
            )
            for page in pages:
                for message in page.get("messages") or []:
                    if (
                        isinstance(message, dict)
                        and message.get("user") == user_id
                        and message.get("ts") != thread_ts
                        and _later(message.get("ts"), after_ts)
                    ):
                        return True
        except SlackApiError as error:
            failure = delivery_error(error)
            if failure.reason in GONE_MESSAGE_REASONS:
                return False
            raise failure from None
        return False

    def ephemeral(self, team_id: str, channel_id: str, user_id: str, rendered: blocks.Rendered) -> None:
        text, block_list = rendered
        self._call(
            team_id, "chat_postEphemeral", channel=channel_id, user=user_id, text=text, blocks=block_list
        )


def _later(ts: object, than: str) -> bool:
    try:
        return isinstance(ts, str) and float(ts) > float(than)
    except ValueError:
        return False


class SlackDirectory:
    def __init__(self, clients: SlackClients) -> None:
        self._clients = clients

    def person(self, team_id: str, user_id: str) -> PersonInfo:
        try:
            user = self._clients.for_team(team_id).users_info(user=user_id).get("user") or {}
        except SlackApiError as error:
            raise delivery_error(error) from None
        return person_from_slack(team_id, {"id": user_id, **user})

    def user_id_by_email(self, team_id: str, email: str) -> str:
        try:
            user = self._clients.for_team(team_id).users_lookupByEmail(email=email).get("user") or {}
        except SlackApiError as error:
            raise delivery_error(error) from None
        return str(user["id"])

    def channel_members(self, team_id: str, channel_id: str) -> list[str]:
        members: list[str] = []
        try:
            for page in self._clients.for_team(team_id).conversations_members(channel=channel_id, limit=500):
                members.extend(str(member) for member in page.get("members") or [])
        except SlackApiError as error:
            raise delivery_error(error) from None
        return members

    def team_id(self) -> str:
        """The workspace SLACK_BOT_TOKEN belongs to (single-workspace mode)."""
        try:
            return str(self._clients.for_team("").auth_test()["team_id"])
        except SlackApiError as error:
            raise delivery_error(error) from None

    def can_post(self, team_id: str, channel_id: str) -> bool:
        """Whether the bot is in the channel (and it is not archived)."""
        channel = self._channel(team_id, channel_id)
        return channel is not None and bool(channel.get("is_member")) and not channel.get("is_archived")

    def is_private(self, team_id: str, channel_id: str) -> bool:
        """Private channels, DMs and channels the bot cannot see all count as private."""
        channel = self._channel(team_id, channel_id)
        return channel is None or bool(
            channel.get("is_private") or channel.get("is_im") or channel.get("is_mpim")
        )

    def _channel(self, team_id: str, channel_id: str) -> dict[str, Any] | None:
        """conversations.info's channel; None when Slack says for good that the bot cannot see it."""
        try:
            channel = self._clients.for_team(team_id).conversations_info(channel=channel_id).get("channel")
        except SlackApiError as error:
            failure = delivery_error(error)
            if failure.permanent:
                return None
            raise failure from None
        return dict(channel or {})

    def custom_emoji(self, team_id: str) -> set[str]:
        try:
            return set((self._clients.for_team(team_id).emoji_list().get("emoji") or {}).keys())
        except SlackApiError as error:
            raise delivery_error(error) from None

    def group_members(self, team_id: str, group_id: str) -> list[str]:
        try:
            users = (
                self._clients.for_team(team_id).usergroups_users_list(usergroup=group_id).get("users") or []
            )
        except SlackApiError as error:
            raise delivery_error(error) from None
        return [str(user_id) for user_id in users]


def person_from_slack(team_id: str, user: dict[str, Any]) -> PersonInfo:
    """A Slack user object (users.info, team_join, user_change) as the services see a person."""
    profile = user.get("profile") or {}
    user_id = str(user.get("id"))
    return PersonInfo(
        team_id=team_id,
        user_id=user_id,
        display_name=profile.get("display_name") or profile.get("real_name") or user.get("name") or user_id,
        tz=user.get("tz") or "UTC",
        is_bot=bool(user.get("is_bot")) or user_id == "USLACKBOT",
        is_deleted=bool(user.get("deleted")),
        is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
    )
