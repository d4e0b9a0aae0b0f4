"""Per-workspace settings: where kudos are posted, the kudos emoji, the daily allowance, the values."""

from __future__ import annotations

import re
import string
from datetime import timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bot.clock import Clock, SystemClock
from bot.services.recent import Recent
from storage import outbox as outbox_store
from storage import workspaces as workspace_store
from storage.db import SessionFactory, unit_of_work

_VALUE = re.compile(r"^[\w-]{1,100}$")
# A Slack channel id (C... public, G... private) or a Teams channel or group chat (19:...@thread...):
# anything else could not be posted to, or stored.
ChannelId = Annotated[
    str, StringConstraints(pattern=r"^(?:[CG][A-Z0-9]{2,30}|19:[\w.=-]{1,200}@thread\.[a-z0-9]{1,16})$")
]
# A Slack user (U..., W...) or a Teams one (29:...).
UserId = Annotated[str, StringConstraints(pattern=r"^(?:[UW][A-Z0-9]{2,30}|29:[\w.=-]{1,200})$")]
PLACEHOLDERS = ("name", "mention", "channel")
# Why a message was cancelled when its workspace removed ExtraMile (and revived if it comes back).
REMOVED = "workspace_removed"


def check_template(text: str) -> str:
    """Welcome texts may use `{name}`, `{mention}` and `{channel}`; anything else is refused when saved."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError as error:
        raise ValueError(f"the braces don't match ({error})") from None
    unknown = sorted({field for field in fields if field not in PLACEHOLDERS})
    if unknown:
        raise ValueError(
            f"unknown placeholder(s): {', '.join('{' + f + '}' for f in unknown)}; use {{name}}, {{mention}} or {{channel}}"
        )
    return text


class RecapSchedule(BaseModel):
    """When a recap channel gets its weekly post, in the workspace's zone, and whom it is about."""

    model_config = ConfigDict(frozen=True)

    weekday: int = Field(default=0, ge=0, le=6)  # Monday is 0
    hour: int = Field(default=9, ge=0, le=23)
    # "members": the channel's members; "workspace": everybody (a company-wide channel).
    scope: Literal["members", "workspace"] = "members"


class WorkspaceSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    team_id: str = Field(min_length=1, max_length=255)
    kudos_channel_id: ChannelId | None = None
    kudos_emoji: str = Field(default="clap", pattern=r"^[a-z0-9_+'-]{1,100}$")
    daily_allowance: int = Field(default=5, ge=0, le=1000)
    kudos_values: tuple[str, ...] = ()
    welcome_channel_id: ChannelId | None = None
    welcome_text: str | None = Field(default=None, max_length=2500)
    welcome_guests: bool = False
    channel_welcomes: dict[ChannelId, str] = Field(default_factory=dict)
    channel_welcome_mode: Literal["dm", "ephemeral"] = "dm"
    celebrations_channel_id: ChannelId | None = None
    celebration_hour: int = Field(default=9, ge=6, le=12)
    weekend_rule: Literal["friday", "monday", "same_day"] = "friday"
    celebration_heads_up: bool = False
    # None: nobody set it yet, and UTC is used.
    timezone: str | None = None
    recaps: dict[ChannelId, RecapSchedule] = Field(default_factory=dict)
    recap_names: bool = False
    admin_ids: tuple[UserId, ...] = ()
    # Offer to track "I'll get back to you by Friday" as a promise, privately to its author.
    spot_promises: bool = False
    # Nudge people about questions they were @mentioned in and left unanswered: after this many of their
    # own working hours, at most this many a person a day.
    question_nudges: bool = False
    question_wait_hours: int = Field(default=4, ge=1, le=40)
    question_daily_cap: int = Field(default=3, ge=1, le=20)

    @property
    def zone(self) -> str:
        return self.timezone or "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value} is not a timezone name like Europe/London") from None
        return value

    @field_validator("welcome_text")
    @classmethod
    def _welcome_text(cls, value: str | None) -> str | None:
        return check_template(value) if value else None

    @field_validator("channel_welcomes")
    @classmethod
    def _channel_welcomes(cls, value: dict[str, str]) -> dict[str, str]:
        return {channel: check_template(text) for channel, text in value.items() if text.strip()}

    @field_validator("kudos_emoji", mode="before")
    @classmethod
    def _strip_colons(cls, value: object) -> object:
        return value.strip().strip(":") if isinstance(value, str) else value

    @field_validator("kudos_values", mode="before")
    @classmethod
    def _clean_values(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list | tuple):
            return value
        cleaned = [str(item).strip().lstrip("#") for item in value if str(item).strip().lstrip("#")]
        for item in cleaned:
            if not _VALUE.match(item):
                raise ValueError(f"#{item} is not a value name (letters, digits, - and _)")
        return tuple(dict.fromkeys(cleaned))


# Every request reads its workspace's settings, often several times: read once in a while instead.
# A change made here is seen at once; one made by another process (the CLI) within this long.
SETTINGS_TTL = timedelta(seconds=2)


class WorkspaceService:
    def __init__(self, sessions: SessionFactory, clock: Clock | None = None) -> None:
        self.sessions = sessions
        self._clock = clock or SystemClock()
        self._recent: Recent[str, WorkspaceSettings] = Recent(self._clock, SETTINGS_TTL)

    def get(self, team_id: str) -> WorkspaceSettings:
        """The saved settings, or the defaults for a workspace that never changed any."""
        return self._recent.get_or_load(team_id, lambda: self._read(team_id))

    def _read(self, team_id: str) -> WorkspaceSettings:
        with unit_of_work(self.sessions) as session:
            saved = workspace_store.get(session, team_id=team_id)
        return WorkspaceSettings.model_validate({**(saved or {}), "team_id": team_id})

    def save(self, settings: WorkspaceSettings) -> None:
        values = settings.model_dump(exclude={"team_id"})
        values["kudos_values"] = list(settings.kudos_values)
        values["admin_ids"] = list(settings.admin_ids)
        with unit_of_work(self.sessions) as session:
            workspace_store.save(session, team_id=settings.team_id, values=values)
        self._recent.forget(settings.team_id)

    def removed(self, team_id: str) -> int:
        """The workspace removed ExtraMile: what was waiting to be sent there is cancelled (and what
        planners add later is cancelled as it is planned). Its data stays. How many rows were cancelled."""
        with unit_of_work(self.sessions) as session:
            workspace_store.mark_removed(session, team_id=team_id, at=self._clock.now())
            return outbox_store.cancel_for_removed_workspaces(session, reason=REMOVED)

    def reinstalled(self, team_id: str) -> int:
        """Installed again: messages cancelled by the removal that are still ahead come back (what fell
        due meanwhile is not sent late). How many came back."""
        with unit_of_work(self.sessions) as session:
            if workspace_store.removed_at(session, team_id=team_id) is None:
                return 0
            workspace_store.mark_removed(session, team_id=team_id, at=None)
            return outbox_store.revive_cancelled(
                session, team_id=team_id, reason=REMOVED, now=self._clock.now()
            )
