"""Channel membership we keep for planning (the celebrations channel's members)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import ChannelMember, Person
from storage.upserts import insert_ignored


def add(session: Session, *, team_id: str, channel_id: str, user_id: str) -> None:
    insert_ignored(
        session,
        ChannelMember,
        keys=("team_id", "channel_id", "user_id"),
        values={"team_id": team_id, "channel_id": channel_id, "user_id": user_id},
    )


def remove(session: Session, *, team_id: str, channel_id: str, user_id: str) -> None:
    session.execute(
        delete(ChannelMember).where(
            ChannelMember.team_id == team_id,
            ChannelMember.channel_id == channel_id,
            ChannelMember.user_id == user_id,
        )
    )


def replace(session: Session, *, team_id: str, channel_id: str, user_ids: Iterable[str]) -> None:
    session.execute(
        delete(ChannelMember).where(ChannelMember.team_id == team_id, ChannelMember.channel_id == channel_id)
    )
    for user_id in dict.fromkeys(user_ids):
        session.add(ChannelMember(team_id=team_id, channel_id=channel_id, user_id=user_id))


def members_with_zones(session: Session, *, team_id: str, channel_id: str) -> list[tuple[str, str]]:
    """Active members and their zones (UTC until their profile is cached); bots and deactivated people
    left out. Forgetting a person removes their memberships."""
    rows = session.execute(
        select(ChannelMember.user_id, Person.tz, Person.is_bot, Person.is_deleted)
        .outerjoin(
            Person, (Person.team_id == ChannelMember.team_id) & (Person.user_id == ChannelMember.user_id)
        )
        .where(ChannelMember.team_id == team_id, ChannelMember.channel_id == channel_id)
        .order_by(ChannelMember.user_id)
    ).all()
    return [
        (user_id, tz or "UTC") for user_id, tz, is_bot, is_deleted in rows if not is_bot and not is_deleted
    ]


def forget(session: Session, *, team_id: str, user_id: str) -> None:
    session.execute(
        delete(ChannelMember).where(ChannelMember.team_id == team_id, ChannelMember.user_id == user_id)
    )
