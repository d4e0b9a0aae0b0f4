"""Sends outbox rows to Slack: renders the composer's view and delivers it the way the view asks.

A message of its own is tagged with its outbox id (message metadata), so a row taken over from a
sender that crashed mid-send is first looked for in the conversation and never sent twice. A private
reply (through a request's response_url, or ephemeral) leaves nothing to look for: after such a crash it
is not sent again, and the row says so.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.services.celebrations import CelebrationDM, CelebrationPost, HeadsUp
from bot.services.checkins import CheckinNotice
from bot.services.delivery import Digest, Outbound
from bot.services.exports import ExportFiles
from bot.services.kudos import KudosPost, KudosReply, KudosView
from bot.services.offers import PromiseOffer
from bot.services.ports import UNVERIFIED, DeliveryError, PostedMessage, PrivateReply, Withdrawal
from bot.services.promises import PromiseNotice
from bot.services.questions import QuestionHeard, QuestionNudge
from bot.services.recaps import RecapChart, RecapPost
from bot.services.welcomes import WelcomeNotice
from handlers.slack import (
    blocks,
    checkin_blocks,
    offer_blocks,
    people_blocks,
    promise_blocks,
    question_blocks,
    recap_blocks,
)
from handlers.slack.blocks import Rendered
from handlers.slack.clients import SlackClients
from handlers.slack.messenger import delivery_error

OUTBOX_EVENT = "extramile_outbox"
# Clocks differ between replicas and Slack: look a little before the first claim.
CLOCK_SKEW = timedelta(minutes=2)

# A Slack message holds at most 50 blocks.
MAX_BLOCKS = 50


def _digest(digest: Digest) -> Rendered:
    """The day's messages as one: each as it would have come, one after another."""
    count = len(digest.items)
    header = f"Good morning! {count} thing{'s' if count != 1 else ''} from ExtraMile for today:"
    block_list: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": header}}]
    shown = 0
    for number, item in enumerate(digest.items):
        _, item_blocks = render(item)
        if len(block_list) + len(item_blocks) + 2 > MAX_BLOCKS:
            break
        block_list += [{"type": "divider"}, *(_numbered(block, number) for block in item_blocks)]
        shown += 1
    if shown < count:
        more = f"…and {count - shown} more. `/promise list` shows your open loops."
        block_list.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return header, block_list


def _numbered(block: dict[str, Any], number: int) -> dict[str, Any]:
    """A block of digest item `number`: its id made unique in the message (two items may share one)."""
    if "block_id" not in block:
        return block
    return {**block, "block_id": f"{block['block_id']}{blocks.IN_DIGEST}{number}"}


# Every kind of view a composer returns, and how it looks in Slack.
RENDERERS: dict[type, Callable[[Any], Rendered]] = {
    Digest: _digest,
    KudosPost: lambda post: blocks.kudos_announcement(post.kudos),
    KudosView: blocks.kudos_recipient_dm,
    KudosReply: blocks.kudos_reply,
    PromiseNotice: promise_blocks.notice,
    PromiseOffer: offer_blocks.offer,
    QuestionNudge: question_blocks.nudge,
    QuestionHeard: question_blocks.heard,
    CheckinNotice: checkin_blocks.notice,
    WelcomeNotice: people_blocks.welcome,
    CelebrationPost: people_blocks.celebration_post,
    CelebrationDM: people_blocks.celebration_dm,
    HeadsUp: people_blocks.heads_up,
    RecapPost: lambda post: recap_blocks.recap_post(post.recap),
}


