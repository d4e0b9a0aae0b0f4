"""Welcomes: a warm DM for someone new, the team invited to say hi, channel greetings, and ExtraMile
introducing itself where it was just added.

One welcome per person per workspace however often the platform reports the join: every message is
an outbox row keyed by the person (`welcome:U123:dm`), and one introduction per conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.clock import Clock
from bot.services import keys
from bot.services.delivery import DeliveryService, Outbound
from bot.services.people import PeopleService
from bot.services.ports import DeliveryError, PersonInfo, PrivateReply
from bot.services.workspaces import WorkspaceService
from storage import outbox as outbox_store
from storage.db import SessionFactory, unit_of_work

NOTICE = "welcome.notice"
INTRODUCTION = "welcome.introduction"
# A hello is for when ExtraMile arrives: after a day of not getting through, it would be out of place.
INTRODUCTION_EXPIRES = timedelta(days=1)
DEFAULT_WELCOME = (
    "Welcome aboard, {name}! :wave: We're really glad you're here.\n"
    "Ask anything, anywhere: people here like helping. If you share your birthday and start date, "
    "the team can celebrate them with you (never your age)."
)

Stage = Literal["dm", "channel", "wave", "channel_welcome"]


@dataclass(frozen=True)
class WelcomeNotice:
    stage: Stage
    team_id: str
    newcomer_id: str
    newcomer_name: str
    template: str
    channel_id: str | None = None
    waver_id: str | None = None
    # Shown privately (in the channel, to the newcomer alone) instead of as a message of its own.
    reply: PrivateReply | None = None


@dataclass(frozen=True)
class Introduction:
    """ExtraMile's hello in a conversation it was added to, with how an admin points it there."""

    team_id: str
    channel_id: str


class WelcomeService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Clock,
        people: PeopleService,
        workspaces: WorkspaceService,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._people = people
        self._workspaces = workspaces

    def register(self, delivery: DeliveryService) -> None:
        delivery.register(NOTICE, self.compose)
        delivery.register(INTRODUCTION, self.compose_introduction)

    def joined_workspace(self, person: PersonInfo) -> int:
        """Queues the welcome DM (and the channel post); 0 for bots, deactivated people, guests
        (unless the workspace welcomes them) and a join reported again."""
        settings = self._workspaces.get(person.team_id)
        if person.is_bot or person.is_deleted or (person.is_guest and not settings.welcome_guests):
            return 0
        self._people.remember(person)
        queued = self._enqueue(
            person.team_id, keys.welcome(person.user_id, "dm"), person.user_id, "dm", person.user_id
        )
        if settings.welcome_channel_id:
            queued += self._enqueue(
                person.team_id,
                keys.welcome(person.user_id, "channel"),
                settings.welcome_channel_id,
                "channel",
                person.user_id,
            )
        return queued

    def joined_channel(self, *, team_id: str, user_id: str, channel_id: str) -> int:
        settings = self._workspaces.get(team_id)
        if channel_id not in settings.channel_welcomes:
            return 0
        # Bots and deactivated people are filtered when it is sent: a lookup now could hit a rate limit.
        return self._enqueue(
            team_id,
            keys.channel_welcome(channel_id, user_id),
            user_id,
            "channel_welcome",
            user_id,
            channel_id=channel_id,
            ephemeral=settings.channel_welcome_mode == "ephemeral",
        )

    def introduce(self, *, team_id: str, channel_id: str) -> bool:
        """ExtraMile was added to a channel or group chat: one hello there, ever. True when queued."""
        now = self._clock.now()
        with unit_of_work(self._sessions) as session:
            added = outbox_store.enqueue(
                session,
                team_id=team_id,
                dedupe_key=keys.introduction(channel_id),
                kind=INTRODUCTION,
                recipient_id=channel_id,
                payload={},
                deliver_after=now,
                expires_at=now + INTRODUCTION_EXPIRES,
                created_at=now,
            )
        return bool(added)

    def compose_introduction(self, message: Outbound) -> Introduction:
        return Introduction(team_id=message.team_id, channel_id=message.recipient_id)

    def wave(self, *, team_id: str, newcomer_id: str, waver_id: str) -> bool:
        """One wave per person per newcomer; waving at yourself does nothing."""
        if newcomer_id == waver_id:
            return False
        return bool(
            self._enqueue(
                team_id, keys.wave(newcomer_id, waver_id), newcomer_id, "wave", newcomer_id, waver_id=waver_id
            )
        )

    def _enqueue(
        self,
        team_id: str,
        key: str,
        recipient_id: str,
        stage: Stage,
        newcomer_id: str,
        *,
        channel_id: str | None = None,
        waver_id: str | None = None,
        ephemeral: bool = False,
    ) -> int:
        payload: dict[str, object] = {"stage": stage, "newcomer_id": newcomer_id}
        if ephemeral:
            payload["ephemeral"] = True
        if channel_id:
            payload["channel_id"] = channel_id
        if waver_id:
            payload["waver_id"] = waver_id
        now = self._clock.now()
        with unit_of_work(self._sessions) as session:
            # Welcomes are immediate: the person is here now, greeting them is the point.
            added = outbox_store.enqueue(
                session,
                team_id=team_id,
                dedupe_key=key,
                kind=NOTICE,
                recipient_id=recipient_id,
                payload=payload,
                deliver_after=now,
                created_at=now,
            )
        return int(added)

    def compose(self, message: Outbound) -> WelcomeNotice | None:
        stage: Stage = message.payload["stage"]
        newcomer_id = str(message.payload["newcomer_id"])
        try:
            newcomer = self._people.get(message.team_id, newcomer_id)
        except DeliveryError as error:
            if error.gone:
                return None
            raise  # a rate limit or an outage: the row is retried later, not dropped
        if newcomer.is_deleted or newcomer.is_bot:
            return None
        settings = self._workspaces.get(message.team_id)
        channel_id = message.payload.get("channel_id")
        template = DEFAULT_WELCOME if stage == "dm" else ""
        if stage == "dm" and settings.welcome_text:
            template = settings.welcome_text
        if stage == "channel_welcome":
            template = settings.channel_welcomes.get(str(channel_id), "")
            if not template:
                return None  # the channel stopped greeting people meanwhile
        return WelcomeNotice(
            stage=stage,
            team_id=message.team_id,
            newcomer_id=newcomer_id,
            newcomer_name=newcomer.display_name,
            template=template,
            channel_id=str(channel_id) if channel_id else None,
            waver_id=message.payload.get("waver_id"),
            reply=PrivateReply(user_id=message.recipient_id, channel_id=str(channel_id))
            if message.payload.get("ephemeral") and channel_id
            else None,
        )
