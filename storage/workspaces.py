"""Workspace settings queries. Callers own the session and the commit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.models import DEFAULT_DAILY_ALLOWANCE, DEFAULT_KUDOS_EMOJI, Workspace


def get_or_default(session: Session, *, team_id: str) -> Workspace:
    """The workspace's settings; an unsaved default row when it has none yet."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        return Workspace(
            team_id=team_id,
            kudos_channel_id=None,
            kudos_emoji=DEFAULT_KUDOS_EMOJI,
            daily_allowance=DEFAULT_DAILY_ALLOWANCE,
            kudos_values=[],
        )
    return workspace


def save(
    session: Session,
    *,
    team_id: str,
    kudos_channel_id: str | None,
    kudos_emoji: str,
    daily_allowance: int,
    kudos_values: list[str],
) -> None:
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        workspace = Workspace(team_id=team_id)
        session.add(workspace)
    workspace.kudos_channel_id = kudos_channel_id
    workspace.kudos_emoji = kudos_emoji
    workspace.daily_allowance = daily_allowance
    workspace.kudos_values = list(kudos_values)
