"""The Teams agent: each activity becomes a service call, and a result becomes an Adaptive Card.

Every turn first records where its conversation is (so a reminder can reach it later, from any
replica) and who spoke (their name and time zone). Services are synchronous and touch the database, so
they run on a worker thread, never on the event loop. What a turn promises is recorded before the turn
ends, and so before Teams hears 200/202; what it sends later goes through the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from microsoft_agents.activity import Activity, ChannelAccount, InvokeResponse, TurnContextProtocol
from microsoft_agents.hosting.core import ActivityHandler
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.container import Services
from bot.services.addresses import Address, AddressBook
from bot.services.platforms import teams_workspace
from bot.services.ports import DeliveryError, PersonInfo
from handlers.teams import cards, extension_cards, people
from handlers.teams.cards import Names, Rendered
from handlers.teams.said import Said, said

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """One activity, as the command handlers need it."""

    team_id: str
    user_id: str
    user_name: str
    # personal, channel or groupChat
    kind: str
    # The channel or group chat it came from (its address), None in a 1:1 chat.
    channel_id: str | None
    activity_id: str
    said: Said
    value: Any
    services: Services
    names: Names
    # Teams' conversation references: the channels ExtraMile is in, by name.
    addresses: AddressBook
    # The sender's Microsoft Entra object id (what Teams' people picker gives for them).
    aad_id: str = ""

    @property
    def data(self) -> dict[str, Any]:
        """What a pressed button carries (with the card's inputs), or a form's fields."""
        return self.value if isinstance(self.value, dict) else {}

    def number(self, key: str) -> int | None:
        """An id a button carries, or None when it is missing or not a number."""
        try:
            return int(self.data.get(key))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None


# A command word, and what it does; each returns the card to answer with (or None: nothing to say).
Command = Callable[[Turn], Rendered | None]
# An invoke answered with a body of its own (a message extension's dialog), by the invoke's name.
TaskCommand = Callable[[Turn], dict[str, Any]]
# Invokes about a message the person acted on: their conversation may be one ExtraMile is not in.
MESSAGE_ACTION_INVOKES = ("composeExtension/fetchTask", "composeExtension/submitAction")


class ExtraMileAgent(ActivityHandler):
    def __init__(
        self,
        services: Services,
        book: AddressBook,
        *,
        commands: dict[str, Command],
        actions: dict[str, Command],
        default_tenant: str | None,
        tasks: dict[str, TaskCommand] | None = None,
        roster: people.Roster | None = None,
    ) -> None:
        self._services = services
        self._book = book
        self._commands = commands
        self._actions = actions
        self._tasks = tasks or {}
        self._default_tenant = default_tenant
        self._roster = roster

    async def on_turn(self, turn_context: TurnContextProtocol[Any]) -> None:
        activity: Activity = turn_context.activity
        team_id = self._team_id(activity)
        if team_id is None or activity.from_property is None or activity.recipient is None:
            log.info("ignored a Teams activity without a tenant or sender")
            return
        try:
            await asyncio.to_thread(self._remember, team_id, activity)
            await super().on_turn(turn_context)
        except (OperationalError, InterfaceError):
            log.warning("the database did not answer a Teams %s activity", activity.type)
            if activity.type == "message":
                await _answer(turn_context, cards.try_again_later())
            else:
                raise

    async def on_message_activity(self, turn_context: TurnContextProtocol[Any]) -> None:
        turn = await self._turn(turn_context)
        command = self._commands.get(turn.said.command) or self._commands["help"]
        rendered = await self._run(command, turn)
        if rendered is not None:
            await _answer(turn_context, rendered)
        self._services.deliver_soon()

    async def on_invoke_activity(self, turn_context: TurnContextProtocol[Any]) -> InvokeResponse | None:
        activity: Activity = turn_context.activity
        task = self._tasks.get(activity.name or "")
        if task is not None:
            return await self._task(task, turn_context)
        if activity.name != "adaptiveCard/action":
            return InvokeResponse(status=501)
        action = _dict((_dict(activity.value)).get("action"))
        verb = str(action.get("verb") or "")
        handler = self._actions.get(verb)
        if handler is None:
            return InvokeResponse(status=400, body=_card_message("That button is no longer in use."))
        turn = await self._turn(turn_context, value=_dict(action.get("data")))
        rendered = await self._run(handler, turn)
        self._services.deliver_soon()
        if rendered is None:
            return InvokeResponse(status=200, body=_card_message("Done."))
        if rendered.keep_card:
            # Words only: the pressed card stays as it is (a digest, whose other items are still to do).
            return InvokeResponse(status=200, body=_card_message(rendered.summary))
        return InvokeResponse(
            status=200,
            body={"statusCode": 200, "type": cards.CARD_TYPE, "value": rendered.card},
        )

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContextProtocol[Any]
    ) -> None:
        """Someone (or ExtraMile itself) was added to a team, a channel or a chat."""
        arrival = self._arrival(turn_context.activity, members_added)
        if arrival is not None:
            await asyncio.to_thread(people.members_added, arrival, self._services, self._book, self._roster)
            self._services.deliver_soon()

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContextProtocol[Any]
    ) -> None:
        arrival = self._arrival(turn_context.activity, members_removed)
        if arrival is not None:
            await asyncio.to_thread(people.members_removed, arrival, self._services, self._book)

    def _arrival(self, activity: Activity, members: list[ChannelAccount]) -> people.Arrival | None:
        """Who was added to (or removed from) which conversation, as the people handlers need it."""
        team_id = self._team_id(activity)
        if team_id is None or activity.recipient is None or not activity.service_url:
            return None
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        return people.Arrival(
            team_id=team_id,
            kind=_kind(activity),
            channel_id=_channel_address(activity),
            event_type=str(data.get("eventType") or ""),
            service_url=activity.service_url,
            bot_id=activity.recipient.id,
            team_ref=str((data.get("team") or {}).get("id") or "") or None,
            members=tuple((member.id, member.name or "") for member in members if member.id),
        )

    async def _turn(self, turn_context: TurnContextProtocol[Any], *, value: Any = None) -> Turn:
        activity: Activity = turn_context.activity
        team_id = self._team_id(activity)
        assert team_id is not None and activity.from_property is not None and activity.recipient is not None
        mentions = [
            entity.model_dump(by_alias=True)
            for entity in activity.entities or []
            if str(getattr(entity, "type", "")) in ("mention", "EntityTypes.MENTION")
        ]
        kind = _kind(activity)
        return Turn(
            team_id=team_id,
            user_id=activity.from_property.id,
            user_name=activity.from_property.name or "",
            kind=kind,
            channel_id=None if kind == "personal" else _channel_address(activity),
            activity_id=activity.id or "",
            said=said(activity.text, mentions, bot_id=activity.recipient.id),
            value=value,
            services=self._services,
            names=self._names(team_id),
            addresses=self._book,
            aad_id=activity.from_property.aad_object_id or "",
        )

    async def _run(self, handler: Command, turn: Turn) -> Rendered | None:
        try:
            return await asyncio.to_thread(handler, turn)
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            incident = secrets.token_hex(4)
            log.exception("a Teams command failed (incident %s)", incident)
            return cards.unexpected_error(incident)

    async def _task(self, task: TaskCommand, turn_context: TurnContextProtocol[Any]) -> InvokeResponse:
        activity: Activity = turn_context.activity
        turn = await self._turn(turn_context, value=_dict(activity.value))
        try:
            body = await asyncio.to_thread(task, turn)
        except (OperationalError, InterfaceError):
            log.warning("the database did not answer a Teams %s invoke", activity.name)
            body = extension_cards.notice(extension_cards.try_again_later())
        except Exception:
            incident = secrets.token_hex(4)
            log.exception("a Teams message action failed (incident %s)", incident)
            body = extension_cards.notice(extension_cards.unexpected(incident))
        self._services.deliver_soon()
        return InvokeResponse(status=200, body=body)

    def _names(self, team_id: str) -> Names:
        people = self._services.people

        def name(user_id: str) -> str:
            try:
                return people.get(team_id, user_id).display_name or "a teammate"
            except DeliveryError:
                return "a teammate"

        return name

    def _team_id(self, activity: Activity) -> str | None:
        tenant = (activity.conversation.tenant_id if activity.conversation else None) or _tenant(
            activity.channel_data
        )
        tenant = tenant or self._default_tenant
        return teams_workspace(tenant) if tenant else None

    def _remember(self, team_id: str, activity: Activity) -> None:
        """Where this conversation is, who spoke, and who they mentioned."""
        assert activity.from_property is not None and activity.recipient is not None
        conversation = activity.conversation
        # A message action in a chat between people: that chat is theirs, not a way to reach them.
        acted_in_a_chat = activity.name in MESSAGE_ACTION_INVOKES and _kind(activity) == "personal"
        if conversation is not None and activity.service_url and not acted_in_a_chat:
            kind = _kind(activity)
            address = activity.from_property.id if kind == "personal" else _channel_address(activity)
            data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
            self._book.save(
                Address(
                    team_id=team_id,
                    address=address,
                    kind=kind,
                    conversation_id=address if kind == "channel" else conversation.id,
                    service_url=activity.service_url,
                    bot_id=activity.recipient.id,
                    team_ref=str((data.get("team") or {}).get("id") or "") or None,
                    name=_conversation_name(activity, address),
                )
            )
        if activity.type in ("message", "invoke"):
            self._seen(team_id, activity.from_property.id, activity.from_property.name, _zone(activity))
            for entity in activity.entities or []:
                mentioned = getattr(entity, "mentioned", None)
                if mentioned is not None and mentioned.id and mentioned.id != activity.recipient.id:
                    self._seen(team_id, mentioned.id, mentioned.name, None)

    def _seen(self, team_id: str, user_id: str, name: str | None, zone: str | None) -> None:
        """Keeps a person's name, and their zone when the activity says it (a mention does not)."""
        people = self._services.people
        try:
            known: PersonInfo | None = people.get(team_id, user_id)
        except DeliveryError:
            known = None
        tz = zone or (known.tz if known else self._services.workspaces.get(team_id).zone)
        name = (name or (known.display_name if known else "")).strip()
        if known is not None and known.display_name == name and known.tz == tz:
            return
        people.remember(
            PersonInfo(
                team_id=team_id,
                user_id=user_id,
                display_name=name,
                tz=tz,
                is_bot=user_id.startswith("28:"),
                is_deleted=False,
            )
        )


async def _answer(turn_context: TurnContextProtocol[Any], rendered: Rendered) -> None:
    """A reply in the conversation the person wrote in."""
    await turn_context.send_activity(
        Activity(
            type="message",
            summary=rendered.summary,
            attachments=[rendered.attachment()],  # type: ignore[list-item]
        )
    )


def _card_message(words: str) -> dict[str, Any]:
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": words}


def _kind(activity: Activity) -> str:
    kind = (activity.conversation.conversation_type if activity.conversation else None) or "personal"
    return kind if kind in ("personal", "channel", "groupChat") else "personal"


def _channel_address(activity: Activity) -> str:
    """A channel's own id (a reply in a thread carries `;messageid=...` in its conversation id)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel = str((data.get("channel") or {}).get("id") or "")
    conversation_id = activity.conversation.id if activity.conversation else ""
    return channel or conversation_id.split(";", 1)[0]


def _conversation_name(activity: Activity, address: str) -> str:
    """What an admin would call a conversation: `Engineering / General`, a chat's topic."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = data.get("team") or {}
    channel = str((data.get("channel") or {}).get("name") or "")
    if not channel and address == team.get("id"):
        channel = "General"  # Teams leaves the General channel's name out
    channel = channel or (activity.conversation.name if activity.conversation else None) or ""
    return " / ".join(part for part in (str(team.get("name") or ""), channel) if part)


def _tenant(channel_data: Any) -> str | None:
    if isinstance(channel_data, dict):
        tenant = (channel_data.get("tenant") or {}).get("id")
        return str(tenant) if tenant else None
    return None


def _zone(activity: Activity) -> str | None:
    """The sender's IANA zone: the activity's `localTimezone`, else its clientInfo entity."""
    candidates: list[object] = [activity.local_timezone]
    for entity in activity.entities or []:
        data = entity.model_dump(by_alias=True)
        if data.get("type") == "clientInfo":
            candidates.append(data.get("timezone"))
    for candidate in candidates:
        if isinstance(candidate, str) and _known_zone(candidate):
            return candidate
    return None


def _known_zone(name: str) -> bool:
    if len(name) > 64:  # longer than any zone's name (and than a file name may be)
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
