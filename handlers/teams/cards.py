"""Every Adaptive Card ExtraMile sends to Microsoft Teams, built from service results. Pure functions.

People's own words (kudos messages, promise titles, names) go into `TextRun`s, which Teams shows as
they are: no Markdown is read in them, so nothing a person types can format, link or mention. Our own
words go into `TextBlock`s. A button is an `Action.Execute` whose `verb` says what it does and whose
`data` carries what it is about; Teams sends it back as an `adaptiveCard/action` invoke.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.services.kudos import (
    AllowanceExhausted,
    BotRecipient,
    CannotPost,
    EmptyMessage,
    InactiveRecipient,
    KudosRefused,
    KudosReply,
    KudosView,
    Leaderboard,
    MessageTooLong,
    NoRecipients,
    PlatformBusy,
    SelfKudos,
    UnknownGroup,
    UnknownValue,
    ValueTooLong,
)

Card = dict[str, Any]
Element = dict[str, Any]
# A person's display name, by their id (Teams has no `<@id>` that renders itself).
Names = Callable[[str], str]

CARD_TYPE = "application/vnd.microsoft.card.adaptive"

KUDOS_USAGE = (
    "Give kudos: kudos @Ana @Ben thanks for the late-night fix #ownership\n"
    "See who's been thanked: kudos top (or top month, top all)\n"
    "Or use Give kudos from a message's ⋯ menu."
)


@dataclass(frozen=True)
class Rendered:
    """A card, the one line Teams shows in notifications and chat lists, and who it @mentions."""

    summary: str
    card: Card
    mentions: tuple[tuple[str, str], ...] = field(default=())
    # For a button: leave its card as it was and tell the person who pressed it `summary`.
    keep_card: bool = False

    def attachment(self) -> dict[str, Any]:
        return {"contentType": CARD_TYPE, "content": self.card}


# Teams reads Markdown in a TextBlock; a name (which people choose) is escaped before it goes in one.
_MARKDOWN = re.compile(r"([\\*_~`#>\[\]()<!|-])")


def escape(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def card(*body: Element, actions: Sequence[Element] = (), mentions: Iterable[tuple[str, str]] = ()) -> Card:
    content: Card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": list(body),
    }
    if actions:
        content["actions"] = list(actions)
    entities = [
        {"type": "mention", "text": mention_text(name), "mentioned": {"id": user_id, "name": name}}
        for user_id, name in dict(mentions).items()
    ]
    if entities:
        content["msteams"] = {"entities": entities, "width": "Full"}
    return content


def mention_text(name: str) -> str:
    return f"<at>{escape(name)}</at>"


def text(words: str, *, subtle: bool = False, bold: bool = False, size: str | None = None) -> Element:
    """Our own words (Markdown allowed)."""
    block: Element = {"type": "TextBlock", "text": words, "wrap": True}
    if subtle:
        block["isSubtle"] = True
    if bold:
        block["weight"] = "Bolder"
    if size:
        block["size"] = size
    return block


def run(words: str, *, bold: bool = False, italic: bool = False) -> Element:
    """Words shown exactly as they are."""
    inline: Element = {"type": "TextRun", "text": words}
    if bold:
        inline["weight"] = "Bolder"
    if italic:
        inline["italic"] = True
    return inline


def rich(*inlines: Element) -> Element:
    return {"type": "RichTextBlock", "inlines": list(inlines)}


def quote(words: str) -> Element:
    """Somebody's own words, set apart and shown exactly as typed."""
    return {
        "type": "Container",
        "style": "emphasis",
        "items": [rich(run(words, italic=True))],
    }


def execute(title: str, verb: str, **data: Any) -> Element:
    return {"type": "Action.Execute", "title": title, "verb": verb, "data": data}


def open_url(title: str, url: str) -> Element:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def people(user_ids: Sequence[str], names: Names) -> str:
    """Ana, Ben and Carol: @mentions (the card lists them in its entities)."""
    mentions = [mention_text(names(user_id)) for user_id in user_ids]
    if len(mentions) <= 1:
        return "".join(mentions)
    return ", ".join(mentions[:-1]) + " and " + mentions[-1]


