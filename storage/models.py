"""Typed SQLAlchemy 2 models. Every row carries its workspace (team) id; times are aware UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

DEFAULT_KUDOS_EMOJI = "clap"
DEFAULT_DAILY_ALLOWANCE = 5


class Base(DeclarativeBase):
    pass


class Workspace(Base):
    """Per-workspace settings, edited by admins."""

    __tablename__ = "workspace"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kudos_channel_id: Mapped[str | None] = mapped_column(String(32))
    kudos_emoji: Mapped[str] = mapped_column(String(100), default=DEFAULT_KUDOS_EMOJI)
    daily_allowance: Mapped[int] = mapped_column(Integer, default=DEFAULT_DAILY_ALLOWANCE)
    kudos_values: Mapped[list[str]] = mapped_column(JSON, default=list)


class Person(Base):
    """What we cache of a chat user: enough to apply the rules and render times in their zone."""

    __tablename__ = "person"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    is_bot: Mapped[bool] = mapped_column(default=False)
    is_deleted: Mapped[bool] = mapped_column(default=False)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Kudos(Base):
    """One act of thanks from a giver to one or more recipients.

    `dedupe_key` is built from the platform's own ids (trigger, view, reacted message + reactor), so a
    request delivered twice finds the row the first delivery wrote.
    """

    __tablename__ = "kudos"
    __table_args__ = (UniqueConstraint("team_id", "dedupe_key", name="uq_kudos_team_dedupe_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(255))
    giver_id: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    origin_channel_id: Mapped[str | None] = mapped_column(String(32))
    origin_ts: Mapped[str | None] = mapped_column(String(32))
    reason_link: Mapped[str | None] = mapped_column(Text)
    post_channel_id: Mapped[str | None] = mapped_column(String(32))
    post_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_event_ts: Mapped[str | None] = mapped_column(String(32))

    recipients: Mapped[list[KudosRecipient]] = relationship(
        back_populates="kudos", cascade="all, delete-orphan", order_by="KudosRecipient.position"
    )
    values: Mapped[list[KudosValue]] = relationship(cascade="all, delete-orphan", order_by="KudosValue.value")


class KudosRecipient(Base):
    __tablename__ = "kudos_recipient"

    kudos_id: Mapped[int] = mapped_column(ForeignKey("kudos.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    dm_channel_id: Mapped[str | None] = mapped_column(String(32))
    dm_ts: Mapped[str | None] = mapped_column(String(32))

    kudos: Mapped[Kudos] = relationship(back_populates="recipients")


class KudosValue(Base):
    """A #value tag on a kudos, stored in the workspace's own spelling when it has a values list."""

    __tablename__ = "kudos_value"

    kudos_id: Mapped[int] = mapped_column(ForeignKey("kudos.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