def _post_bytes(url: str, content: bytes, *, timeout: int) -> int:
    """Step two of Slack's upload flow: the bytes, to the address step one gave. The HTTP status."""
    request = urllib.request.Request(url, data=content, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _seconds(value: object) -> float:
    try:
        return max(float(str(value)), 1.0)
    except ValueError:
        return 1.0


def render(view: object) -> Rendered:
    renderer = RENDERERS.get(type(view))
    if renderer is None:
        raise DeliveryError(f"no_renderer:{type(view).__name__}")
    return renderer(view)


class SlackOutboxSender:
    def __init__(self, clients: SlackClients) -> None:
        self._clients = clients

    def send(self, message: Outbound, view: object) -> PostedMessage:
        try:
            # The workspace's own token (OAuth mode), or the one bot token.
            client = self._clients.for_team(message.team_id)
            if isinstance(view, Withdrawal):
                return self._withdraw(client, view)
            if isinstance(view, RecapChart):
                return self._upload(client, message, view)
            if isinstance(view, ExportFiles):
                return self._send_files(client, message, view)
            text, block_list = render(view)
            reply = getattr(view, "reply", None)
            if isinstance(reply, PrivateReply) and (reply.reply_url or reply.channel_id):
                return self._reply_privately(client, message, reply, text, block_list)
            channel = reply.user_id if isinstance(reply, PrivateReply) else message.recipient_id
            thread_ts = getattr(view, "thread_ts", None)
            if (
                message.reclaimed
                and (earlier := self._look_for_earlier(client, message, channel, thread_ts)) is not None
            ):
                return earlier
            response = client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=block_list,
                thread_ts=thread_ts,
                unfurl_links=False,
                metadata={"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": message.id}},
            )
        except SlackApiError as error:
            raise delivery_error(error) from None
        return PostedMessage(channel_id=str(response["channel"]), ts=str(response["ts"]))

    def _withdraw(self, client: WebClient, view: Withdrawal) -> PostedMessage:
        try:
            client.chat_delete(channel=view.channel_id, ts=view.ts)
        except SlackApiError as error:
            if delivery_error(error).reason != "message_not_found":  # gone already: so much the better
                raise
        return PostedMessage(channel_id=view.channel_id, ts=view.ts)

    def _upload(self, client: WebClient, message: Outbound, chart: RecapChart) -> PostedMessage:
        """The recap's picture, into its channel."""
        if message.reclaimed:
            raise DeliveryError("not_resent_after_crash")
        return self._share(client, chart.channel_id, [(chart.filename, chart.title, chart.png)], comment=None)

    def _send_files(self, client: WebClient, message: Outbound, export: ExportFiles) -> PostedMessage:
        """The files into the person's DM, with a word on what they hold."""
        if message.reclaimed:
            raise DeliveryError("not_resent_after_crash")
        channel = str(client.conversations_open(users=export.recipient_id)["channel"]["id"])
        comment = (
            f"Here's your export, {export.first_day:%a %-d %b %Y} to {export.last_day:%a %-d %b %Y}: "
            "kudos, promises and check-ins as CSV. Times are UTC, people are their Slack ids with their names."
        )
        return self._share(
            client, channel, [(f.filename, f.title, f.content) for f in export.files], comment=comment
        )

    def _share(
        self, client: WebClient, channel: str, files: list[tuple[str, str, bytes]], *, comment: str | None
    ) -> PostedMessage:
        """Slack's upload flow, as files_upload_v2 does it, step by step so a failure says what it means:
        until the last step nothing is shared (a retry is safe); the last step cut short may have
        shared the files, and an upload cannot be looked up, so it is not made again."""
        uploaded: list[dict[str, str | None]] = []
        for filename, title, content in files:
            try:
                place = client.files_getUploadURLExternal(filename=filename, length=len(content))
                answer = _post_bytes(str(place["upload_url"]), content, timeout=client.timeout)
            except SlackApiError as error:
                failure = delivery_error(error)
                raise DeliveryError(failure.reason, retry_after=failure.retry_after, not_sent=True) from None
            except OSError as error:
                raise DeliveryError(f"upload_failed:{type(error).__name__}", not_sent=True) from None
            if answer != 200:
                raise DeliveryError(f"upload_failed:http_{answer}", not_sent=True)
            uploaded.append({"id": str(place["file_id"]), "title": title})
        done = client.files_completeUploadExternal(
            files=uploaded, channel_id=channel, initial_comment=comment
        )
        shared: list[dict[str, Any]] = done.get("files") or []
        return PostedMessage(channel_id=channel, ts=str(shared[0].get("id", "")) if shared else "")

    def _reply_privately(
        self,
        client: WebClient,
        message: Outbound,
        reply: PrivateReply,
        text: str,
        block_list: list[dict[str, Any]],
    ) -> PostedMessage:
        if message.reclaimed:
            raise DeliveryError("not_resent_after_crash")
        if reply.reply_url:
            response = WebhookClient(reply.reply_url, timeout=10).send(
                text=text, blocks=block_list, response_type="ephemeral", replace_original=False
            )
            if response.status_code == 200:
                return PostedMessage(channel_id=reply.channel_id or "", ts="")
            if response.status_code == 429:
                raise DeliveryError(
                    "ratelimited", retry_after=_seconds((response.headers or {}).get("Retry-After"))
                )
            if response.status_code >= 500:
                raise DeliveryError(f"http_{response.status_code}")
            # The address was used up or expired: a DM says the same.
            response_dm = client.chat_postMessage(channel=reply.user_id, text=text, blocks=block_list)
            return PostedMessage(channel_id=str(response_dm["channel"]), ts=str(response_dm["ts"]))
        sent = client.chat_postEphemeral(
            channel=str(reply.channel_id),
            user=reply.user_id,
            text=text,
            blocks=block_list,
            thread_ts=reply.thread_ts,
        )
        return PostedMessage(channel_id=str(reply.channel_id), ts=str(sent["message_ts"]))

    def _look_for_earlier(
        self, client: WebClient, message: Outbound, channel: str, thread_ts: str | None
    ) -> PostedMessage | None:
        """A conversation that can no longer be read (the bot was removed) cannot say whether an earlier
        attempt went out: the row ends there, without a second copy and without claiming a failure."""
        try:
            return self._already_sent(client, message, channel, thread_ts)
        except SlackApiError as error:
            failure = delivery_error(error)
            if failure.permanent:
                raise DeliveryError(UNVERIFIED + failure.reason) from None
            raise

    def _already_sent(
        self, client: WebClient, message: Outbound, channel: str, thread_ts: str | None
    ) -> PostedMessage | None:
        """A sender that crashed after posting left its message tagged with the outbox id: look for it
        among everything posted there since the row was first claimed, however much that is."""
        if channel[:1] in ("U", "W"):
            channel = str(client.conversations_open(users=channel)["channel"]["id"])
        since = (message.first_claimed_at or message.deliver_after) - CLOCK_SKEW
        for posted in self._messages_since(client, channel, thread_ts, f"{since.timestamp():.6f}"):
            metadata: dict[str, Any] = posted.get("metadata") or {}
            if (
                metadata.get("event_type") == OUTBOX_EVENT
                and (metadata.get("event_payload") or {}).get("outbox_id") == message.id
            ):
                return PostedMessage(channel_id=channel, ts=str(posted["ts"]))
        return None

    def _messages_since(
        self, client: WebClient, channel: str, thread_ts: str | None, oldest: str
    ) -> Iterator[dict[str, Any]]:
        """Every message (or thread reply) since `oldest`, page after page."""
        cursor: str | None = None
        while True:
            if thread_ts:
                page = client.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    oldest=oldest,
                    limit=200,
                    cursor=cursor,
                    include_all_metadata=True,
                )
            else:
                page = client.conversations_history(
                    channel=channel, oldest=oldest, limit=200, cursor=cursor, include_all_metadata=True
                )
            yield from page.get("messages") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                return

    def describe(self, message: Outbound, view: object) -> str:
        if isinstance(view, RecapChart):
            return f"{message.deliver_after:%Y-%m-%d %H:%M}Z  {message.kind:<16} upload {view.filename} to {view.channel_id}"
        if isinstance(view, ExportFiles):
            return f"{message.deliver_after:%Y-%m-%d %H:%M}Z  {message.kind:<16} {len(view.files)} CSV files to {view.recipient_id}"
        if isinstance(view, Withdrawal):
            return f"{message.deliver_after:%Y-%m-%d %H:%M}Z  {message.kind:<16} delete {view.channel_id}/{view.ts}"
        text, _ = render(view)
        return f"{message.deliver_after:%Y-%m-%d %H:%M}Z  {message.kind:<16} to {message.recipient_id:<12} {text}"
