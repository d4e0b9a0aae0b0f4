"""Who may change ExtraMile's workspace settings, and changing them with every check a field deserves:
values in range, channels the bot is in, an emoji that exists. Nothing changes unless all of it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import ValidationError

from bot.services.celebrations import CelebrationService
from bot.services.people import PeopleService
from bot.services.platforms import platform_of
from bot.services.ports import DeliveryError, Directory
from bot.services.workspaces import WorkspaceService, WorkspaceSettings

CHANNEL_FIELDS = ("kudos_channel_id", "welcome_channel_id", "celebrations_channel_id")


class NotAnAdmin(Exception):
    """Only workspace admins and owners, and the people they made ExtraMile admins, change settings."""


class SettingsRefused(Exception):
    """Some fields cannot be saved: {field: what to change}. Nothing was saved."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class AdministrationService:
    def __init__(
        self,
        *,
        people: PeopleService,
        workspaces: WorkspaceService,
        celebrations: CelebrationService,
        directory: Directory,
    ) -> None:
        self._people = people
        self._workspaces = workspaces
        self._celebrations = celebrations
        self._directory = directory

    def is_admin(self, *, team_id: str, user_id: str, fresh: bool = False) -> bool:
        """A workspace admin or owner (as the platform says), or someone an admin made an ExtraMile admin.
        `fresh` asks the platform now (before a change is made), not the people cache."""
        if user_id in self._workspaces.get(team_id).admin_ids:
            return True
        try:
            return self._people.get(team_id, user_id, fresh=fresh).is_admin
        except DeliveryError:
            return False

    def change(self, *, team_id: str, actor_id: str, changes: Mapping[str, Any]) -> WorkspaceSettings:
        """Checks the actor, then every changed field; saves all of it, or raises and saves nothing."""
        if not self.is_admin(team_id=team_id, user_id=actor_id, fresh=True):
            raise NotAnAdmin()
        current = self._workspaces.get(team_id)
        merged = {**current.model_dump(), **changes, "team_id": team_id}
        if merged.get("recaps") and not merged.get("timezone"):
            # Recaps follow the workspace's clock: until someone sets it, the zone of the admin who asked.
            merged["timezone"] = self._people.tz(team_id, actor_id)
        errors = self._check_channels(current, merged) | self._check_emoji(
            current, str(merged.get("kudos_emoji"))
        )
        try:
            settings = WorkspaceSettings.model_validate(merged)
        except ValidationError as error:
            raise SettingsRefused(_field_errors(error) | errors) from None
        if errors:
            raise SettingsRefused(errors)
        self._workspaces.save(settings)
        return settings

    def heads_up_needs_members(self, before: WorkspaceSettings, after: WorkspaceSettings) -> bool:
        """Whether the heads-up was just turned on (or moved): its audience has to be read once."""
        return bool(after.celebration_heads_up and after.celebrations_channel_id) and (
            not before.celebration_heads_up or before.celebrations_channel_id != after.celebrations_channel_id
        )

    def refresh_heads_up_audience(self, *, team_id: str) -> int:
        """Reads the celebrations channel's members (then kept up to date from events)."""
        settings = self._workspaces.get(team_id)
        if not settings.celebrations_channel_id:
            return 0
        members = self._directory.channel_members(team_id, settings.celebrations_channel_id)
        return self._celebrations.refresh_members(
            team_id=team_id, channel_id=settings.celebrations_channel_id, user_ids=members
        )

    def _check_channels(self, current: WorkspaceSettings, merged: Mapping[str, Any]) -> dict[str, str]:
        """Every channel newly named must be one the bot is in (it posts there, or reads who is in it)."""
        errors: dict[str, str] = {}
        wanted = {field: merged.get(field) for field in CHANNEL_FIELDS}
        wanted |= {f"recaps.{channel}": channel for channel in merged.get("recaps") or {}}
        wanted |= {f"greet_channels.{channel}": channel for channel in merged.get("channel_welcomes") or {}}
        known = (
            {getattr(current, f) for f in CHANNEL_FIELDS}
            | set(current.recaps)
            | set(current.channel_welcomes)
        )
        platform = platform_of(current.team_id)
        if platform == "teams":
            invite = "Add ExtraMile to that channel's team (Manage team → Apps)"

            def where(channel: str) -> str:
                return "that channel"
        else:
            invite = "Type `/invite @ExtraMile` there"

            def where(channel: str) -> str:
                return f"<#{channel}>"

        for field, channel in wanted.items():
            if not isinstance(channel, str) or not channel or channel in known:
                continue
            try:
                can_post = self._directory.can_post(current.team_id, channel)
            except DeliveryError as error:
                errors[field.split(".")[0]] = (
                    f"{platform.title()} didn't say whether I'm in {where(channel)} ({error.reason}). Try again."
                )
                continue
            if not can_post:
                errors[field.split(".")[0]] = f"I'm not in {where(channel)} yet. {invite}, then save again."
        return errors

    def _check_emoji(self, current: WorkspaceSettings, name: str) -> dict[str, str]:
        name = name.strip().strip(":")
        if name == current.kudos_emoji or name in standard_emoji():
            return {}
        try:
            custom = self._directory.custom_emoji(current.team_id)
        except DeliveryError as error:
            return {"kudos_emoji": f"Slack didn't list this workspace's emoji ({error.reason}). Try again."}
        if name in custom:
            return {}
        return {
            "kudos_emoji": f":{name}: isn't an emoji here. Try `clap`, `raised_hands` or one of your own."
        }


@cache
def standard_emoji() -> frozenset[str]:
    """Every standard emoji's short name (`clap`, `raised_hands`, `+1`), from the emoji package."""
    import emoji

    names: set[str] = set()
    for data in emoji.EMOJI_DATA.values():
        names.add(str(data["en"]).strip(":"))
        names.update(str(alias).strip(":") for alias in data.get("alias", []))
    return frozenset(names)


def _field_errors(error: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "settings"
        errors.setdefault(field, str(problem["msg"]).removeprefix("Value error, "))
    return errors
