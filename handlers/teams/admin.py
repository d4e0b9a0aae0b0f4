"""`settings` in Teams: the workspace settings card for ExtraMile admins, the Teams twin of Slack's admin
modal. Saving goes through AdministrationService.change, which checks the person and every field again
(a forged or stale card changes nothing)."""

from __future__ import annotations

from typing import Any

from bot.services.administration import NotAnAdmin, SettingsRefused
from bot.services.workspaces import RecapSchedule, WorkspaceSettings
from handlers.teams import cards
from handlers.teams.agent import Turn
from handlers.teams.cards import Element, Rendered

SAVE = "settings.save"
NONE = "none"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The card's inputs, by the setting each one changes (errors are shown beside them).
FIELDS = {
    "kudos_channel_id": "Kudos are posted in",
    "welcome_channel_id": "Welcomes are posted in",
    "celebrations_channel_id": "Birthdays and anniversaries are celebrated in",
    "daily_allowance": "Kudos each person can give a day",
    "kudos_values": "Your values (for #hashtags), separated by spaces",
    "timezone": "Your team's time zone",
    "celebration_hour": "Celebrations are posted at (local hour, 6–12)",
    "recaps": "Weekly recap in",
}


def settings_card(turn: Turn) -> Rendered:
    services = turn.services
    if not services.administration.is_admin(team_id=turn.team_id, user_id=turn.user_id, fresh=True):
        return only_admins(turn)
    return _card(turn, services.workspaces.get(turn.team_id), errors={})


def save(turn: Turn) -> Rendered:
    services = turn.services
    data = turn.value if isinstance(turn.value, dict) else {}
    current = services.workspaces.get(turn.team_id)
    try:
        changed = services.administration.change(
            team_id=turn.team_id, actor_id=turn.user_id, changes=changes_from(data, current)
        )
    except NotAnAdmin:
        return only_admins(turn)
    except SettingsRefused as refused:
        return _card(turn, current, errors=refused.errors, typed=data)
    if services.administration.heads_up_needs_members(current, changed):
        services.follow_ups.submit(services.administration.refresh_heads_up_audience, team_id=turn.team_id)
    return _card(turn, changed, errors={}, saved=True)


def only_admins(turn: Turn) -> Rendered:
    return cards.simple(
        "Only ExtraMile admins can change these settings. An admin can add you with "
        f"`extramile workspace {turn.team_id} --admins {turn.user_id}`."
    )


def changes_from(data: dict[str, Any], current: WorkspaceSettings) -> dict[str, Any]:
    """The card's inputs as settings. Teams sends every input as a string."""

    def channel(key: str) -> str | None:
        value = str(data.get(key) or NONE)
        return None if value == NONE else value

    def number(key: str, default: int) -> int | str:
        raw = str(data.get(key) or "").strip()
        return int(raw) if raw.lstrip("-").isdigit() else (raw or default)

    recap_channels = [c for c in str(data.get("recaps") or "").split(",") if c and c != NONE]
    weekday = WEEKDAYS.index(str(data.get("recap_day"))) if data.get("recap_day") in WEEKDAYS else 0
    hour = number("recap_hour", 9)
    schedule = {"weekday": weekday, "hour": hour}
    recaps: dict[str, Any] = {
        # A channel kept keeps its scope; the day and hour are the card's.
        c: {**current.recaps.get(c, RecapSchedule()).model_dump(), **schedule}
        for c in recap_channels
    }
    return {
        "kudos_channel_id": channel("kudos_channel_id"),
        "welcome_channel_id": channel("welcome_channel_id"),
        "celebrations_channel_id": channel("celebrations_channel_id"),
        "daily_allowance": number("daily_allowance", current.daily_allowance),
        "kudos_values": tuple(
            v.lstrip("#") for v in str(data.get("kudos_values") or "").split() if v.lstrip("#")
        ),
        "timezone": str(data.get("timezone") or "").strip() or None,
        "celebration_hour": number("celebration_hour", current.celebration_hour),
        "recaps": recaps,
    }


def _card(
    turn: Turn,
    settings: WorkspaceSettings,
    *,
    errors: dict[str, str],
    typed: dict[str, Any] | None = None,
    saved: bool = False,
) -> Rendered:
    channels = [(a.address, a.name or a.address) for a in turn.addresses.channels(turn.team_id)]
    choices = [{"title": "Nowhere", "value": NONE}] + [
        {"title": name, "value": address} for address, name in channels if address.startswith("19:")
    ]
    typed = typed or {}

    def value(key: str, current: object) -> str:
        return str(typed.get(key, current if current is not None else ""))

    body: list[Element] = [cards.text("**ExtraMile settings**", size="Medium")]
    if saved:
        body.append(cards.text("Saved ✅ Changes apply from now on."))
    if not channels:
        body.append(
            cards.text(
                "Add ExtraMile to a team first (Manage team → Apps) to pick its channels.", subtle=True
            )
        )

    def field(key: str, element: Element) -> None:
        body.append({**element, "id": key, "label": FIELDS[key]})
        if key in errors:
            body.append(cards.text(f"⚠️ {errors[key]}", bold=True))

    for key in ("kudos_channel_id", "welcome_channel_id", "celebrations_channel_id"):
        field(key, _choice(choices, value(key, getattr(settings, key) or NONE)))
    field(
        "daily_allowance",
        {
            "type": "Input.Number",
            "min": 0,
            "max": 1000,
            "value": value("daily_allowance", settings.daily_allowance),
        },
    )
    field(
        "kudos_values",
        {"type": "Input.Text", "value": value("kudos_values", " ".join(settings.kudos_values))},
    )
    field(
        "timezone",
        {"type": "Input.Text", "placeholder": "Europe/Paris", "value": value("timezone", settings.timezone)},
    )
    field(
        "celebration_hour",
        {
            "type": "Input.Number",
            "min": 6,
            "max": 12,
            "value": value("celebration_hour", settings.celebration_hour),
        },
    )
    field(
        "recaps", {**_choice(choices[1:], value("recaps", ",".join(settings.recaps))), "isMultiSelect": True}
    )
    first = next(iter(settings.recaps.values()), RecapSchedule())
    body.append(
        {
            "type": "Input.ChoiceSet",
            "id": "recap_day",
            "label": "Recap day",
            "choices": [{"title": day, "value": day} for day in WEEKDAYS],
            "value": str(typed.get("recap_day", WEEKDAYS[first.weekday])),
        }
    )
    body.append(
        {
            "type": "Input.Number",
            "id": "recap_hour",
            "label": "Recap hour (0–23)",
            "min": 0,
            "max": 23,
            "value": str(typed.get("recap_hour", first.hour)),
        }
    )
    return Rendered(
        summary="ExtraMile settings", card=cards.card(*body, actions=[cards.execute("Save", SAVE)])
    )


def _choice(choices: list[dict[str, str]], selected: str) -> Element:
    return {"type": "Input.ChoiceSet", "style": "compact", "choices": choices, "value": selected}
