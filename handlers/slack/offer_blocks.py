"""Block Kit for promise offers: "Track this as a promise to Ben, due Fri 17:00?", shown to its author alone.

The offer's words live in its buttons (Slack keeps them, we don't): Track and Change… carry what was
offered as JSON in their value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.services.offers import OfferChoice, PromiseOffer
from handlers.slack.blocks import Rendered, block_dicts
from handlers.slack.mrkdwn import escape
from handlers.slack.promise_blocks import when

TRACK = "offer_track"
CHANGE = "offer_change"
NOT_NOW = "offer_not_now"
STOP = "offer_stop"
# Slack takes at most 2,000 characters in a button's value: a title is cut to leave room for the rest.
MAX_VALUE_CHARS = 2000


def offer(view: PromiseOffer) -> Rendered:
    due = when(view.due.at, view.author_tz)
    who = _names(view.promisee_ids)
    if who:
        question = f"Track this as a promise to {who}, due {due}?"
    else:
        question = f"Track this as a promise, due {due}? Pick who's waiting with *Track…*"
    value = choice_value(view)
    track = (
        ButtonElement(text="Track", action_id=TRACK, value=value, style="primary")
        if who
        else ButtonElement(text="Track…", action_id=CHANGE, value=value, style="primary")
    )
    buttons = [track]
    if who:
        buttons.append(ButtonElement(text="Change…", action_id=CHANGE, value=value))
    buttons += [
        ButtonElement(text="Not now", action_id=NOT_NOW, value="not_now"),
        ButtonElement(text="Don't ask me", action_id=STOP, value="stop"),
    ]
    return question, block_dicts(
        SectionBlock(text=MarkdownTextObject(text=f":handshake: {question}\n>{escape(view.title)}")),
        ActionsBlock(block_id=f"offer_{view.message_ts}", elements=buttons),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Only you can see this. I'll remind you before it's due and let them know you're on it."
                )
            ]
        ),
    )


def _names(user_ids: tuple[str, ...]) -> str:
    names = [f"<@{user_id}>" for user_id in user_ids]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def choice_value(view: PromiseOffer) -> str:
    """What Track (or the form) needs, in the button itself: JSON under Slack's 2,000 characters."""
    data: dict[str, Any] = {
        "c": view.channel_id,
        "ts": view.message_ts,
        "to": list(view.promisee_ids),
        "due": int(view.due.at.timestamp()),
        "d": view.due.date_only,
        "link": view.link,
        "what": "",
    }
    room = MAX_VALUE_CHARS - len(json.dumps(data, ensure_ascii=False))
    data["what"] = view.title[: max(room, 0)]
    return json.dumps(data, ensure_ascii=False)


def choice_from(value: str | None, *, team_id: str, author_id: str) -> OfferChoice | None:
    """The button's value read back; None when it is not one of ours (a forged or stale press)."""
    try:
        data = json.loads(value or "")
        if not isinstance(data, dict):
            return None
        people = data.get("to") or []
        link = data.get("link")
        choice = OfferChoice(
            team_id=team_id,
            author_id=author_id,
            channel_id=str(data["c"]),
            message_ts=str(data["ts"]),
            promisee_ids=tuple(str(user_id) for user_id in people) if isinstance(people, list) else (),
            title=str(data.get("what") or ""),
            due_at=datetime.fromtimestamp(int(data["due"]), UTC),
            date_only=data.get("d") is True,
            link=str(link) if isinstance(link, str) and link else None,
        )
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None
    return choice


def stopped() -> Rendered:
    text = (
        "Got it, I won't offer to track what you write. "
        "To turn offers back on: ExtraMile's *Home* tab → *Change* → _Promises you write in chat_."
    )
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def not_understood() -> Rendered:
    text = "That offer can't be read any more. `/promise @person what by when` makes the promise instead."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))
