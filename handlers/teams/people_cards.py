"""Adaptive Cards for welcomes, celebrations, shared dates and ExtraMile's hello: Slack's people_blocks
in Teams' words (no slash, `birthday 14 March`; emoji as characters, not `:names:`).

Celebrations and the welcome post @mention the person they are about; lists and heads-ups show plain
names, so nobody is pinged by a message that is not for them.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

import emoji

from bot.services.celebrations import (
    Celebration,
    CelebrationDM,
    CelebrationPost,
    DateRefused,
    HeadsUp,
    SharedDates,
)
from bot.services.platforms import tenant_of
from bot.services.welcomes import Introduction, WelcomeNotice
from handlers.teams.cards import (
    Element,
    Names,
    Rendered,
    card,
    escape,
    execute,
    mention_text,
    rich,
    run,
    simple,
    text,
)

WAVE = "welcome_wave"
SAVE_DATES = "dates_save"
BIRTHDAY_INPUT, START_INPUT = "birthday", "start"
# A name for a newcomer Teams did not tell us the name of.
NO_NAME = "friend"

BIRTHDAY_USAGE = (
    "**Share your birthday:** `birthday 14 March` (no year: we never show an age)",
    "**Share your start date:** `anniversary 2021-04-12`",
    "**See what's coming up:** `birthday list` · **Take it back:** `birthday clear`, `anniversary clear`",
)


def _words(template: str) -> str:
    """Welcome texts are shared with Slack, where emoji are written `:wave:`."""
    return emoji.emojize(template, language="alias")


class _Placeholders(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, name: str, *, in_channel: bool, plain: bool = False) -> str:
    """The template with its placeholders; `plain`: for the notification line (no Markdown)."""
    return _words(template).format_map(
        _Placeholders(
            name=name if plain else escape(name),
            mention=name if plain else mention_text(name),
            channel="the channel" if in_channel else "",
        )
    )


def welcome(item: WelcomeNotice, names: Names) -> Rendered:
    name = item.newcomer_name.strip() or NO_NAME
    newcomer = ((item.newcomer_id, name),)
    if item.stage == "channel":
        words = f"Please welcome {mention_text(name)}, who just joined! Say hi, or send a wave."
        return Rendered(
            summary=f"Please welcome {name}, who just joined! Say hi, or send a wave.",
            card=card(
                text(f"👋 {words}"),
                actions=[execute("Wave 👋", WAVE, newcomer_id=item.newcomer_id)],
                mentions=newcomer,
            ),
            mentions=newcomer,
        )
    if item.stage == "wave":
        waver_id = item.waver_id or ""
        waver = ((waver_id, names(waver_id)),)
        return Rendered(
            summary=f"{names(waver_id)} waved at you 👋",
            card=card(text(f"{mention_text(names(waver_id))} waved at you 👋"), mentions=waver),
            mentions=waver,
        )
    in_channel = item.channel_id is not None
    mentioned = newcomer if "{mention}" in item.template else ()
    summary = _fill(item.template, name, in_channel=in_channel, plain=True).strip()
    actions = [dates_form()] if item.stage == "dm" else []
    return Rendered(
        summary=summary.splitlines()[0] if summary else "Welcome!",
        card=card(
            text(_fill(item.template, name, in_channel=in_channel)), actions=actions, mentions=mentioned
        ),
        mentions=mentioned,
    )


def dates_form() -> Element:
    """The welcome's button: a small form that opens in the card itself (Slack opens a modal)."""
    form: dict[str, Any] = {
        "type": "AdaptiveCard",
        "body": [
            text("Share what you'd like celebrated. We never show an age or a year."),
            {
                "type": "Input.Text",
                "id": BIRTHDAY_INPUT,
                "label": "Birthday (day and month)",
                "placeholder": "14 March",
                "maxLength": 40,
            },
            {"type": "Input.Date", "id": START_INPUT, "label": "Start date"},
        ],
        "actions": [execute("Save", SAVE_DATES)],
    }
    return {"type": "Action.ShowCard", "title": "Share my birthday and start date", "card": form}


def introduction(item: Introduction, names: Names) -> Rendered:
    """ExtraMile's one hello where it was added, with the line an admin types to point it here."""
    command = f"extramile workspace teams:{tenant_of(item.team_id)} --kudos-channel {item.channel_id}"
    return Rendered(
        summary="Hi, I'm ExtraMile 👋",
        card=card(
            text(
                "👋 Hi everyone, I'm ExtraMile. I help you go the extra mile for each other: kudos, "
                "promises kept, birthdays and a weekly recap."
            ),
            text("Try `@ExtraMile kudos @Ana thanks for the demo`, or `@ExtraMile help` for the rest."),
            text(
                f"**Admins:** to post kudos here, run `{command}` (or `--welcome-channel`, "
                "`--celebrations-channel`, `--recap` with the same id).",
                subtle=True,
            ),
        ),
    )


