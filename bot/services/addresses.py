"""Where a proactive message goes on a platform that needs an address for it (Microsoft Teams: a
conversation reference). Kept in the database, so that any replica, and `extramile tick`, can reach a
person or a channel long after the request that taught us the address."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from storage import teams as teams_store
from storage.db import SessionFactory, unit_of_work
from storage.models import TeamsConversation


@dataclass(frozen=True)
class Address:
    team_id: str
    # A person's id (their 1:1 chat with the bot), or a channel's or group chat's conversation id.
    address: str
    kind: str  # personal, channel or groupChat
    conversation_id: str
    service_url: str
    bot_id: str
    team_ref: str | None = None
    name: str = ""


def _address(row: TeamsConversation) -> Address:
    return Address(
        team_id=row.team_id,
        address=row.address,
        kind=row.kind,
        conversation_id=row.conversation_id,
        service_url=row.service_url,
        bot_id=row.bot_id,
        team_ref=row.team_ref,
        name=row.name,
    )


class AddressBook:
    def __init__(self, *, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def save(self, address: Address) -> None:
        with unit_of_work(self._sessions) as session:
            teams_store.save(
                session,
                team_id=address.team_id,
                address=address.address,
                kind=address.kind,
                conversation_id=address.conversation_id,
                service_url=address.service_url,
                bot_id=address.bot_id,
                team_ref=address.team_ref,
                name=address.name[:255],
                at=self._clock.now(),
            )

    def get(self, team_id: str, address: str) -> Address | None:
        with unit_of_work(self._sessions) as session:
            row = teams_store.get(session, team_id=team_id, address=address)
            return _address(row) if row is not None else None

    def latest(self, team_id: str) -> Address | None:
        """Any address in the workspace: its service address and the bot's id open a new chat there."""
        with unit_of_work(self._sessions) as session:
            row = teams_store.latest(session, team_id=team_id)
            return _address(row) if row is not None else None

    def channels(self, team_id: str) -> list[Address]:
        with unit_of_work(self._sessions) as session:
            return [_address(row) for row in teams_store.channels(session, team_id=team_id)]
