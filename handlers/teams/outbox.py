"""Sends outbox rows to Microsoft Teams, and answers the services' questions about Teams people and
channels (the Directory and Messenger ports).

A row goes to a conversation reference kept in the database: a channel's, or a person's 1:1 chat, which
is opened through the connector when they have none yet. Teams cannot be searched for a message we may
have sent before a crash, so a row taken over from a sender that died mid-send is not sent again (at
most once, as with Slack's private replies).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from bot.services.addresses import Address, AddressBook
from bot.services.celebrations import CelebrationDM, CelebrationPost, HeadsUp
from bot.services.checkins import CheckinNotice
from bot.services.delivery import Digest
from bot.services.exports import ExportFiles
from bot.services.kudos import KudosPost, KudosReply, KudosView
from bot.services.people import PeopleService
from bot.services.platforms import tenant_of
from bot.services.ports import DeliveryError, PersonInfo, PostedMessage, PrivateReply, Withdrawal
from bot.services.promises import PromiseNotice
from bot.services.recaps import RecapChart, RecapPost
from bot.services.welcomes import Introduction, WelcomeNotice
from handlers.teams import cards, checkin_cards, digest_cards, people_cards, promise_cards, recap_cards
from handlers.teams.cards import Names, Rendered
from handlers.teams.connector import Connector

# Every kind of view a composer returns, and how it looks in Teams.
RENDERERS: dict[type, Callable[[Any, Names], Rendered]] = {
    KudosPost: lambda post, names: cards.kudos_announcement(post.kudos, names),
    KudosView: cards.kudos_recipient_dm,
    KudosReply: cards.kudos_reply,
    WelcomeNotice: people_cards.welcome,
    Introduction: people_cards.introduction,
    CelebrationPost: people_cards.celebration_post,
    CelebrationDM: people_cards.celebration_dm,
    HeadsUp: people_cards.heads_up,
    RecapPost: lambda post, names: recap_cards.recap_post(post.recap, names),
    RecapChart: recap_cards.recap_chart,
    PromiseNotice: promise_cards.notice,
    CheckinNotice: checkin_cards.notice,
    Digest: lambda digest, names: digest_cards.digest(digest, names, render),
}

# Teams' bots have ids starting 28:, people 29:.
BOT_PREFIX = "28:"


def render(view: object, names: Names) -> Rendered:
    renderer = RENDERERS.get(type(view))
    if renderer is None:
        raise DeliveryError(f"no_renderer:{type(view).__name__}")
    return renderer(view, names)


def message_activity(rendered: Rendered) -> dict[str, Any]:
    return {"type": "message", "summary": rendered.summary, "attachments": [rendered.attachment()]}


class NameBook:
    """People's display names as ExtraMile last heard them from Teams."""

    def __init__(self, people: Callable[[], PeopleService]) -> None:
        self._people = people

    def for_team(self, team_id: str) -> Names:
        def name(user_id: str) -> str:
            try:
                return self._people().get(team_id, user_id).display_name or "a teammate"
            except DeliveryError:
                return "a teammate"

        return name


class Reach:
    """A person or channel's conversation, opening a 1:1 chat when a person has none yet."""

    def __init__(self, book: AddressBook, connector: Connector) -> None:
        self._book = book
        self._connector = connector

    def address(self, team_id: str, target: str) -> Address:
        found = self._book.get(team_id, target)
        if found is not None:
            return found
        if not target.startswith(("29:", "8:orgid:")):
            raise DeliveryError("channel_not_found")
        anywhere = self._book.latest(team_id)
        if anywhere is None:
            # Nobody in this tenant has talked to ExtraMile yet: there is no service address to use.
            raise DeliveryError("channel_not_found")
        conversation_id = self._connector.open_chat(
            anywhere.service_url, bot_id=anywhere.bot_id, tenant_id=tenant_of(team_id), user_id=target
        )
        opened = Address(
            team_id=team_id,
            address=target,
            kind="personal",
            conversation_id=conversation_id,
            service_url=anywhere.service_url,
            bot_id=anywhere.bot_id,
        )
        self._book.save(opened)
        return opened


