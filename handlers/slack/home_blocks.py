"""Block Kit for the App Home and the "how ExtraMile reaches you" form."""

from __future__ import annotations

import calendar
import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.services.home import HomeView
from bot.services.kudos import KudosView
from bot.services.people import Preferences
from handlers.slack import checkin_blocks, people_blocks, promise_blocks
from handlers.slack.mrkdwn import escape, link

OPEN_PREFERENCES = "home_preferences"
OPEN_ADMIN_SETTINGS = "home_admin_settings"
PREFERENCES_MODAL = "preferences_modal"
DAYS_BLOCK, DAYS_ACTION = "preferences_days", "days"
START_BLOCK, START_ACTION = "preferences_start", "start"
END_BLOCK, END_ACTION = "preferences_end", "end"
AWAY_BLOCK, AWAY_ACTION = "preferences_away", "away"
DIGEST_BLOCK, DIGEST_ACTION = "preferences_digest", "digest"
OFFERS_BLOCK, OFFERS_ACTION = "preferences_offers", "offers"
OFFERS_ON = "on"
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Slack shows at most 100 blocks on a Home: each list is kept short.
SHOWN = 8
QUOTE_CHARS = 120


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _days(days: tuple[int, ...]) -> str:
    if days == (0, 1, 2, 3, 4):
        return "Monday to Friday"
    return ", ".join(DAY_NAMES[day] for day in days)


def _kudos_line(kudos: KudosView) -> str:
    giver = f"<@{kudos.giver_id}>" if kudos.giver_id else "A former colleague"
    words = " ".join(kudos.message.split()) or "for your message"
    if len(words) > QUOTE_CHARS:
        words = words[: QUOTE_CHARS - 1].rstrip() + "…"
    line = f"{giver}: {escape(words)}"
    return line + (f" · {link(kudos.permalink, 'see it')}" if kudos.permalink else "")


def _short(what: str) -> str:
    """A promise's words, escaped, cut to what a Home list has room for."""
    words = " ".join(what.split())
    return escape(words if len(words) <= QUOTE_CHARS else words[: QUOTE_CHARS - 1].rstrip() + "…")


def preferences_summary(preferences: Preferences) -> str:
    hours = f"{preferences.work_start:%H:%M} to {preferences.work_end:%H:%M}"
    lines = [f"*Working days:* {_days(preferences.work_days)}, {hours} (your time)"]
    if preferences.away_until:
        away = preferences.away_until
        lines.append(f"*Away until:* {away:%a} {away.day} {calendar.month_name[away.month]}")
    lines.append(
        "*Reminders:* one digest at the start of your day"
        if preferences.digest
        else "*Reminders:* as they come"
    )
    if not preferences.promise_offers:
        lines.append("*Offers to track promises you write:* off")
    return "\n".join(lines)


