"""Per-workspace settings: where kudos are posted, the kudos emoji, the daily allowance, the values."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storage import workspaces as workspace_store
from storage.db import SessionFactory, unit_of_work

_VALUE = re.compile(r"^[\w-]{1,100}$")


class WorkspaceSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    team_id: str = Field(min_length=1)
    kudos_channel_id: str | None = None
    kudos_emoji: str = Field(default="clap", pattern=r"^[a-z0-9_+'-]{1,100}$")
    daily_allowance: int = Field(default=5, ge=0, le=1000)
    kudos_values: tuple[str, ...] = ()

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


@dataclass(frozen=True)
class WorkspaceService:
    sessions: SessionFactory

    def get(self, team_id: str) -> WorkspaceSettings:
        with unit_of_work(self.sessions) as session:
            row = workspace_store.get_or_default(session, team_id=team_id)
            return WorkspaceSettings(
                team_id=row.team_id,
                kudos_channel_id=row.kudos_channel_id,
                kudos_emoji=row.kudos_emoji,
                daily_allowance=row.daily_allowance,
                kudos_values=tuple(row.kudos_values),
            )

    def save(self, settings: WorkspaceSettings) -> None:
        with unit_of_work(self.sessions) as session:
            workspace_store.save(
                session,
                team_id=settings.team_id,
                kudos_channel_id=settings.kudos_channel_id,
                kudos_emoji=settings.kudos_emoji,
                daily_allowance=settings.daily_allowance,
                kudos_values=list(settings.kudos_values),
            )
