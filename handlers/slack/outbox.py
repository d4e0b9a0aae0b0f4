"""Sends outbox rows to Slack: renders the composer's view, tags the message with the outbox id."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.celebrations import CelebrationDM, CelebrationPost, HeadsUp
from bot.services.checkins import CheckinNotice
from bot.services.delivery import Outbound
from bot.services.kudos import KudosView
from bot.services.ports import DeliveryError, PostedMessage
from bot.services.promises import PromiseNotice
from bot.services.welcomes import WelcomeNotice
from handlers.slack import blocks, checkin_blocks, people_blocks, promise_blocks
from handlers.slack.blocks import Rendered
from handlers.slack.messenger import _delivery_error

OUTBOX_EVENT = "extramile_outbox"


def render(view: object) -> Rendered:
    if isinstance(view, PromiseNotice):
        return promise_blocks.notice(view)
    if isinstance(view, CheckinNotice):
        return checkin_blocks.notice(view)
    if isinstance(view, KudosView):
        return blocks.kudos_recipient_dm(view)
    if isinstance(view, WelcomeNotice):
        return people_blocks.welcome(view)
    if isinstance(view, CelebrationPost):
        return people_blocks.celebration_post(view)
    if isinstance(view, CelebrationDM):
        return people_blocks.celebration_dm(view)
    if isinstance(view, HeadsUp):
        return people_blocks.heads_up(view)
    raise DeliveryError(f"no_renderer:{type(view).__name__}")


class SlackOutboxSender:
    def __init__(self, client: WebClient) -> None:
        self._client = client

    def send(self, message: Outbound, view: object) -> PostedMessage:
        text, block_list = render(view)
        thread_ts = getattr(view, "thread_ts", None)
        try:
            if isinstance(view, WelcomeNotice) and view.ephemeral and view.channel_id:
                # Only the newcomer sees it, in the channel they joined; nothing to find again later.
                sent = self._client.chat_postEphemeral(
                    channel=view.channel_id, user=message.recipient_id, text=text, blocks=block_list
                )
                return PostedMessage(channel_id=view.channel_id, ts=str(sent["message_ts"]))
            if message.reclaimed and (earlier := self._already_sent(message)) is not None:
                return earlier
            response = self._client.chat_postMessage(
                channel=message.recipient_id,
                text=text,
                blocks=block_list,
                thread_ts=thread_ts,
                unfurl_links=False,
                metadata={"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": message.id}},
            )
        except SlackApiError as error:
            raise _delivery_error(error) from None
        return PostedMessage(channel_id=str(response["channel"]), ts=str(response["ts"]))

    def _already_sent(self, message: Outbound) -> PostedMessage | None:
        """A sender that crashed after posting leaves its message tagged with the outbox id: find it."""
        channel = message.recipient_id
        if channel[:1] in ("U", "W"):
            channel = str(self._client.conversations_open(users=channel)["channel"]["id"])
        history = self._client.conversations_history(
            channel=channel,
            limit=50,
            include_all_metadata=True,
            oldest=f"{message.deliver_after.timestamp():.6f}",
        )
        for posted in history.get("messages") or []:
            metadata: dict[str, Any] = posted.get("metadata") or {}
            if (
                metadata.get("event_type") == OUTBOX_EVENT
                and (metadata.get("event_payload") or {}).get("outbox_id") == message.id
            ):
                return PostedMessage(channel_id=channel, ts=str(posted["ts"]))
        return None

    def describe(self, message: Outbound, view: object) -> str:
        text, _ = render(view)
        return f"{message.deliver_after:%Y-%m-%d %H:%M}Z  {message.kind:<16} to {message.recipient_id:<12} {text}"