class TeamsOutboxSender:
    def __init__(self, reach: Reach, connector: Connector, names: NameBook) -> None:
        self._reach = reach
        self._connector = connector
        self._names = names

    def send(self, message: Any, view: object) -> PostedMessage:
        if isinstance(view, Withdrawal):
            return self._withdraw(message.team_id, view)
        if isinstance(view, ExportFiles):
            raise DeliveryError("not_on_teams")
        if message.reclaimed:
            raise DeliveryError("not_resent_after_crash")
        rendered = render(view, self._names.for_team(message.team_id))
        reply = getattr(view, "reply", None)
        target = reply.user_id if isinstance(reply, PrivateReply) else message.recipient_id
        address = self._reach.address(message.team_id, target)
        conversation_id = address.conversation_id
        thread = getattr(view, "thread_ts", None)
        if thread and address.kind == "channel":
            conversation_id = f"{conversation_id};messageid={thread}"
        activity_id = self._connector.send(address.service_url, conversation_id, message_activity(rendered))
        return PostedMessage(channel_id=address.address, ts=activity_id)

    def _withdraw(self, team_id: str, view: Withdrawal) -> PostedMessage:
        address = self._reach.address(team_id, view.channel_id)
        try:
            self._connector.delete(address.service_url, address.conversation_id, view.ts)
        except DeliveryError as error:
            if error.reason != "conversation_not_found":  # gone already: so much the better
                raise
        return PostedMessage(channel_id=view.channel_id, ts=view.ts)

    def describe(self, message: Any, view: object) -> str:
        head = f"{message.deliver_after:%Y-%m-%d %H:%M}Z  {message.kind:<16}"
        if isinstance(view, Withdrawal):
            return f"{head} delete {view.ts} (Teams)"
        if isinstance(view, ExportFiles):
            return f"{head} export to {view.recipient_id} (not on Teams)"
        rendered = render(view, self._names.for_team(message.team_id))
        return f"{head} to {message.recipient_id[:12]:<12} {rendered.summary} (Teams)"


class TeamsDirectory:
    """What Teams lets ExtraMile know about people and channels. People's names and zones arrive with
    their activities (and mentions) and are cached by PeopleService; Teams has no directory to ask."""

    def __init__(self, book: AddressBook, connector: Connector) -> None:
        self._book = book
        self._connector = connector

    def person(self, team_id: str, user_id: str) -> PersonInfo:
        # Not "gone": PeopleService keeps what the person's own activities told it.
        raise DeliveryError("not_in_directory")

    def group_members(self, team_id: str, group_id: str) -> list[str]:
        raise DeliveryError("no_such_subteam")

    def channel_members(self, team_id: str, channel_id: str) -> list[str]:
        address = self._book.get(team_id, channel_id)
        if address is None or address.kind == "personal":
            raise DeliveryError("channel_not_found")
        members = self._connector.members(address.service_url, address.team_ref or address.conversation_id)
        return [
            str(member["id"]) for member in members if not str(member.get("id", "")).startswith(BOT_PREFIX)
        ]

    def can_post(self, team_id: str, channel_id: str) -> bool:
        address = self._book.get(team_id, channel_id)
        return address is not None and address.kind != "personal"

    def custom_emoji(self, team_id: str) -> set[str]:
        return set()

    def is_private(self, team_id: str, channel_id: str) -> bool:
        address = self._book.get(team_id, channel_id)
        return address is None or address.kind != "channel"


class TeamsMessenger:
    def permalink(self, team_id: str, channel_id: str, ts: str) -> str | None:
        """A deep link to a channel message (Teams' documented link format)."""
        if not channel_id.startswith("19:") or not ts:
            return None
        return (
            f"https://teams.microsoft.com/l/message/{quote(channel_id, safe='')}/{quote(ts, safe='')}"
            f"?tenantId={quote(tenant_of(team_id), safe='')}"
        )

    def message_text(self, team_id: str, channel_id: str, ts: str, *, thread_ts: str | None) -> str | None:
        """A bot cannot read a Teams message again without Microsoft Graph: promise spotting is Slack's."""
        return None

    def replied(self, team_id: str, channel_id: str, thread_ts: str, user_id: str, *, after_ts: str) -> bool:
        return False
