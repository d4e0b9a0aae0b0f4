"""Typed SQLAlchemy 2 models. Every row carries its workspace (team) id; times are aware UTC."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

DEFAULT_KUDOS_EMOJI = "clap"
DEFAULT_DAILY_ALLOWANCE = 5


class Base(DeclarativeBase):
    pass


class Workspace(Base):
    """Per-workspace settings, edited by admins."""

    __tablename__ = "workspace"

    team_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    kudos_channel_id: Mapped[str | None] = mapped_column(String(255))
    kudos_emoji: Mapped[str] = mapped_column(String(100), default=DEFAULT_KUDOS_EMOJI)
    daily_allowance: Mapped[int] = mapped_column(Integer, default=DEFAULT_DAILY_ALLOWANCE)
    kudos_values: Mapped[list[str]] = mapped_column(JSON, default=list)
    welcome_channel_id: Mapped[str | None] = mapped_column(String(255))
    # None means the built-in welcome; placeholders: {name}, {mention}, {workspace}.
    welcome_text: Mapped[str | None] = mapped_column(Text)
    welcome_guests: Mapped[bool] = mapped_column(default=False)
    # {channel id: text} for channels that greet people who join them.
    channel_welcomes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # "dm", or "ephemeral": shown in the channel to the person who joined, and only to them.
    channel_welcome_mode: Mapped[str] = mapped_column(String(16), default="dm")
    celebrations_channel_id: Mapped[str | None] = mapped_column(String(255))
    celebration_hour: Mapped[int] = mapped_column(Integer, default=9)
    # "friday": a weekend celebration is posted on the Friday before; "monday": after; "same_day".
    weekend_rule: Mapped[str] = mapped_column(String(16), default="friday")
    # A DM to the celebrations channel's members the day before; off unless an admin turns it on.
    celebration_heads_up: Mapped[bool] = mapped_column(default=False)
    # The workspace's own zone (recaps are posted on its clock); None until someone sets it: UTC.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # {channel id: {"weekday": 0-6, "hour": 0-23, "scope": "members" | "workspace"}}
    recaps: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON, default=dict, server_default="{}")
    # Whether a recap may name the people whose promises are overdue (a count only, by default).
    recap_names: Mapped[bool] = mapped_column(default=False, server_default=false())
    # People an admin made ExtraMile admins, besides the workspace's own admins and owners.
    admin_ids: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # When the workspace removed ExtraMile (uninstalled it, or revoked its token); None while installed.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Offer to track "I'll get back to you by Friday" as a promise, privately to its author (off by default).
    spot_promises: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Nudge people about questions they were @mentioned in and left unanswered (off by default): after
    # this many of their own working hours, at most this many nudges a person a day.
    question_nudges: Mapped[bool] = mapped_column(default=False, server_default=false())
    question_wait_hours: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    question_daily_cap: Mapped[int] = mapped_column(Integer, default=3, server_default="3")


class PersonSettings(Base):
    """How and when a person wants to hear from ExtraMile: their working days and hours, an absence,
    and whether reminders come as they are due or as one digest a day."""

    __tablename__ = "person_settings"

    team_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    # Monday is 0.
    work_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [0, 1, 2, 3, 4])
    work_start: Mapped[time] = mapped_column(Time, default=time(9, 0))
    work_end: Mapped[time] = mapped_column(Time, default=time(18, 0))
    # Messages to them wait until the morning after this day.
    away_until: Mapped[date | None] = mapped_column(Date)
    digest: Mapped[bool] = mapped_column(default=False)
    # False after "Don't ask me": no more offers to track what they write as a promise.
    promise_offers: Mapped[bool] = mapped_column(default=True, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Person(Base):
    """What we cache of a chat user: enough to apply the rules and render times in their zone."""

    __tablename__ = "person"

    team_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    is_bot: Mapped[bool] = mapped_column(default=False)
    is_deleted: Mapped[bool] = mapped_column(default=False)
    is_guest: Mapped[bool] = mapped_column(default=False)
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=false())
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Kudos(Base):
    """One act of thanks from a giver to one or more recipients.

    `dedupe_key` is built from the platform's own ids (trigger, view, reacted message + reactor), so a
    request delivered twice finds the row the first delivery wrote.
    """

    __tablename__ = "kudos"
    __table_args__ = (
        UniqueConstraint("team_id", "dedupe_key", name="uq_kudos_team_dedupe_key"),
        # A week's kudos in one workspace (the weekly leaderboard, the recap), not all it ever gave.
        Index("ix_kudos_team_created", "team_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(255), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(255))
    giver_id: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    origin_channel_id: Mapped[str | None] = mapped_column(String(255))
    origin_ts: Mapped[str | None] = mapped_column(String(255))
    reason_link: Mapped[str | None] = mapped_column(Text)
    post_channel_id: Mapped[str | None] = mapped_column(String(255))
    post_ts: Mapped[str | None] = mapped_column(String(255))
    permalink: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_event_ts: Mapped[str | None] = mapped_column(String(255))
    # The latest "reaction added" seen for this kudos: a removal older than it is old news.
    added_event_ts: Mapped[str | None] = mapped_column(String(255))
    # The giver's local day whose allowance this kudos used: taking it back gives that day's back.
    allowance_day: Mapped[date | None] = mapped_column(Date)

    recipients: Mapped[list[KudosRecipient]] = relationship(
        back_populates="kudos", cascade="all, delete-orphan", order_by="KudosRecipient.position"
    )
    values: Mapped[list[KudosValue]] = relationship(cascade="all, delete-orphan", order_by="KudosValue.value")


class KudosAllowance(Base):
    """How many people a giver has thanked on one of their local days. Raised in the same transaction
    as the kudos is recorded, only while it stays within the allowance: the rule holds under any
    concurrency, on any number of replicas."""

    __tablename__ = "kudos_allowance"

    team_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    giver_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class KudosRecipient(Base):
    __tablename__ = "kudos_recipient"

    kudos_id: Mapped[int] = mapped_column(ForeignKey("kudos.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(255), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    kudos: Mapped[Kudos] = relationship(back_populates="recipients")


class KudosValue(Base):
    """A #value tag on a kudos, stored in the workspace's own spelling when it has a values list."""

    __tablename__ = "kudos_value"

    kudos_id: Mapped[int] = mapped_column(ForeignKey("kudos.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(255), index=True)


class OutboxMessage(Base):
    """A message to send later, written in the same transaction as the change that caused it.

    `dedupe_key` (e.g. `promise:42:v1:due`) makes planning idempotent across replicas and restarts;
    the lease (`lease_owner`, `claimed_until`) lets any replica take over a row whose sender died.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("team_id", "dedupe_key", name="uq_outbox_team_dedupe_key"),
        Index("ix_outbox_due", "status", "deliver_after"),
        Index("ix_outbox_digest_key", "team_id", "digest_key"),
        # One person's messages around a time (a nudge kept quiet by a reminder that lands anyway).
        Index("ix_outbox_recipient", "team_id", "recipient_id", "deliver_after"),
        # A week's messages of one kind in one workspace (the recap's newcomers).
        Index("ix_outbox_team_kind_created", "team_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(255))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    recipient_id: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deliver_after: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a sender first took it: a message sent by a sender that then crashed is no older than this.
    first_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An attempt may have reached Slack without us knowing (its sender died, or the answer was lost):
    # look before sending. Cleared only when the row is marked sent.
    maybe_sent: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Folded into a person's daily digest (status "folded"): the digest's key.
    digest_key: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_channel_id: Mapped[str | None] = mapped_column(String(255))
    sent_ts: Mapped[str | None] = mapped_column(String(255))


class Promise(Base):
    """ "I'll get back to you by Friday": who promised what to whom, by when, and whether it was kept."""

    __tablename__ = "promise"
    __table_args__ = (
        UniqueConstraint("team_id", "dedupe_key", name="uq_promise_team_dedupe_key"),
        # Open promises past due, in due order (the nudge planner, the recap): few, among many kept.
        Index("ix_promise_open_due", "status", "due_at", "id"),
        # One person's open promises in due order (`/promise list`): SQLite prefers it to the above.
        Index("ix_promise_promiser_open", "promiser_id", "status", "due_at"),
        # Promises kept in a week, in one workspace (the recap).
        Index("ix_promise_team_closed", "team_id", "closed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(255), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(255))
    promiser_id: Mapped[str | None] = mapped_column(String(255))
    contact_name: Mapped[str | None] = mapped_column(String(255))
    what: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    date_only: Mapped[bool] = mapped_column(default=False)
    # Bumped by every new ETA: reminder keys carry it, so a new ETA plans fresh reminders.
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    origin_channel_id: Mapped[str | None] = mapped_column(String(255))
    origin_ts: Mapped[str | None] = mapped_column(String(255))
    context_link: Mapped[str | None] = mapped_column(Text)
    close_note: Mapped[str | None] = mapped_column(Text)

    promisees: Mapped[list[PromisePromisee]] = relationship(
        cascade="all, delete-orphan", order_by="PromisePromisee.position"
    )


class PromisePromisee(Base):
    __tablename__ = "promise_promisee"

    promise_id: Mapped[int] = mapped_column(ForeignKey("promise.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    team_id: Mapped[str] = mapped_column(String(255), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Checkin(Base):
    """A recurring reminder to get in touch: "every 2 weeks with @dan", "every 6 months with Jane at ACME".

    Occurrence k falls on `start_date` + k intervals at `local_time` in the requester's timezone, so the
    wall-clock time holds across DST changes.
    """

    __tablename__ = "checkin"
    __table_args__ = (
        UniqueConstraint("team_id", "dedupe_key", name="uq_checkin_team_dedupe_key"),
        # The planner pages through the active ones in id order, past the stopped ones.
        Index("ix_checkin_active", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(255), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(255))
    requester_id: Mapped[str | None] = mapped_column(String(255), index=True)
    contact_user_id: Mapped[str | None] = mapped_column(String(255))
    contact_name: Mapped[str | None] = mapped_column(String(255))
    every_count: Mapped[int] = mapped_column(Integer)
    every_unit: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date)
    local_time: Mapped[time] = mapped_column(Time)
    next_occurrence: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CheckinCompletion(Base):
    """One "Done" on a check-in, for counting (a recap's check-ins done this week). A click delivered
    twice is one completion: `token` is the click's own id."""

    __tablename__ = "checkin_completion"
    __table_args__ = (
        UniqueConstraint("team_id", "checkin_id", "token", name="uq_checkin_completion_token"),
        # Check-ins done in a week, in one workspace (the recap).
        Index("ix_checkin_completion_team_done", "team_id", "done_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(255))
    checkin_id: Mapped[int] = mapped_column(Integer, index=True)
    requester_id: Mapped[str | None] = mapped_column(String(255))
    token: Mapped[str] = mapped_column(String(64))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PersonDates(Base):
    """Dates a person shared (or an admin imported) to be celebrated. Never a birth year."""

    __tablename__ = "person_dates"
    # The planner reads only the dates that fall in the next few days.
    __table_args__ = (
        Index("ix_person_dates_birthday", "birthday_month", "birthday_day"),
        Index("ix_person_dates_start", "start_date"),
    )

    team_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    birthday_month: Mapped[int | None] = mapped_column(Integer)
    birthday_day: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="self")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelMember(Base):
    """Who is in the celebrations channel: the teammates a day-before heads-up goes to.

    Kept from member_joined_channel / member_left_channel and refreshed when the heads-up is turned on,
    so planning never has to ask Slack.
    """

    __tablename__ = "channel_member"

    team_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)


class Lease(Base):
    """Something only one process may do at a time (refresh a workspace's token): whoever holds the
    row until `held_until` does it; a holder that died loses it when the time runs out."""

    __tablename__ = "lease"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TeamsConversation(Base):
    """Where ExtraMile can write in Microsoft Teams: a person's 1:1 chat with it (`address` is their user
    id), or a channel or group chat it was added to (`address` is that conversation's id). Teams says so
    with every activity; a proactive message needs it later, so it is kept here, never in memory, with
    the regional service address it came from."""

    __tablename__ = "teams_conversation"

    team_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    address: Mapped[str] = mapped_column(String(255), primary_key=True)
    # personal, channel or groupChat
    kind: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str] = mapped_column(String(512))
    service_url: Mapped[str] = mapped_column(String(512))
    bot_id: Mapped[str] = mapped_column(String(255))
    # A channel's team (the id Teams lists its members under), and names for people choosing channels.
    team_ref: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Question(Base):
    """A question that @mentions someone in a channel the bot is in, kept so that person can be nudged
    once if it stays unanswered: where it is and who asked, never what it says.

    One row per person asked. `thread_ts` is the thread a reply would go in (the question's own ts at the
    top of a channel). `nudge_after` is the earliest the nudge may be planned."""

    __tablename__ = "question"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "message_ts", "asked_id", name="uq_question_asked"),
        Index("ix_question_due", "status", "nudge_after"),
        Index("ix_question_thread", "team_id", "channel_id", "thread_ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(255))
    channel_id: Mapped[str] = mapped_column(String(255))
    message_ts: Mapped[str] = mapped_column(String(255))
    thread_ts: Mapped[str] = mapped_column(String(255))
    asker_id: Mapped[str] = mapped_column(String(255))
    asked_id: Mapped[str] = mapped_column(String(255))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    nudge_after: Mapped[datetime] = mapped_column(UTCDateTime())
    # open, nudged; answered, on_it, dismissed, gone (deleted), dropped (never a moment to nudge).
    status: Mapped[str] = mapped_column(String(16), default="open")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The promise "I'm on it" made.
    promise_id: Mapped[int | None] = mapped_column(Integer)


class QuestionNudgeCount(Base):
    """How many question nudges a person was sent on one of their local days: counted in the same
    statement that allows one more, so the daily cap holds on any number of replicas."""

    __tablename__ = "question_nudge_count"

    team_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
