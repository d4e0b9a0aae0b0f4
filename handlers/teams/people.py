"""People in Teams: who was added where (conversationUpdate), `birthday` and `anniversary`, the welcome
card's wave and dates form. The same services and rules as Slack's people listeners.

Teams says who was added, rarely their name, never their zone: a newcomer's name (and whether they are
a guest) is asked of the Bot Connector once, and their zone is the workspace's until they write to us.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.container import Services
from bot.services.addresses import AddressBook
from bot.services.celebrations import DateRefused
from bot.services.ports import DeliveryError, PersonInfo
from handlers.teams import cards, people_cards
from handlers.teams.cards import Rendered

if TYPE_CHECKING:
    from handlers.teams.agent import Turn

log = logging.getLogger(__name__)

BOT_PREFIX = "28:"
# A turn waits for these lookups before Teams hears back: short, and given up after one failure.
LOOKUP_SECONDS = 5.0
# Teams' words for somebody added to or removed from a team (a shared channel says channelMemberAdded).
TEAM_EVENTS = ("teamMemberAdded", "teamMemberRemoved", "")


class Roster(Protocol):
    """Asks Teams about one member of a team or chat (the Bot Connector)."""

    def member(
        self, service_url: str, conversation_id: str, member_id: str, *, timeout: float
    ) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Arrival:
    """A conversationUpdate's membersAdded: who was added, and where."""

    team_id: str
    kind: str  # channel (a team or one of its channels), groupChat or personal
    channel_id: str  # the conversation's address: a team's General channel, a channel, a group chat
    event_type: str
    service_url: str
    bot_id: str
    # The team's id (its General channel's), to ask about its members; None outside a team.
    team_ref: str | None
    # (user id, name): Teams usually leaves the name out.
    members: tuple[tuple[str, str], ...]

    @property
    def about_the_team(self) -> bool:
        """Somebody joined or left the team itself (not one channel of it)."""
        return self.kind == "channel" and self.event_type in TEAM_EVENTS


def members_added(arrival: Arrival, services: Services, book: AddressBook, roster: Roster | None) -> None:
    """Recorded before Teams hears back: the hello, the welcome and greetings wait in the outbox, once
    each however often Teams delivers this update."""
    if any(user_id == arrival.bot_id for user_id, _ in arrival.members):
        # ExtraMile itself arrived; the people added with it (a new group chat's) are not newcomers.
        if arrival.kind != "personal":
            services.welcomes.introduce(team_id=arrival.team_id, channel_id=arrival.channel_id)
        return
    if arrival.kind == "personal":
        return
    lookup = roster
    channels = _channels_joined(arrival, book)
    for user_id, given_name in arrival.members:
        if user_id.startswith(BOT_PREFIX):
            continue
        # Someone ExtraMile already knows (they wrote to it, or were thanked) is not new here: Teams
        # cannot say who joined the organisation, so only a first sight is welcomed as a newcomer.
        if _known(services, arrival.team_id, user_id) is None:
            person, reached = _newcomer(arrival, user_id, given_name, services, lookup)
            lookup = lookup if reached else None
            services.people.remember(person)
            if arrival.about_the_team:
                services.welcomes.joined_workspace(person)
        for channel_id in channels:
            services.celebrations.member_joined(
                team_id=arrival.team_id, channel_id=channel_id, user_id=user_id
            )
        services.welcomes.joined_channel(
            team_id=arrival.team_id, user_id=user_id, channel_id=arrival.channel_id
        )


def members_removed(arrival: Arrival, services: Services, book: AddressBook) -> None:
    """People who left a team or a channel are no longer there to hear of a celebration."""
    for channel_id in _channels_joined(arrival, book):
        for user_id, _ in arrival.members:
            services.celebrations.member_left(team_id=arrival.team_id, channel_id=channel_id, user_id=user_id)


def _channels_joined(arrival: Arrival, book: AddressBook) -> list[str]:
    """The channels a member's arrival (or departure) changes: joining a team is joining its channels
    (as far as ExtraMile knows them: Teams does not say which are private)."""
    if arrival.kind != "channel":
        return []
    if not (arrival.about_the_team and arrival.team_ref):
        return [arrival.channel_id]
    in_team = [
        address.address for address in book.channels(arrival.team_id) if address.team_ref == arrival.team_ref
    ]
    return list(dict.fromkeys([arrival.channel_id, *in_team]))