def plain_people(user_ids: Sequence[str], names: Names) -> str:
    """Ana, Ben and Carol, as plain (escaped) names: for a card that should not notify them."""
    shown = [f"**{escape(names(user_id))}**" for user_id in user_ids]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def values_line(values: Sequence[str]) -> str:
    return " ".join(f"#{value}" for value in values)


def words(content: Card) -> list[str]:
    """Every piece of text a card shows, in order: text, facts and button titles (for logs, the
    command line and tests)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("TextBlock", "TextRun") and isinstance(node.get("text"), str):
                found.append(node["text"])
            if node.get("type") == "FactSet":
                found.extend(
                    f"{fact.get('title', '')} {fact.get('value', '')}" for fact in node.get("facts", [])
                )
            if str(node.get("type", "")).startswith("Action.") and node.get("title"):
                found.append(f"[{node['title']}]")
            for key, value in node.items():
                if key != "msteams":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(content.get("body", []))
    walk(content.get("actions", []))
    return found


def simple(words: str) -> Rendered:
    """One of our sentences as a card of its own."""
    return Rendered(summary=words, card=card(text(words)))


def note(words: str) -> Rendered:
    """A button's answer to the person who pressed it alone; the card stays as it was."""
    return Rendered(summary=words, card={}, keep_card=True)


# Kudos


def kudos_announcement(kudos: KudosView, names: Names) -> Rendered:
    giver = [kudos.giver_id] if kudos.giver_id else []
    who = people(giver, names) if giver else "A former colleague"
    headline = f"👏 {who} gave kudos to {people(kudos.recipient_ids, names)}"
    body: list[Element] = [text(headline)]
    if kudos.message:
        body.append(quote(kudos.message))
    elif kudos.reason_link:
        body.append(text(f"For [this message]({kudos.reason_link})"))
    if kudos.values:
        body.append(rich(run(values_line(kudos.values))))
    if kudos.message and kudos.reason_link:
        body.append(text(f"About [this message]({kudos.reason_link})", subtle=True))
    mentioned = [(user_id, names(user_id)) for user_id in (*giver, *kudos.recipient_ids)]
    summary = (
        f"{names(kudos.giver_id) if kudos.giver_id else 'A former colleague'} gave kudos to "
        + ", ".join(names(user_id) for user_id in kudos.recipient_ids)
    )
    return Rendered(summary=summary, card=card(*body, mentions=mentioned), mentions=tuple(mentioned))


def kudos_recipient_dm(kudos: KudosView, names: Names) -> Rendered:
    giver = f"**{escape(names(kudos.giver_id))}**" if kudos.giver_id else "A former colleague"
    others = len(kudos.recipient_ids) - 1
    headline = f"{giver} gave you kudos"
    if others:
        headline = f"{giver} gave you and {others} other{'s' if others > 1 else ''} kudos"
    body: list[Element] = [text(f"✨ {headline}")]
    if kudos.message:
        body.append(quote(kudos.message))
    elif kudos.reason_link:
        body.append(text(f"For [your message]({kudos.reason_link})"))
    if kudos.values:
        body.append(rich(run(values_line(kudos.values))))
    actions = [open_url("See it in the channel", kudos.permalink)] if kudos.permalink else []
    summary = f"{names(kudos.giver_id) if kudos.giver_id else 'A former colleague'} gave you kudos"
    return Rendered(summary=summary, card=card(*body, actions=actions))


def kudos_reply(reply: KudosReply, names: Names) -> Rendered:
    """The word to the giver after the kudos is recorded: where it went, or why not."""
    if reply.refusal is not None:
        return refusal(reply.refusal, names)
    assert reply.kudos is not None
    kudos = reply.kudos
    where = "in the channel"
    if kudos.permalink:
        where = f"[in the channel]({kudos.permalink})"
    return simple(f"Sent! Your kudos to {plain_people(kudos.recipient_ids, names)} is {where}.")


def refusal(error: KudosRefused, names: Names) -> Rendered:
    words = refusal_text(error, names)
    body = [text(words)]
    if isinstance(error, NoRecipients | EmptyMessage):
        body.append(text(KUDOS_USAGE.splitlines()[0], subtle=True))
    return Rendered(summary=words, card=card(*body))


