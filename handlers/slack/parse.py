"""Turning Slack's text and payload shapes into plain values."""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.slack import mrkdwn
from handlers.slack.mrkdwn import USER_ID

# With `should_escape: true`, Slack sends <@U123|ana>, <!subteam^S123|@design>, <#C123|general>.
# An id longer than any Slack id is not a mention: it stays text (and cannot overflow a column).
_USER = re.compile(rf"<@({USER_ID})(?:\|[^>]*)?>")
_GROUP = re.compile(r"<!subteam\^([A-Z0-9]{2,30})(?:\|[^>]*)?>")
_LEADING_MENTION = re.compile(
    rf"^\s*(<@{USER_ID}(?:\|[^>]*)?>|<!subteam\^[A-Z0-9]{{2,30}}(?:\|[^>]*)?>)[\s,]*"
)
# A hashtag is a # after a space or the start, followed by a word.
_HASHTAG = re.compile(r"(?<![\w&#])#([\w-]+)")
_TRAILING_HASHTAGS = re.compile(r"(\s*(?<![\w<&|#])#[\w-]+)+\s*$")


@dataclass(frozen=True)
class KudosText:
    user_ids: tuple[str, ...]
    group_ids: tuple[str, ...]
    message: str
    values: tuple[str, ...]


def kudos_text(text: str) -> KudosText:
    """`<@U1|ana> <@U2> thanks for the fix #ownership`: leading mentions are the recipients; mentions
    later in the sentence stay part of the message; every #hashtag is a value, and trailing ones
    are taken out of the message. The message comes back as plain text (see `mrkdwn.plain`)."""
    rest = text.strip()
    user_ids: list[str] = []
    group_ids: list[str] = []
    while match := _LEADING_MENTION.match(rest):
        mention = match.group(1)
        if user := _USER.fullmatch(mention):
            user_ids.append(user.group(1))
        elif group := _GROUP.fullmatch(mention):
            group_ids.append(group.group(1))
        rest = rest[match.end() :]
    values = tuple(dict.fromkeys(_HASHTAG.findall(mrkdwn.without_markup(rest))))
    message = mrkdwn.plain(_TRAILING_HASHTAGS.sub("", rest)).strip()
    return KudosText(
        user_ids=tuple(dict.fromkeys(user_ids)),
        group_ids=tuple(dict.fromkeys(group_ids)),
        message=message,
        values=values,
    )


def first_word(text: str) -> str:
    words = text.strip().split(maxsplit=1)
    return words[0].lower() if words else ""


_LEADING_USER = re.compile(rf"^\s*<@({USER_ID})(?:\|[^>]*)?>[\s,]*")
_LEADING_CONTACT = re.compile(r'^\s*["“”]([^"“”]{1,200})["“”]\s*')


@dataclass(frozen=True)
class Addressed:
    """`<@U1> <@U2> the rest` or `"Jane at ACME" the rest`: who it is about, and what follows (plain
    text, see `mrkdwn.plain`)."""

    user_ids: tuple[str, ...]
    contact_name: str | None
    rest: str


def addressed(text: str, *, many: bool = True) -> Addressed:
    rest = text
    user_ids: list[str] = []
    while (match := _LEADING_USER.match(rest)) and (many or not user_ids):
        user_ids.append(match.group(1))
        rest = rest[match.end() :]
    contact: str | None = None
    if not user_ids and (quoted := _LEADING_CONTACT.match(rest)):
        contact, rest = mrkdwn.plain(quoted.group(1)).strip(), rest[quoted.end() :]
    return Addressed(
        user_ids=tuple(dict.fromkeys(user_ids)), contact_name=contact, rest=mrkdwn.plain(rest).strip()
    )


def mentioned_user_ids(text: str) -> tuple[str, ...]:
    """The people a message @mentions, in order, each once."""
    return tuple(dict.fromkeys(_USER.findall(text)))