def _celebrated(celebration: Celebration, posted_on: date, who: str) -> str:
    if celebration.kind == "birthday":
        line = f"🎂 Happy birthday, {who}!"
    else:
        years = celebration.years
        line = f"🎉 {who}: {years} year{'s' if years != 1 else ''} with us!"
    if celebration.on != posted_on:
        when = celebration.on.strftime("%A")
        line += f" (for {when}, {celebration.on.day} {calendar.month_name[celebration.on.month]})"
    return line


def celebration_post(post: CelebrationPost, names: Names) -> Rendered:
    celebrated = list(dict.fromkeys(c.user_id for c in post.celebrations))
    mentioned = tuple((user_id, names(user_id)) for user_id in celebrated)
    lines = [_celebrated(c, post.posted_on, mention_text(names(c.user_id))) for c in post.celebrations]
    summary = (
        "Celebrations today"
        if len(lines) > 1
        else _celebrated(post.celebrations[0], post.posted_on, names(post.celebrations[0].user_id))
    )
    return Rendered(
        summary=summary,
        card=card(
            *(text(line) for line in lines),
            text("Drop a note in the thread ✨", subtle=True),
            mentions=mentioned,
        ),
        mentions=mentioned,
    )


def celebration_dm(item: CelebrationDM, names: Names) -> Rendered:
    c = item.celebration
    if c.kind == "birthday":
        words = "Happy birthday! 🎂 Have a lovely day, from all of us."
    else:
        words = f"Happy work anniversary! 🎉 {c.years} year{'s' if c.years != 1 else ''} today. Thank you for all of it."
    if c.on > item.posted_on:
        words += f" (We're celebrating early: the day itself is {c.on.strftime('%A')}.)"
    elif c.on < item.posted_on:
        words += f" (A little late: the day itself was {c.on.strftime('%A')}.)"
    return simple(words)


def heads_up(item: HeadsUp, names: Names) -> Rendered:
    c = item.celebration
    what = (
        "birthday 🎂" if c.kind == "birthday" else f"{c.years} year{'s' if c.years != 1 else ''} with us 🎉"
    )
    words = f"Heads-up: tomorrow we celebrate **{escape(names(c.user_id))}**'s {what}"
    if c.on != item.posted_on:
        words += f" (the day itself is {c.on.strftime('%A')})"
    words += ". A note in the celebrations channel would make their day."
    summary = f"Heads-up: tomorrow we celebrate {names(c.user_id)}'s {what}"
    return Rendered(summary=summary, card=card(text(words)))


def dates_line(dates: SharedDates) -> str:
    parts = []
    if dates.birthday:
        parts.append(f"birthday {dates.birthday[1]} {calendar.month_name[dates.birthday[0]]}")
    if dates.start_date:
        parts.append(f"start date {dates.start_date.isoformat()}")
    return ", ".join(parts) or "no dates"


def shared_words(dates: SharedDates, what: str) -> str:
    return f"{what} I have: {dates_line(dates)}. Change them any time, or `birthday clear`."


def shared(dates: SharedDates, what: str) -> Rendered:
    return simple(shared_words(dates, what))


def upcoming(celebrations: list[Celebration], names: Names) -> Rendered:
    if not celebrations:
        return simple(
            "Nothing to celebrate in the next 30 days (only people who shared their dates show here)."
        )
    facts = []
    for c in celebrations[:50]:
        what = "birthday" if c.kind == "birthday" else f"{c.years} year{'s' if c.years != 1 else ''} with us"
        facts.append(
            {
                "title": f"{c.on.strftime('%a')} {c.on.day} {calendar.month_abbr[c.on.month]}",
                "value": f"{escape(names(c.user_id))}, {what}",
            }
        )
    return Rendered(
        summary="Coming up",
        card=card(
            text("Coming up in the next 30 days", bold=True, size="Medium"),
            {"type": "FactSet", "facts": facts},
        ),
    )


def date_refused(error: DateRefused) -> Rendered:
    """The explanation may quote what the person typed: shown exactly as it is, no Markdown read."""
    return Rendered(summary=str(error), card=card(rich(run(str(error)))))


def birthday_help() -> Rendered:
    return Rendered(
        summary="Birthdays and anniversaries", card=card(*(text(line) for line in BIRTHDAY_USAGE))
    )