def home(view: HomeView) -> dict[str, Any]:
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Your ExtraMile"))]
    if view.is_admin:
        blocks.append(
            ActionsBlock(
                block_id="home_admin",
                elements=[
                    ButtonElement(text="ExtraMile settings", action_id=OPEN_ADMIN_SETTINGS, value="open")
                ],
            )
        )
    blocks.append(_section("*Your open promises*"))
    if not view.my_promises:
        blocks.append(_section("Nothing open. Nice."))
    for promise in view.my_promises[:SHOWN]:
        waiting = promise_blocks.waiting(promise)
        due = promise_blocks.when(promise.due_at, view.tz)
        blocks.append(_section(f"*{_short(promise.what)}* for {waiting}, due {due}"))
        blocks.append(promise_blocks.reminder_buttons(promise))
    if view.owed_to_me:
        blocks.append(_section("*Waiting on others*"))
        for p in view.owed_to_me[:SHOWN]:
            who = f"<@{p.promiser_id}>" if p.promiser_id else "A former colleague"
            blocks.append(
                _section(f"• {who}: *{_short(p.what)}*, by {promise_blocks.when(p.due_at, view.tz)}")
            )
    blocks.append(DividerBlock())
    blocks.append(_section("*Your check-ins*"))
    if not view.checkins:
        blocks.append(_section("None yet. `/checkin @dan every 2 weeks` keeps you in touch."))
    for checkin in view.checkins[:SHOWN]:
        next_at = promise_blocks.when(checkin.next_at, view.tz)
        blocks.append(
            _section(f"{checkin_blocks.who(checkin)}, {checkin_blocks.every(checkin)}. Next: {next_at}")
        )
        blocks.append(checkin_blocks.reminder_buttons(checkin))
    blocks.append(DividerBlock())
    if view.kudos_received:
        total = f"*Kudos you received:* {view.kudos_received} in all. The latest:"
        blocks.append(_section(total))
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=_kudos_line(k)) for k in view.recent_kudos])
        )
    else:
        blocks.append(_section("*Kudos you received:* none yet. They'll show up here :sparkles:"))
    blocks.append(DividerBlock())
    dates = people_blocks.dates_line(view.dates)
    blocks.append(
        SectionBlock(
            text=MarkdownTextObject(text=f"*Your dates:* {dates}"),
            accessory=ButtonElement(
                text="Edit my dates", action_id=people_blocks.SHARE_DATES, value=view.user_id
            ),
        )
    )
    blocks.append(
        SectionBlock(
            text=MarkdownTextObject(text=preferences_summary(view.preferences)),
            accessory=ButtonElement(text="Change", action_id=OPEN_PREFERENCES, value=view.user_id),
        )
    )
    return View(type="home", blocks=blocks).to_dict()


def preferences_modal(preferences: Preferences) -> dict[str, Any]:
    days = [Option(value=str(n), text=name) for n, name in enumerate(DAY_NAMES)]
    chosen = [days[n] for n in preferences.work_days]
    modes = [
        Option(value="as_they_come", text="As they come"),
        Option(value="digest", text="One digest at the start of my day"),
    ]
    offers = Option(
        value=OFFERS_ON, text='Offer to track them ("I\'ll send it by Friday") as promises, privately'
    )
    return View(
        type="modal",
        callback_id=PREFERENCES_MODAL,
        title="Your reminders",
        submit="Save",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=DAYS_BLOCK,
                label="The days you work",
                element=CheckboxesElement(action_id=DAYS_ACTION, options=days, initial_options=chosen),
            ),
            InputBlock(
                block_id=START_BLOCK,
                label="Your day starts",
                element=TimePickerElement(
                    action_id=START_ACTION, initial_time=f"{preferences.work_start:%H:%M}"
                ),
            ),
            InputBlock(
                block_id=END_BLOCK,
                label="and ends",
                element=TimePickerElement(action_id=END_ACTION, initial_time=f"{preferences.work_end:%H:%M}"),
            ),
            InputBlock(
                block_id=AWAY_BLOCK,
                label="Away until (reminders wait until you're back)",
                optional=True,
                element=DatePickerElement(
                    action_id=AWAY_ACTION,
                    initial_date=preferences.away_until.isoformat() if preferences.away_until else None,
                ),
            ),
            InputBlock(
                block_id=DIGEST_BLOCK,
                label="Reminders that can wait",
                element=RadioButtonsElement(
                    action_id=DIGEST_ACTION,
                    options=modes,
                    initial_option=modes[1 if preferences.digest else 0],
                ),
            ),
            InputBlock(
                block_id=OFFERS_BLOCK,
                label="Promises you write in chat",
                optional=True,
                element=CheckboxesElement(
                    action_id=OFFERS_ACTION,
                    options=[offers],
                    initial_options=[offers] if preferences.promise_offers else None,
                ),
            ),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="A reminder for a time you picked yourself always comes at that time. "
                        "Offers to track a promise are shown only to you, and only where your workspace "
                        "turned them on."
                    )
                ]
            ),
        ],
        private_metadata=json.dumps({}),
    ).to_dict()
