"""What a Teams message says: its command word, who it mentions and the words around them.

Teams has no slash commands: `kudos @Ana thanks for the demo #teamwork` arrives as text where each
mention is `<at>Ana</at>`, and the activity's `entities` say who each one is. People are read from the
entities, never from the text; the bot's own mention (in a channel) is dropped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

_HASHTAG = re.compile(r"(?<![\w&#])#([\w-]+)")
_TRAILING_HASHTAGS = re.compile(r"(\s*(?<![\w&#])#[\w-]+)+\s*$")
_TAGS = re.compile(r"<[^>]{0,200}>")


@dataclass(frozen=True)
class Mention:
    user_id: str
    name: str


@dataclass(frozen=True)
class Piece:
    """A stretch of plain text, or one mention."""

    text: str = ""
    mention: Mention | None = None


@dataclass(frozen=True)
class Said:
    command: str  # the first word, lower case ("" for none)
    pieces: tuple[Piece, ...]  # everything after it

    @property
    def mentions(self) -> tuple[Mention, ...]:
        return tuple(piece.mention for piece in self.pieces if piece.mention is not None)

    def addressed(self) -> tuple[tuple[str, ...], str]:
        """(the people mentioned first, the words after them): `@Ana @Ben thanks for ...`."""
        user_ids: list[str] = []
        rest = list(self.pieces)
        while rest:
            piece = rest[0]
            if piece.mention is not None:
                user_ids.append(piece.mention.user_id)
            elif piece.text.strip(" ,\u00a0\n") != "":
                break
            rest.pop(0)
        return tuple(dict.fromkeys(user_ids)), _plain(rest)

    @property
    def words(self) -> str:
        return _plain(list(self.pieces))


def _plain(pieces: list[Piece]) -> str:
    """The pieces as one plain text, a mention as its name."""
    return "".join(piece.mention.name if piece.mention else piece.text for piece in pieces).strip()


def values(text: str) -> tuple[tuple[str, ...], str]:
    """(#values, the message without the trailing ones): `thanks #teamwork #ownership`."""
    found = tuple(dict.fromkeys(_HASHTAG.findall(text)))
    return found, _TRAILING_HASHTAGS.sub("", text).strip()


def said(text: str | None, mentions: list[dict[str, Any]], *, bot_id: str) -> Said:
    """`text` as Teams sent it, with `mentions` the activity's mention entities (as dicts)."""
    remaining = text or ""
    pieces: list[Piece] = []
    known = [m for m in mentions if isinstance(m.get("text"), str) and isinstance(m.get("mentioned"), dict)]
    while remaining:
        # The earliest mention's text in what is left.
        first = min(
            ((remaining.find(m["text"]), m) for m in known if m["text"] and m["text"] in remaining),
            key=lambda found: found[0],
            default=None,
        )
        if first is None:
            pieces.append(Piece(text=_text(remaining)))
            break
        at, mention = first
        if at:
            pieces.append(Piece(text=_text(remaining[:at])))
        person = mention["mentioned"]
        user_id = str(person.get("id") or "")
        if user_id and user_id != bot_id:
            name = str(person.get("name") or _text(mention["text"]) or "someone")
            pieces.append(Piece(mention=Mention(user_id=user_id, name=name)))
        remaining = remaining[at + len(mention["text"]) :]
    # The command is the first word of the first text.
    while pieces and pieces[0].mention is None and not pieces[0].text.strip():
        pieces.pop(0)
    if not pieces or pieces[0].mention is not None:
        return Said(command="", pieces=tuple(pieces))
    head = pieces[0].text.lstrip().split(maxsplit=1)
    command = head[0].lower().strip(":,.!?") if head else ""
    rest = head[1] if len(head) > 1 else ""
    return Said(command=command, pieces=(Piece(text=" " + rest if rest else " "), *pieces[1:]))


def _text(fragment: str) -> str:
    """Teams may send a little HTML (non-breaking spaces, tags from rich text): plain text back."""
    return html.unescape(_TAGS.sub("", fragment)).replace("\u00a0", " ")
