"""Block Kit for unanswered questions: the private nudge, the word in the question's thread, the replies
to its buttons."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.services.questions import QuestionClosed, QuestionHeard, QuestionNudge, QuestionRefused
from handlers.slack.blocks import Rendered, block_dicts
from handlers.slack.mrkdwn import escape, linkable, plain
from handlers.slack.promise_blocks import for_everyone, when

ON_IT = "question_on_it"
DISMISS = "question_dismiss"
OPEN = "question_open"
QUOTE_CHARS = 150


def _ago(asked_at: datetime, now: datetime) -> str:
    minutes = max(int((now - asked_at).total_seconds() // 60), 1)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def _quote(text: str) -> str:
    """The question as the reader will recognise it: plain words, cut short, escaped (no live links or
    @channel from somebody else's message)."""
    words = " ".join(plain(text).split())
    if len(words) > QUOTE_CHARS:
        words = words[: QUOTE_CHARS - 1].rstrip() + "…"
    return escape(words)


def nudge(view: QuestionNudge) -> Rendered:
    text = f"<@{view.asker_id}> asked you {_ago(view.asked_at, view.sent_at)} ago: “{_quote(view.text)}”"
    reply_by = when(view.reply_by, view.reader_tz)
    buttons: list[ButtonElement] = []
    if view.link and linkable(view.link):
        buttons.append(ButtonElement(text="Open", action_id=OPEN, url=view.link, value=str(view.question_id)))
    buttons += [
        ButtonElement(
            text=f"I'm on it: reply by {reply_by}",
            action_id=ON_IT,
            value=f"{view.question_id}:{int(view.reply_by.timestamp())}",
            style="primary",
        ),
        ButtonElement(text="Dismiss", action_id=DISMISS, value=str(view.question_id)),
    ]
    return text, block_dicts(
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(block_id=f"question_{view.question_id}", elements=buttons),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"*I'm on it* tells <@{view.asker_id}> in the thread that you saw it, and reminds you."
                )
            ]
        ),
    )


def heard(view: QuestionHeard) -> Rendered:
    text = f"<@{view.asker_id}>, <@{view.asked_id}> saw your question and will reply by {for_everyone(view.reply_by)}."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=f":eyes: {text}")))


def on_it(reply_by: datetime, tz: str, asker_id: str) -> Rendered:
    text = (
        f"Thanks! <@{asker_id}> knows you're on it. I'll remind you before {when(reply_by, tz)} (your time)."
    )
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def dismissed() -> Rendered:
    text = "Dismissed. I won't bring this question up again."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def refusal(error: QuestionRefused) -> Rendered:
    if isinstance(error, QuestionClosed):
        text = {
            "answered": "You've answered this one already. Nothing more to do.",
            "dismissed": "You dismissed this question. Nothing more to do.",
            "gone": "That question was deleted, so there's nothing to answer.",
        }.get(error.status, "That question is settled already. Nothing more to do.")
    else:
        text = "This question was asked of someone else, so only they can answer it from here."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=escape(text))))
