"""The forms behind the message actions ("Give kudos", "Promise a follow-up" in a message's ⋯ menu) and
the task-module answers that carry them. Pure functions.

Teams shows a form in a dialog (a task module) and sends its inputs back as `composeExtension/submitAction`.
The form's own id rides in its submit button's data, so the same form sent twice is one request.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.due_dates import PastDueDate
from bot.services.kudos import EmptyMessage, KudosRefused, NoRecipients
from bot.services.promises import (
    BadDueDate,
    NoPromisee,
    NothingPromised,
    PromiseRefused,
)
from handlers.teams import cards, promise_cards
from handlers.teams.cards import CARD_TYPE, Card, Element, Names

KUDOS_TITLE, PROMISE_TITLE = "Give kudos", "Promise a follow-up"

# Input ids: Teams sends each input's value back under its id, with the submit button's data.
FORM, PEOPLE, MESSAGE, VALUES, WHAT, DAY, TIME = "form", "people", "message", "values", "what", "day", "time"

# Teams' people picker, limited to the people of the team or chat the message is in.
PEOPLE_PICKER = {"type": "Data.Query", "dataset": "graph.microsoft.com/users?scope=currentContext"}
MAX_PEOPLE = 20
MAX_MESSAGE_CHARS, MAX_WHAT_CHARS = 2000, 500
# How much of the message the form shows, to say which one it is about.
EXCERPT_CHARS = 200


@dataclass(frozen=True)
class Person:
    """Someone the picker can show: their Microsoft Entra object id (what the picker returns) and name."""

    aad_id: str
    name: str


@dataclass(frozen=True)
class About:
    """The message the action was taken on."""

    link: str | None
    excerpt: str


@dataclass(frozen=True)
class KudosForm:
    form_id: str
    about: About
    people: tuple[Person, ...]
    message: str = ""
    values: tuple[str, ...] = ()
    picked_values: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class PromiseForm:
    form_id: str
    about: About
    people: tuple[Person, ...]
    # The person's own wall-clock time (no zone): what the date and time inputs show.
    due: datetime
    what: str = ""
    error: str | None = None


# Task-module answers


def dialog(title: str, card: Card) -> dict[str, Any]:
    """Opens (or keeps open, showing `card`) the dialog."""
    return {
        "task": {
            "type": "continue",
            "value": {"title": title, "width": "medium", "card": {"contentType": CARD_TYPE, "content": card}},
        }
    }


def notice(words: str) -> dict[str, Any]:
    """A dialog with one of our sentences in it (Teams shows it as plain text)."""
    return {"task": {"type": "message", "value": words}}


# An empty answer closes the dialog: what was asked for is recorded, the outbox says the rest.
CLOSE: dict[str, Any] = {}


# The forms


def kudos_form(form: KudosForm) -> Card:
    body = [*_error(form.error), *_about(form.about)]
    body.append(_picker("Who are you thanking?", form.people))
    message: Element = {
        "type": "Input.Text",
        "id": MESSAGE,
        "label": "What did they do?",
        "isMultiline": True,
        "maxLength": MAX_MESSAGE_CHARS,
        "placeholder": "Thanks for staying late on the fix",
        "value": form.message,
    }
    if form.about.link is None:
        # Without the message to point at, the words are the reason.
        message |= {"isRequired": True, "errorMessage": "Add a few words about what they did."}
    body.append(message)
    if form.values:
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": VALUES,
                "label": "Which of our values did they show?",
                "isMultiSelect": True,
                "style": "compact",
                "choices": [{"title": f"#{value}", "value": value} for value in form.values[:100]],
                "value": ",".join(form.picked_values),
            }
        )
    return cards.card(*body, actions=[_submit("Send kudos", form.form_id)])


def promise_form(form: PromiseForm) -> Card:
    body = [*_error(form.error), *_about(form.about)]
    body.append(_picker("Who are you getting back to?", form.people))
    body.append(
        {
            "type": "Input.Text",
            "id": WHAT,
            "label": "About what?",
            "maxLength": MAX_WHAT_CHARS,
            "placeholder": "the pricing deck",
            "value": form.what,
            "isRequired": True,
            "errorMessage": "What will you get back to them about?",
        }
    )
    body.append(
        {
            "type": "Input.Date",
            "id": DAY,
            "label": "By when?",
            "value": form.due.date().isoformat(),
            "isRequired": True,
            "errorMessage": "Pick a date.",
        }
    )
    body.append(
        {
            "type": "Input.Time",
            "id": TIME,
            "label": "At what time? (your time)",
            "value": form.due.strftime("%H:%M"),
            "isRequired": True,
            "errorMessage": "Pick a time.",
        }
    )
    return cards.card(*body, actions=[_submit("Promise", form.form_id)])


def _picker(label: str, people: Sequence[Person]) -> Element:
    return {
        "type": "Input.ChoiceSet",
        "id": PEOPLE,
        "label": label,
        "isMultiSelect": True,
        "isRequired": True,
        "errorMessage": "Pick at least one person.",
        "choices": [{"title": person.name, "value": person.aad_id} for person in people],
        "choices.data": PEOPLE_PICKER,
        "value": ",".join(person.aad_id for person in people),
    }


def _submit(title: str, form_id: str) -> Element:
    return {"type": "Action.Submit", "title": title, "data": {FORM: form_id}}


def _error(error: str | None) -> list[Element]:
    if not error:
        return []
    block = cards.text(error)
    block["color"] = "Attention"
    return [block]


def _about(about: About) -> list[Element]:
    found: list[Element] = []
    if about.link:
        found.append(cards.text(f"About [this message]({about.link})", subtle=True))
    if about.excerpt:
        found.append(cards.quote(about.excerpt))
    return found


# What the message says, and where it is


_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
# A link we show in Markdown: https, and nothing that could end the link or start another.
_SAFE_LINK = re.compile(r"https://[^\s()<>\[\]\"'`\\]{1,2000}")


def excerpt(content: str) -> str:
    """The message's words without its HTML, on one line, cut to EXCERPT_CHARS."""
    words = _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", content[:20_000]))).strip()
    if len(words) > EXCERPT_CHARS:
        words = words[: EXCERPT_CHARS - 1].rstrip() + "…"
    return words


