"""Block Kit for the admins' "ExtraMile settings" form, and the refusal everyone else sees."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ConversationMultiSelectElement,
    ConversationSelectElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.services.workspaces import RecapSchedule, WorkspaceSettings

SETTINGS_MODAL = "admin_settings_modal"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_GREETING = "Welcome to {channel}, {mention}!"

# Each input's block id (its action id is "value"), and the setting an error about it names.
KUDOS_CHANNEL = "admin_kudos_channel"
KUDOS_EMOJI = "admin_kudos_emoji"
ALLOWANCE = "admin_allowance"
VALUES = "admin_values"
WELCOME_CHANNEL = "admin_welcome_channel"
WELCOME_TEXT = "admin_welcome_text"
GUESTS = "admin_guests"
GREET_CHANNELS = "admin_greet_channels"
GREETING = "admin_greeting"
GREETING_MODE = "admin_greeting_mode"
CELEBRATIONS_CHANNEL = "admin_celebrations_channel"
CELEBRATION_HOUR = "admin_celebration_hour"
WEEKEND_RULE = "admin_weekend_rule"
HEADS_UP = "admin_heads_up"
TIMEZONE = "admin_timezone"
RECAP_CHANNELS = "admin_recap_channels"
RECAP_DAY = "admin_recap_day"
RECAP_HOUR = "admin_recap_hour"
RECAP_SCOPE = "admin_recap_scope"
RECAP_NAMES = "admin_recap_names"
ADMINS = "admin_admins"
SPOT_PROMISES = "admin_spot_promises"
QUESTION_NUDGES = "admin_question_nudges"
QUESTION_WAIT = "admin_question_wait"
QUESTION_CAP = "admin_question_cap"
ACTION = "value"
BLOCK_FOR_FIELD = {
    "kudos_channel_id": KUDOS_CHANNEL,
    "kudos_emoji": KUDOS_EMOJI,
    "daily_allowance": ALLOWANCE,
    "kudos_values": VALUES,
    "welcome_channel_id": WELCOME_CHANNEL,
    "welcome_text": WELCOME_TEXT,
    "welcome_guests": GUESTS,
    "channel_welcomes": GREETING,
    "greet_channels": GREET_CHANNELS,
    "channel_welcome_mode": GREETING_MODE,
    "celebrations_channel_id": CELEBRATIONS_CHANNEL,
    "celebration_hour": CELEBRATION_HOUR,
    "weekend_rule": WEEKEND_RULE,
    "celebration_heads_up": HEADS_UP,
    "timezone": TIMEZONE,
    "recaps": RECAP_CHANNELS,
    "recap_names": RECAP_NAMES,
    "admin_ids": ADMINS,
    "spot_promises": SPOT_PROMISES,
    "question_nudges": QUESTION_NUDGES,
    "question_wait_hours": QUESTION_WAIT,
    "question_daily_cap": QUESTION_CAP,
}


def _option(value: str, text: str) -> Option:
    return Option(value=value, text=text)


def _yes(label: str) -> Option:
    return _option("yes", label)


def _input(
    block_id: str, label: str, element: Any, *, optional: bool = True, hint: str | None = None
) -> InputBlock:
    return InputBlock(block_id=block_id, label=label, element=element, optional=optional, hint=hint)


def settings_modal(settings: WorkspaceSettings) -> dict[str, Any]:
    hours = [_option(str(h), f"{h:02d}:00") for h in range(24)]
    celebration_hours = [_option(str(h), f"{h:02d}:00") for h in range(6, 13)]
    days = [_option(str(n), name) for n, name in enumerate(DAYS)]
    rules = [
        _option("friday", "The Friday before"),
        _option("monday", "The Monday after"),
        _option("same_day", "On the day"),
    ]
    modes = [_option("dm", "By DM"), _option("ephemeral", "In the channel, only to them")]
    scopes = [_option("members", "The channel's members"), _option("workspace", "The whole workspace")]
    schedule = next(iter(settings.recaps.values()), RecapSchedule())
    greeting = next(iter(settings.channel_welcomes.values()), "")
    guests, heads_up, names, spot, nudges = (
        _yes("Welcome guests too"),
        _yes("DM the channel's members the day before"),
        _yes("Name whose promises are overdue (a count only, otherwise)"),
        _yes('Offer to track them ("I\'ll send it by Friday") as promises'),
        _yes("Nudge the person @mentioned, once, privately"),
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="Changes apply to everyone in this workspace at once.")),
        HeaderBlock(text=PlainTextObject(text="Kudos")),
        _input(
            KUDOS_CHANNEL,
            "Post kudos in (leave empty to post where they're given)",
            ConversationSelectElement(action_id=ACTION, initial_conversation=settings.kudos_channel_id),
        ),
        _input(
            KUDOS_EMOJI,
            "Reaction that gives kudos",
            PlainTextInputElement(action_id=ACTION, initial_value=settings.kudos_emoji, max_length=100),
            optional=False,
        ),
        _input(
            ALLOWANCE,
            "Kudos each person can give a day (0 for no limit)",
            NumberInputElement(
                action_id=ACTION,
                is_decimal_allowed=False,
                min_value="0",
                max_value="1000",
                initial_value=str(settings.daily_allowance),
            ),
            optional=False,
        ),
        _input(
            VALUES,
            "Our values, separated by commas",
            PlainTextInputElement(action_id=ACTION, initial_value=", ".join(settings.kudos_values) or None),
            hint="People tag kudos with them: #ownership",
        ),
        DividerBlock(),
        HeaderBlock(text=PlainTextObject(text="Welcomes")),
        _input(
            WELCOME_CHANNEL,
            "Introduce newcomers in",
            ConversationSelectElement(action_id=ACTION, initial_conversation=settings.welcome_channel_id),
        ),
        _input(
            WELCOME_TEXT,
            "Welcome DM (leave empty for ours)",
            PlainTextInputElement(
                action_id=ACTION, multiline=True, max_length=2500, initial_value=settings.welcome_text
            ),
            hint="{name} and {mention} are replaced for each newcomer.",
        ),
        _input(
            GUESTS,
            "Guests",
            CheckboxesElement(
                action_id=ACTION,
                options=[guests],
                initial_options=[guests] if settings.welcome_guests else None,
            ),
        ),
        _input(
            GREET_CHANNELS,
            "Greet people who join these channels",
            ConversationMultiSelectElement(
                action_id=ACTION, initial_conversations=list(settings.channel_welcomes) or None
            ),
        ),
        _input(
            GREETING,
            "with",
            PlainTextInputElement(
                action_id=ACTION, initial_value=greeting or DEFAULT_GREETING, max_length=2500
            ),
            hint="{channel}, {name} and {mention} are replaced.",
        ),
        _input(
            GREETING_MODE,
            "shown",
            RadioButtonsElement(
                action_id=ACTION,
                options=modes,
                initial_option=modes[0 if settings.channel_welcome_mode == "dm" else 1],
            ),
            optional=False,
        ),
        DividerBlock(),
        HeaderBlock(text=PlainTextObject(text="Birthdays and anniversaries")),
        _input(
            CELEBRATIONS_CHANNEL,
            "Celebrate in",
            ConversationSelectElement(
                action_id=ACTION, initial_conversation=settings.celebrations_channel_id
            ),
        ),
        _input(
            CELEBRATION_HOUR,
            "At (each person's own time)",
            StaticSelectElement(
                action_id=ACTION,
                options=celebration_hours,
                initial_option=celebration_hours[settings.celebration_hour - 6],
            ),
            optional=False,
        ),
        _input(
            WEEKEND_RULE,
            "A date on a weekend is celebrated",
            RadioButtonsElement(
                action_id=ACTION,
                options=rules,
                initial_option=next(o for o in rules if o.value == settings.weekend_rule),
            ),
            optional=False,
        ),
        _input(
            HEADS_UP,
            "Heads-up",
            CheckboxesElement(
                action_id=ACTION,
                options=[heads_up],
                initial_options=[heads_up] if settings.celebration_heads_up else None,
            ),
        ),
        DividerBlock(),
        HeaderBlock(text=PlainTextObject(text="Weekly recap")),
        _input(
            TIMEZONE,
            "The workspace's timezone",
            PlainTextInputElement(
                action_id=ACTION, initial_value=settings.timezone, placeholder="Europe/London"
            ),
            hint="Recaps go out on this clock. Leave empty to use yours.",
        ),
        _input(
            RECAP_CHANNELS,
            "Post a recap in",
            ConversationMultiSelectElement(
                action_id=ACTION, initial_conversations=list(settings.recaps) or None
            ),
        ),
        _input(
            RECAP_DAY,
            "Every",
            StaticSelectElement(action_id=ACTION, options=days, initial_option=days[schedule.weekday]),
            optional=False,
        ),
        _input(
            RECAP_HOUR,
            "At",
            StaticSelectElement(action_id=ACTION, options=hours, initial_option=hours[schedule.hour]),
            optional=False,
        ),
        _input(
            RECAP_SCOPE,
            "About",
            RadioButtonsElement(
                action_id=ACTION,
                options=scopes,
                initial_option=scopes[0 if schedule.scope == "members" else 1],
            ),
            optional=False,
        ),
        _input(
            RECAP_NAMES,
            "Overdue promises",
            CheckboxesElement(
                action_id=ACTION, options=[names], initial_options=[names] if settings.recap_names else None
            ),
        ),
        HeaderBlock(text=PlainTextObject(text="Promises")),
        _input(
            SPOT_PROMISES,
            "Promises written in chat",
            CheckboxesElement(
                action_id=ACTION, options=[spot], initial_options=[spot] if settings.spot_promises else None
            ),
            hint='Only the author sees the offer, and anyone can say "Don\'t ask me". Message text is read to decide, never kept.',
        ),
        _input(
            QUESTION_NUDGES,
            "Questions left unanswered",
            CheckboxesElement(
                action_id=ACTION,
                options=[nudges],
                initial_options=[nudges] if settings.question_nudges else None,
            ),
            hint="Only the person asked sees the nudge. Where a question is and who asked are kept, never its words.",
        ),
        _input(
            QUESTION_WAIT,
            "Nudge after this many of their working hours",
            NumberInputElement(
                action_id=ACTION,
                is_decimal_allowed=False,
                min_value="1",
                max_value="40",
                initial_value=str(settings.question_wait_hours),
            ),
            optional=False,
        ),
        _input(
            QUESTION_CAP,
            "At most this many question nudges a person a day",
            NumberInputElement(
                action_id=ACTION,
                is_decimal_allowed=False,
                min_value="1",
                max_value="20",
                initial_value=str(settings.question_daily_cap),
            ),
            optional=False,
        ),
        DividerBlock(),
        _input(
            ADMINS,
            "Also let these people change ExtraMile's settings",
            UserMultiSelectElement(action_id=ACTION, initial_users=list(settings.admin_ids) or None),
            hint="Workspace admins and owners always can.",
        ),
    ]
    # What the shared recap and greeting fields showed: left as they were, each channel keeps its own.
    shown = {"schedule": schedule.model_dump(), "greeting": greeting or DEFAULT_GREETING}
    return View(
        type="modal",
        callback_id=SETTINGS_MODAL,
        title="ExtraMile settings",
        submit="Save",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps(shown),
    ).to_dict()


def only_admins() -> dict[str, Any]:
    text = (
        "Only workspace admins and owners, and the people they choose, can change ExtraMile's settings. "
        "If something should change, ask one of them: they'll find *ExtraMile settings* on their Home."
    )
    return View(
        type="modal",
        title="ExtraMile settings",
        close="OK",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    ).to_dict()
