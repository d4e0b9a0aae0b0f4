"""Microsoft Teams conversation references: where a proactive message to a person or channel goes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import upserts
from storage.models import TeamsConversation


def save(
    session: Session,
    *,
    team_id: str,
    address: str,
    kind: str,
    conversation_id: str,
    service_url: str,
    bot_id: str,
    team_ref: str | None,
    name: str,
    at: datetime,
) -> None:
    """Keeps the latest reference: Teams may move a tenant to another regional service address."""
    values = {
        "team_id": team_id,
        "address": address,
        "kind": kind,
        "conversation_id": conversation_id,
        "service_url": service_url,
        "bot_id": bot_id,
        "team_ref": team_ref,
        "name": name,
        "updated_at": at,
    }
    upserts.upsert(
        session, TeamsConversation, keys=("team_id", "address"), values=values, update=list(values)[2:]
    )


def get(session: Session, *, team_id: str, address: str) -> TeamsConversation | None:
    return session.get(TeamsConversation, (team_id, address))


def latest(session: Session, *, team_id: str) -> TeamsConversation | None:
    """The tenant's most recent reference: its service address and the bot's id, to open a new chat."""
    return session.scalars(
        select(TeamsConversation)
        .where(TeamsConversation.team_id == team_id)
        .order_by(TeamsConversation.updated_at.desc())
        .limit(1)
    ).first()


def channels(session: Session, *, team_id: str) -> list[TeamsConversation]:
    """The channels and group chats ExtraMile was added to, by name."""
    return list(
        session.scalars(
            select(TeamsConversation)
            .where(TeamsConversation.team_id == team_id, TeamsConversation.kind != "personal")
            .order_by(TeamsConversation.name, TeamsConversation.address)
        )
    )
