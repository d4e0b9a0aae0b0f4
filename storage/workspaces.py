"""Workspace settings queries. Callers own the session and the commit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Workspace

SETTINGS = (
    "kudos_channel_id",
    "kudos_emoji",
    "daily_allowance",
    "kudos_values",
    "welcome_channel_id",
    "welcome_text",
    "welcome_guests",
    "channel_welcomes",
    "channel_welcome_mode",
    "celebrations_channel_id",
    "celebration_hour",
    "weekend_rule",
    "celebration_heads_up",
    "timezone",
    "recaps",
    "recap_names",
    "admin_ids",
    "spot_promises",
    "question_nudges",
    "question_wait_hours",
    "question_daily_cap",
)


def get(session: Session, *, team_id: str) -> dict[str, Any] | None:
    """The workspace's saved settings, or None when it has never saved any."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        return None
    return {name: getattr(workspace, name) for name in SETTINGS}


def with_recaps(session: Session) -> list[tuple[str, dict[str, Any], str | None]]:
    """Every workspace that has recap channels: (team id, recaps, timezone)."""
    return [
        (workspace.team_id, dict(workspace.recaps), workspace.timezone)
        for workspace in session.scalars(select(Workspace).order_by(Workspace.team_id))
        if workspace.recaps
    ]


def save(session: Session, *, team_id: str, values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise ValueError(f"unknown workspace settings: {sorted(unknown)}")
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        workspace = Workspace(team_id=team_id)
        session.add(workspace)
    for name, value in values.items():
        setattr(workspace, name, value)


def mark_removed(session: Session, *, team_id: str, at: datetime | None) -> None:
    """Records that the workspace removed ExtraMile (`at`), or that it is installed again (None)."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        if at is None:
            return
        workspace = Workspace(team_id=team_id)
        session.add(workspace)
    workspace.removed_at = at


def removed_at(session: Session, *, team_id: str) -> datetime | None:
    workspace = session.get(Workspace, team_id)
    return workspace.removed_at if workspace is not None else None
