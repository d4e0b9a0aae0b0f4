"""The daily digest in Microsoft Teams: the day's messages as one card, each as it would have come, one
after another, as many as fit in one Teams message.

A button in a digest answers with words and leaves the card as it is (the other items are still to do),
as Slack answers such a button privately. Each item's inputs get their own ids (`~<item number>` added to
the id and to its buttons' `slot`), so two forms about the same promise cannot mix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.services.delivery import Digest
from bot.services.ports import DeliveryError
from handlers.teams.cards import Element, Names, Rendered, card, text
from handlers.teams.promise_cards import fits

log = logging.getLogger(__name__)

# Set in a digest's buttons: their answer is words, not a card in the digest's place.
IN_DIGEST = "digest"


def digest(view: Digest, names: Names, render: Callable[[object, Names], Rendered]) -> Rendered:
    count = len(view.items)
    header = f"Good morning! {count} thing{'s' if count != 1 else ''} from ExtraMile for today:"
    body: list[Element] = [text(header)]
    mentions: dict[str, str] = {}
    shown = 0
    for number, item in enumerate(view.items):
        try:
            rendered = render(item, names)
        except DeliveryError as error:
            log.warning("a digest item cannot be shown in Teams: %s", error.reason)
            continue
        part = _numbered(_as_part(rendered), number)
        if not fits([*body, part]):
            break
        body.append(part)
        mentions.update(rendered.mentions)
        shown += 1
    if shown < count:
        more = f"…and {count - shown} more. `promise list` shows your open loops."
        body.append(text(more, subtle=True))
    return Rendered(
        summary=header, card=card(*body, mentions=mentions.items()), mentions=tuple(mentions.items())
    )


def _as_part(rendered: Rendered) -> Element:
    """One item's card as a part of the digest: its body, then its buttons."""
    items = list(rendered.card.get("body", []))
    if rendered.card.get("actions"):
        items.append({"type": "ActionSet", "actions": rendered.card["actions"]})
    return {"type": "Container", "separator": True, "spacing": "Large", "items": items}


def _numbered(node: Any, number: int) -> Any:
    """A copy of `node` whose inputs and buttons are item `number`'s own."""
    if isinstance(node, list):
        return [_numbered(child, number) for child in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _numbered(value, number) for key, value in node.items()}
    kind = str(node.get("type", ""))
    if kind.startswith("Input.") and "id" in node:
        copy["id"] = f"{node['id']}~{number}"
    if kind == "Action.Execute":
        data = dict(node.get("data") or {})
        data["slot"] = f"{data.get('slot', '')}~{number}"
        data[IN_DIGEST] = True
        copy["data"] = data
    return copy


def in_place(data: dict[str, Any], rendered: Rendered) -> Rendered:
    """The card in the pressed card's place; in a digest, the words only (its other items stay)."""
    if data.get(IN_DIGEST):
        return replace(rendered, keep_card=True)
    return rendered