def refusal_text(error: KudosRefused, names: Names) -> str:
    """The same refusals as in Slack, in Teams' words."""
    match error:
        case NoRecipients():
            return "Who is it for? Mention them first: `kudos @Ana thanks for the late-night fix`."
        case SelfKudos():
            return (
                "Kudos are for thanking others, so you can't give them to yourself. Who helped you out today?"
            )
        case BotRecipient(user_ids=user_ids):
            return f"{plain_people(user_ids, names)} {'is a bot' if len(user_ids) == 1 else 'are bots'}, and bots don't need kudos. Thank the people behind them instead?"
        case InactiveRecipient(user_ids=user_ids):
            return f"{plain_people(user_ids, names)} {'is' if len(user_ids) == 1 else 'are'} no longer in this organization, so kudos can't reach them. Thank someone who's still here?"
        case UnknownGroup():
            return (
                "I couldn't read the members of the group you mentioned. Mention the people directly instead."
            )
        case EmptyMessage():
            return "Add a few words about what they did: `kudos @Ana thanks for the late-night fix`."
        case MessageTooLong(length=length, limit=limit):
            return f"That message is {length:,} characters; kudos can be up to {limit:,}. Could you trim it a little?"
        case UnknownValue(value=value, suggestion=suggestion, known=known):
            hint = f" Did you mean `#{escape(suggestion)}`?" if suggestion else ""
            listed = " ".join(f"`#{escape(v)}`" for v in known)
            return f"`#{escape(value)}` isn't one of your team's values.{hint} The values are: {listed}"
        case ValueTooLong(limit=limit):
            return f"That #value is longer than {limit} characters. Try a shorter one, like `#ownership`."
        case AllowanceExhausted(allowance=allowance, wanted=wanted, left=left):
            if left == 0:
                return f"You've given all {allowance} of today's kudos. Generous! You'll have {allowance} more tomorrow."
            return f"You have {left} kudos left today, and this would give {wanted}. Pick your {left} for today, or save the rest for tomorrow."
        case CannotPost(channel_id=""):
            return "I don't know where to post these kudos, so they weren't sent. @mention me with `kudos` in the channel where everyone should see them."
        case CannotPost():
            return "I can't post in that channel yet, so your kudos weren't sent. Add ExtraMile to the team (Manage team → Apps), then try again."
        case PlatformBusy(retry_after=retry_after):
            wait = f"in {max(int(retry_after or 0), 1)} seconds" if retry_after else "in a minute"
            return f"Teams is busy right now, so your kudos weren't sent. Please try again {wait}."
    return "That didn't work, and nothing was sent. Try again, or type `help` for examples."


_PERIOD_TITLES = {"week": "this week", "month": "this month", "all": "of all time"}


def leaderboard(board: Leaderboard, names: Names) -> Rendered:
    title = f"Kudos {_PERIOD_TITLES[board.period]}"

    def ranking(rows: list[tuple[str, int]]) -> Element:
        if not rows:
            return text("Nobody yet.", subtle=True)
        return {
            "type": "FactSet",
            "facts": [
                {"title": f"{rank}. {escape(names(user_id))}", "value": str(count)}
                for rank, (user_id, count) in enumerate(rows, 1)
            ],
        }

    return Rendered(
        summary=title,
        card=card(
            text(title, bold=True, size="Medium"),
            text("**Thanked the most**"),
            ranking(board.received),
            text("**Thanked others the most**"),
            ranking(board.given),
            text("Be the reason someone smiles: `kudos @name thanks for ...`", subtle=True),
        ),
    )


def kudos_need_a_channel() -> Rendered:
    return simple(
        "Kudos are for everyone to see, so they need a channel. @mention me with `kudos @name ...` in a "
        "team channel, or ask your admin to pick a kudos channel."
    )


def try_again_later() -> Rendered:
    return simple(
        "I couldn't save that just now (my database didn't answer), so nothing changed. Please try again in a moment."
    )


def unexpected_error(incident_id: str) -> Rendered:
    return simple(
        "Sorry, something went wrong on my side and nothing was sent. If it keeps happening, tell your "
        f"admin: incident `{incident_id}`."
    )
