"""Block Kit for welcomes, celebrations, shared dates and forget-me."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.services.celebrations import (
    Celebration,
    CelebrationDM,
    CelebrationPost,
    DateRefused,
    HeadsUp,
    SharedDates,
)
from bot.services.privacy import Forgotten
from bot.services.welcomes import WelcomeNotice
from handlers.slack.blocks import Rendered, block_dicts
from handlers.slack.mrkdwn import escape

SHARE_DATES = "welcome_share_dates"
WAVE = "welcome_wave"
FORGET_CONFIRM = "forget_me_confirm"
DATES_MODAL = "dates_modal"
BIRTHDAY_BLOCK, BIRTHDAY_ACTION = "dates_birthday", "birthday"
START_BLOCK, START_ACTION = "dates_start", "start"

BIRTHDAY_USAGE = (
    "*Share your birthday:* `/birthday 14 March` (no year: we never show an age)\n"
    "*Share your start date:* `/anniversary 2021-04-12`\n"
    "*See what's coming up:* `/birthday list` · *Take it back:* `/birthday clear`, `/anniversary clear`"
)


class _Placeholders(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, item: WelcomeNotice) -> str:
    values = _Placeholders(
        name=escape(item.newcomer_name),
        mention=f"<@{item.newcomer_id}>",
        channel=f"<#{item.channel_id}>" if item.channel_id else "",
    )
    return template.format_map(values)


def welcome(item: WelcomeNotice) -> Rendered:
    if item.stage == "dm":
        text = _fill(item.template, item)
        return text, block_dicts(
            SectionBlock(text=MarkdownTextObject(text=text)),
            ActionsBlock(
                block_id="welcome_actions",
                elements=[
                    ButtonElement(
                        text="Share my birthday and start date", action_id=SHARE_DATES, value=item.newcomer_id
                    )
                ],
            ),
        )
    if item.stage == "channel":
        text = f"Please welcome <@{item.newcomer_id}>, who just joined! Say hi, or send a wave."
        return text, block_dicts(
            SectionBlock(text=MarkdownTextObject(text=f":wave: {text}")),
            ActionsBlock(
                block_id="welcome_wave",
                elements=[
                    ButtonElement(text="Wave 👋", action_id=WAVE, value=item.newcomer_id, style="primary")
                ],
            ),
        )
    if item.stage == "wave":
        text = f"<@{item.waver_id}> waved at you 👋"
        return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))
    text = _fill(item.template, item)
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def _worded(celebration: Celebration, posted_on: date) -> str:
    who = f"<@{celebration.user_id}>"
    if celebration.kind == "birthday":
        line = f":birthday: Happy birthday, {who}!"
    else:
        years = celebration.years
        line = f":tada: {who}: {years} year{'s' if years != 1 else ''} with us!"
    if celebration.on != posted_on:
        when = celebration.on.strftime("%A")
        line += f" (for {when}, {celebration.on.day} {calendar.month_name[celebration.on.month]})"
    return line


def celebration_post(post: CelebrationPost) -> Rendered:
    lines = [_worded(c, post.posted_on) for c in post.celebrations]
    text = "Celebrations today" if len(lines) > 1 else lines[0]
    return text, block_dicts(
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        ContextBlock(elements=[MarkdownTextObject(text="Drop a note in the thread :sparkles:")]),
    )


def celebration_dm(item: CelebrationDM) -> Rendered:
    c = item.celebration
    if c.kind == "birthday":
        text = "Happy birthday! :birthday: Have a lovely day, from all of us."
    else:
        text = f"Happy work anniversary! :tada: {c.years} year{'s' if c.years != 1 else ''} today. Thank you for all of it."
    if c.on > item.posted_on:
        text += f" (We're celebrating early: the day itself is {c.on.strftime('%A')}.)"
    elif c.on < item.posted_on:
        text += f" (A little late: the day itself was {c.on.strftime('%A')}.)"
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def heads_up(item: HeadsUp) -> Rendered:
    c = item.celebration
    what = (
        "birthday :birthday:"
        if c.kind == "birthday"
        else f"{c.years} year{'s' if c.years != 1 else ''} with us :tada:"
    )
    text = f"Heads-up: tomorrow we celebrate <@{c.user_id}>'s {what}"
    if c.on != item.posted_on:
        text += f" (the day itself is {c.on.strftime('%A')})"
    text += f". A note in <#{item.channel_id}> would make their day."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def dates_line(dates: SharedDates) -> str:
    parts = []
    if dates.birthday:
        parts.append(f"birthday {dates.birthday[1]} {calendar.month_name[dates.birthday[0]]}")
    if dates.start_date:
        parts.append(f"start date {dates.start_date.isoformat()}")
    return ", ".join(parts) or "no dates"


def shared(dates: SharedDates, what: str) -> Rendered:
    text = f"{what} I have: {dates_line(dates)}. Change them any time, or `/birthday clear`."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def upcoming(celebrations: list[Celebration]) -> Rendered:
    if not celebrations:
        text = "Nothing to celebrate in the next 30 days (only people who shared their dates show here)."
        return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))
    lines = []
    for c in celebrations[:50]:
        what = "birthday" if c.kind == "birthday" else f"{c.years} year{'s' if c.years != 1 else ''} with us"
        lines.append(
            f"• {c.on.strftime('%a')} {c.on.day} {calendar.month_abbr[c.on.month]}: <@{c.user_id}>, {what}"
        )
    return "Coming up", block_dicts(
        HeaderBlock(text=PlainTextObject(text="Coming up in the next 30 days")),
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
    )


def message(text: str) -> Rendered:
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def date_refused(error: DateRefused) -> Rendered:
    """The explanation quotes what the person typed: escaped as a whole (it holds no markup of ours)."""
    return message(escape(str(error)))


def birthday_help() -> Rendered:
    return "Birthdays and anniversaries", block_dicts(
        SectionBlock(text=MarkdownTextObject(text=BIRTHDAY_USAGE))
    )


def dates_modal(dates: SharedDates) -> dict[str, Any]:
    birthday = f"{dates.birthday[1]} {calendar.month_name[dates.birthday[0]]}" if dates.birthday else None
    return View(
        type="modal",
        callback_id=DATES_MODAL,
        title="Your dates",
        submit="Save",
        close="Not now",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text="Share what you'd like celebrated. We never show an age or a year."
                )
            ),
            InputBlock(
                block_id=BIRTHDAY_BLOCK,
                label="Birthday (day and month)",
                optional=True,
                element=PlainTextInputElement(
                    action_id=BIRTHDAY_ACTION, placeholder="14 March", initial_value=birthday, max_length=40
                ),
            ),
            InputBlock(
                block_id=START_BLOCK,
                label="Start date",
                optional=True,
                element=DatePickerElement(
                    action_id=START_ACTION,
                    initial_date=dates.start_date.isoformat() if dates.start_date else None,
                ),
            ),
        ],
    ).to_dict()


def forget_me_confirm() -> Rendered:
    text = (
        "*Forget me?* I'll delete your birthday, start date and preferences, stop your reminders and "
        "check-ins, and the kudos you gave will read *a former colleague*. Kudos you received stay with you."
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(
            block_id="forget_me",
            elements=[
                ButtonElement(
                    text="Forget me",
                    action_id=FORGET_CONFIRM,
                    value="forget",
                    style="danger",
                    confirm=ConfirmObject(
                        title="Are you sure?", text="This can't be undone.", confirm="Forget me", deny="Keep"
                    ),
                )
            ],
        ),
    ]
    return "Forget me?", block_dicts(*blocks)


def forgotten(result: Forgotten) -> Rendered:
    text = (
        "Done. Your dates and preferences are gone, your reminders are stopped "
        f"({result.messages_cancelled} cancelled), and {result.kudos_anonymised} kudos you gave now read *a former colleague*."
    )
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))