def safe_link(link: object) -> str | None:
    return link if isinstance(link, str) and _SAFE_LINK.fullmatch(link) else None


# Dates: Teams' date and time inputs give the person's own wall-clock time.


def due_in(day: object, at: object, tz: str) -> datetime | None:
    """The instant `day` (YYYY-MM-DD) at `at` (HH:MM) is in `tz`; None when they are not a date and a time."""
    if not isinstance(day, str) or not isinstance(at, str):
        return None
    try:
        picked = datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(at.strip()[:5]))
    except ValueError:
        return None
    return picked.replace(tzinfo=ZoneInfo(tz))


def local(at: datetime, tz: str) -> datetime:
    return at.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


# Refusals, in the form's words (the form has its own fields: no command syntax to teach)


def kudos_refusal(error: KudosRefused, names: Names) -> str:
    match error:
        case NoRecipients():
            return "Who are you thanking? Pick at least one person."
        case EmptyMessage():
            return "Add a few words about what they did."
    return cards.refusal_text(error, names)


def promise_refusal(error: PromiseRefused, names: Names, tz: str) -> str:
    """A promise form's refusals: about its fields where the form differs from the command, else the
    command's own words."""
    match error:
        case NoPromisee():
            return "Who are you getting back to? Pick at least one person."
        case NothingPromised():
            return "What will you get back to them about?"
        case BadDueDate(error=PastDueDate(at=at)):
            return f"That time ({local(at, tz):%a %d %b %H:%M}, your time) has already passed. When will you get back to them?"
    return promise_cards.refusal_text(error, names)


def not_found(names: Sequence[str]) -> str:
    """Somebody picked whom ExtraMile cannot see from here (it is not in this chat or team)."""
    who = cards.plain_people(list(names), lambda name: name) if names else "Someone you picked"
    return (
        f"I can't find {who} from here, so nothing was sent. Try again from a message in a team channel "
        "where ExtraMile is added."
    )


def need_a_channel() -> str:
    return (
        "Kudos are for everyone to see, so they need a channel. Use Give kudos on a message in a team "
        "channel where ExtraMile is added, or ask your admin to pick a kudos channel."
    )


def unexpected(incident_id: str) -> str:
    return (
        "Sorry, something went wrong on my side and nothing was saved. If it keeps happening, tell your "
        f"admin: incident {incident_id}."
    )


def try_again_later() -> str:
    return "I couldn't save that just now (my database didn't answer), so nothing changed. Please try again in a moment."
