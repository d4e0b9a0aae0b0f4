"""Every Block Kit payload ExtraMile sends, built from service results. Pure functions, no I/O.

Each builder returns `(fallback_text, blocks)`; slack_sdk's models check Slack's size limits.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

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
from handlers.slack.mrkdwn import escape, link, linkable

Rendered = tuple[str, list[dict[str, Any]]]

# Ids Slack echoes back to us; listeners match on them.
KUDOS_MODAL = "kudos_modal"
GIVE_KUDOS_SHORTCUT = "give_kudos"
RECIPIENTS_BLOCK = "kudos_recipients"
RECIPIENTS_ACTION = "recipients"
MESSAGE_BLOCK = "kudos_message"
MESSAGE_ACTION = "message"
CHANNEL_BLOCK = "kudos_channel"
CHANNEL_ACTION = "channel"
VALUES_BLOCK = "kudos_values"
VALUES_ACTION = "values"

KUDOS_USAGE = (
    "*Give kudos:* `/kudos @ana @ben thanks for the late-night fix #ownership`\n"
    "*Thank a whole group:* `/kudos @design the new onboarding flow is lovely`\n"
    "*Open the kudos form:* `/kudos`\n"
    "*See who's been thanked:* `/kudos top` (or `top month`, `top all`)\n"
    "You can also react with the kudos emoji on a message, or use *Give kudos* from a message's ⋯ menu."
)


# Block ids inside a digest get this, with the item's number: unique in the message, and a button there
# knows not to replace the whole digest.
IN_DIGEST = "__in_digest_"


def in_digest(action: dict[str, Any]) -> bool:
    """Whether a button was pressed on an item of a daily digest."""
    return IN_DIGEST in str(action.get("block_id") or "")


def block_dicts(*blocks: Block) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _people(user_ids: tuple[str, ...] | list[str]) -> str:
    mentions = [f"<@{user_id}>" for user_id in user_ids]
    if len(mentions) <= 1:
        return "".join(mentions)
    return ", ".join(mentions[:-1]) + " and " + mentions[-1]


def _giver(kudos: KudosView) -> str:
    return f"<@{kudos.giver_id}>" if kudos.giver_id else "A former colleague"


def quote(message: str) -> str:
    """User text as a block quote, escaped line by line."""
    return "\n".join(f">{escape(line)}" for line in message.splitlines())


def values_line(values: tuple[str, ...]) -> str:
    return " ".join(f"`#{escape(value)}`" for value in values)


def kudos_announcement(kudos: KudosView) -> Rendered:
    headline = f":clap: {_giver(kudos)} gave kudos to {_people(kudos.recipient_ids)}"
    body = headline
    if kudos.message:
        body += "\n" + quote(kudos.message)
    elif kudos.reason_link:
        body += f" for {link(kudos.reason_link, 'this message')}"
    elif kudos.source == "reaction":
        body += " for their message"
    context: list[str] = []
    if kudos.values:
        context.append(values_line(kudos.values))
    if kudos.message and kudos.reason_link:
        context.append(f"About {link(kudos.reason_link, 'this message')}")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=body))]
    if context:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(context))]))
    return headline.removeprefix(":clap: "), block_dicts(*blocks)


def kudos_recipient_dm(kudos: KudosView) -> Rendered:
    others = [user_id for user_id in kudos.recipient_ids]
    text = f"{_giver(kudos)} gave you kudos"
    if len(others) > 1:
        text = f"{_giver(kudos)} gave you and {len(others) - 1} other{'s' if len(others) > 2 else ''} kudos"
    body = f":sparkles: {text}"
    if kudos.message:
        body += "\n" + quote(kudos.message)
    elif kudos.reason_link:
        body += f" for {link(kudos.reason_link, 'your message')}"
    elif kudos.source == "reaction":
        body += " for your message"
    links = []
    if kudos.permalink:
        links.append(link(kudos.permalink, "See it in the channel"))
    if kudos.values:
        links.append(values_line(kudos.values))
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=body))]
    if links:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(links))]))
    return text, block_dicts(*blocks)


def kudos_sent_elsewhere(kudos: KudosView) -> Rendered:
    where = f"in <#{kudos.post_channel_id}>"
    if kudos.permalink and linkable(kudos.permalink):
        where = f"<{kudos.permalink}|{where}>"
    text = f"Sent! Your kudos to {_people(kudos.recipient_ids)} is {where}."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def kudos_reply(reply: KudosReply) -> Rendered:
    """The private word to the giver after the acknowledgement."""
    if reply.refusal is not None:
        return refusal(reply.refusal)
    assert reply.kudos is not None
    return kudos_sent_elsewhere(reply.kudos)


def refusal(error: KudosRefused) -> Rendered:
    """A friendly explanation of why nothing was sent, and what to do instead."""
    text = refusal_text(error)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    if isinstance(error, NoRecipients | EmptyMessage):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=KUDOS_USAGE.splitlines()[0])]))
    return text, block_dicts(*blocks)


def refusal_text(error: KudosRefused) -> str:
    match error:
        case NoRecipients():
            return "Who is it for? Mention them first: `/kudos @ana thanks for the late-night fix`."
        case SelfKudos():
            return (
                "Kudos are for thanking others, so you can't give them to yourself. Who helped you out today?"
            )
        case BotRecipient(user_ids=user_ids):
            return f"{_people(user_ids)} {'is a bot' if len(user_ids) == 1 else 'are bots'}, and bots don't need kudos. Thank the people behind them instead?"
        case InactiveRecipient(user_ids=user_ids):
            return f"{_people(user_ids)} {'is' if len(user_ids) == 1 else 'are'} no longer active in this workspace, so kudos can't reach them. Thank someone who's still here?"
        case UnknownGroup():
            # Not a live group mention: a refusal is no place to notify a whole group.
            return (
                "I couldn't read the members of the group you mentioned. Mention the people directly instead."
            )
        case EmptyMessage():
            return "Add a few words about what they did: `/kudos @ana thanks for the late-night fix`."
        case MessageTooLong(length=length, limit=limit):
            return f"That message is {length:,} characters; kudos can be up to {limit:,}. Could you trim it a little?"
        case UnknownValue(value=value, suggestion=suggestion, known=known):
            hint = f"Did you mean `#{escape(suggestion)}`?" if suggestion else ""
            listed = values_line(tuple(known))
            return f"`#{escape(value)}` isn't one of this workspace's values. {hint} The values are: {listed}".replace(
                "  ", " "
            )
        case ValueTooLong(limit=limit):
            return f"That #value is longer than {limit} characters. Try a shorter one, like `#ownership`."
        case AllowanceExhausted(allowance=allowance, wanted=wanted, left=left):
            if left == 0:
                return f"You've given all {allowance} of today's kudos. Generous! You'll have {allowance} more tomorrow."
            return f"You have {left} kudos left today, and this would give {wanted}. Pick your {left} for today, or save the rest for tomorrow."
        case CannotPost(channel_id=""):
            return "I don't know where to post these kudos, so they weren't sent. Type `/kudos` in the channel where everyone should see them."
        case CannotPost(channel_id=channel_id, reason="is_archived"):
            return f"<#{channel_id}> is archived, so your kudos weren't sent. Give them in another channel?"
        case CannotPost(channel_id=channel_id):
            return (
                f"I can't post in <#{channel_id}> yet, so your kudos weren't sent. "
                "Type `/invite @ExtraMile` in that channel, then try again."
            )
        case PlatformBusy(retry_after=retry_after):
            wait = f"in {max(int(retry_after or 0), 1)} seconds" if retry_after else "in a minute"
            return f"Slack is busy right now, so your kudos weren't sent. Please try again {wait}."
    return "That didn't work, and nothing was sent. Try again, or see `/kudos help` for examples."


def kudos_help() -> Rendered:
    return "How to use /kudos", block_dicts(
        SectionBlock(text=MarkdownTextObject(text="*Say thanks with `/kudos`* :clap:")),
        SectionBlock(text=MarkdownTextObject(text=KUDOS_USAGE)),
    )


_PERIOD_TITLES = {"week": "this week", "month": "this month", "all": "of all time"}


def leaderboard(board: Leaderboard) -> Rendered:
    title = f"Kudos {_PERIOD_TITLES[board.period]}"

    def ranking(rows: list[tuple[str, int]], empty: str) -> str:
        if not rows:
            return empty
        return "\n".join(f"{rank}. <@{user_id}> · {count}" for rank, (user_id, count) in enumerate(rows, 1))

    return title, block_dicts(
        HeaderBlock(text=PlainTextObject(text=title)),
        SectionBlock(
            fields=[
                MarkdownTextObject(text="*Thanked the most*\n" + ranking(board.received, "Nobody yet.")),
                MarkdownTextObject(text="*Thanked others the most*\n" + ranking(board.given, "Nobody yet.")),
            ]
        ),
        DividerBlock(),
        ContextBlock(
            elements=[MarkdownTextObject(text="Be the reason someone smiles: `/kudos @name thanks for ...`")]
        ),
    )


def kudos_modal(
    *,
    values: tuple[str, ...],
    channel_id: str | None,
    initial_user_ids: list[str] | None = None,
    reason_link: str | None = None,
    initial_message: str | None = None,
    ask_channel: bool = False,
) -> dict[str, Any]:
    """The kudos form; `private_metadata` carries where it was opened from. Opened from a DM with no
    kudos channel set (a "Say thanks" button), it asks where to post."""
    blocks: list[Block] = []
    if reason_link:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"About {link(reason_link, 'this message')}")])
        )
    blocks.append(
        InputBlock(
            block_id=RECIPIENTS_BLOCK,
            label="Who are you thanking?",
            element=UserMultiSelectElement(
                action_id=RECIPIENTS_ACTION,
                placeholder="Pick one or more people",
                initial_users=initial_user_ids or None,
                max_selected_items=20,
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=MESSAGE_BLOCK,
            label="What did they do?",
            optional=reason_link is not None,
            element=PlainTextInputElement(
                action_id=MESSAGE_ACTION,
                multiline=True,
                max_length=2000,
                placeholder="Thanks for staying late on the fix",
                initial_value=initial_message,
            ),
        )
    )
    if ask_channel:
        blocks.append(
            InputBlock(
                block_id=CHANNEL_BLOCK,
                label="Where should everyone see it?",
                element=ConversationSelectElement(
                    action_id=CHANNEL_ACTION,
                    placeholder="Pick a channel",
                    filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                ),
            )
        )
    if values:
        blocks.append(
            InputBlock(
                block_id=VALUES_BLOCK,
                label="Which of our values did they show?",
                optional=True,
                element=StaticMultiSelectElement(
                    action_id=VALUES_ACTION,
                    placeholder="Pick values",
                    options=[Option(value=value, text=f"#{value}") for value in values[:100]],
                ),
            )
        )
    view = View(
        type="modal",
        callback_id=KUDOS_MODAL,
        title="Give kudos",
        submit="Send kudos",
        close="Cancel",
        private_metadata=json.dumps({"channel_id": channel_id, "reason_link": reason_link}),
        blocks=blocks,
    )
    return view.to_dict()


def error_for_block(error: KudosRefused) -> tuple[str, str]:
    """Which modal field a refusal belongs to, for `response_action=errors`."""
    if isinstance(error, MessageTooLong | EmptyMessage):
        return MESSAGE_BLOCK, refusal_text(error)
    if isinstance(error, UnknownValue):
        return VALUES_BLOCK, refusal_text(error)
    return RECIPIENTS_BLOCK, refusal_text(error)


def kudos_need_a_channel() -> Rendered:
    text = (
        "Kudos are for everyone to see, so they need a channel. Type `/kudos @name ...` in a channel, "
        "or `/kudos` on its own here to pick one."
    )
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def try_again_later() -> Rendered:
    text = "I couldn't save that just now (my database didn't answer), so nothing changed. Please try again in a moment."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def unexpected_error(incident_id: str) -> Rendered:
    text = f"Sorry, something went wrong on my side and nothing was sent. If it keeps happening, tell your admin: incident `{incident_id}`."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))