def _known(services: Services, team_id: str, user_id: str) -> PersonInfo | None:
    try:
        return services.people.get(team_id, user_id)
    except DeliveryError:
        return None


def _newcomer(
    arrival: Arrival, user_id: str, given_name: str, services: Services, roster: Roster | None
) -> tuple[PersonInfo, bool]:
    """(the person, whether Teams answered): their name and role asked of the team, when it answers."""
    name, guest, reached = given_name, False, roster is not None
    if roster is not None:
        try:
            member = roster.member(
                arrival.service_url, arrival.team_ref or arrival.channel_id, user_id, timeout=LOOKUP_SECONDS
            )
            name = str(member.get("name") or name)
            guest = str(member.get("userRole") or "").lower() == "guest"
        except DeliveryError as error:
            log.info("could not look up a Teams newcomer: %s", error.reason)
            reached = False
    person = PersonInfo(
        team_id=arrival.team_id,
        user_id=user_id,
        display_name=name.strip(),
        tz=services.workspaces.get(arrival.team_id).zone,
        is_bot=False,
        is_deleted=False,
        is_guest=guest,
    )
    return person, reached


# Commands: `birthday 14 March`, `anniversary 2021-04-12`, each with help, list and clear.


def birthday(turn: Turn) -> Rendered:
    return _dates(turn, "birthday")


def anniversary(turn: Turn) -> Rendered:
    return _dates(turn, "anniversary")


def _dates(turn: Turn, kind: str) -> Rendered:
    celebrations = turn.services.celebrations
    team_id, user_id = turn.team_id, turn.user_id
    words = turn.said.words
    word = words.lower()
    if word in ("", "help"):
        return people_cards.birthday_help()
    if word == "list":
        return people_cards.upcoming(celebrations.upcoming(team_id=team_id, viewer_id=user_id), turn.names)
    if word in ("clear", "forget", "remove"):
        celebrations.clear(
            team_id=team_id, user_id=user_id, kind="birthday" if kind == "birthday" else "anniversary"
        )
        return people_cards.shared(celebrations.shared(team_id=team_id, user_id=user_id), "Cleared. Now")
    try:
        if kind == "birthday":
            celebrations.share_birthday(team_id=team_id, user_id=user_id, text=words)
        else:
            celebrations.share_start_date(team_id=team_id, user_id=user_id, text=words)
    except DateRefused as error:
        return people_cards.date_refused(error)
    return people_cards.shared(celebrations.shared(team_id=team_id, user_id=user_id), "Thanks! ✨ Saved.")


# Buttons on the welcome cards.


def wave(turn: Turn) -> Rendered:
    """Wave 👋 on the welcome post: once per person per newcomer; the post stays as it was."""
    data = turn.value if isinstance(turn.value, dict) else {}
    newcomer_id = str(data.get("newcomer_id") or "")
    if not newcomer_id:
        return cards.note("That button is no longer in use.")
    waved = turn.services.welcomes.wave(team_id=turn.team_id, newcomer_id=newcomer_id, waver_id=turn.user_id)
    name = turn.names(newcomer_id)
    if waved:
        return cards.note(f"Wave sent to {name} 👋")
    if newcomer_id == turn.user_id:
        return cards.note("That's you! Everyone else can wave at you, though.")
    return cards.note(f"You already waved at {name}. Maybe say hi in the thread?")


def save_dates(turn: Turn) -> Rendered:
    """Save on the welcome's dates form: what was filled in is shared (saving again changes nothing)."""
    celebrations = turn.services.celebrations
    data = turn.value if isinstance(turn.value, dict) else {}
    birthday_text = str(data.get(people_cards.BIRTHDAY_INPUT) or "").strip()
    start_text = str(data.get(people_cards.START_INPUT) or "").strip()
    refused: list[str] = []
    try:
        if birthday_text:
            celebrations.share_birthday(team_id=turn.team_id, user_id=turn.user_id, text=birthday_text)
    except DateRefused as error:
        refused.append(f"Birthday: {error}")
    try:
        if start_text:
            celebrations.share_start_date(team_id=turn.team_id, user_id=turn.user_id, text=start_text)
    except DateRefused as error:
        refused.append(f"Start date: {error}")
    if refused:
        return cards.note(" ".join(refused))
    dates = celebrations.shared(team_id=turn.team_id, user_id=turn.user_id)
    return cards.note(people_cards.shared_words(dates, "Thanks! ✨ Saved."))
