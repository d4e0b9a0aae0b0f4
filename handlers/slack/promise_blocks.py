"""Block Kit for promises: confirmations, reminders, updates to the people waiting, the forms."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DateTimePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.services.due_dates import EXAMPLES, AmbiguousDueDate, PastDueDate, TooFarAhead, UnparseableDueDate
from bot.services.hours import zone_of
from bot.services.promises import (
    BadDueDate,
    BotPromisee,
    ContactTooLong,
    InactivePromisee,
    MadePromise,
    NoPromisee,
    NoteTooLong,
    NothingPromised,
    NotYourPromise,
    PromiseBusy,
    PromiseClosed,
    PromiseLists,
    PromiseNotFound,
    PromiseNotice,
    PromiseRefused,
    PromiseView,
    SelfPromise,
    WhatTooLong,
)
from handlers.slack.blocks import Rendered, block_dicts, quote
from handlers.slack.mrkdwn import escape, link

# Action, callback and block ids Slack echoes back.
DONE = "promise_done"
SNOOZE_HOUR = "promise_snooze_hour"
SNOOZE_MORNING = "promise_snooze_morning"
STILL_ON_IT = "promise_still_on_it"
CANCEL = "promise_cancel"
SAY_THANKS = "promise_say_thanks"
PROMISE_ACTIONS = (DONE, SNOOZE_HOUR, SNOOZE_MORNING, STILL_ON_IT, CANCEL)
ETA_MODAL = "promise_eta_modal"
CANCEL_MODAL = "promise_cancel_modal"
PROMISE_MODAL = "promise_modal"
PROMISE_SHORTCUT = "promise_follow_up"
ETA_BLOCK, ETA_ACTION = "promise_eta", "eta"
NOTE_BLOCK, NOTE_ACTION = "promise_note", "note"
PROMISEES_BLOCK, PROMISEES_ACTION = "promise_promisees", "promisees"
WHAT_BLOCK, WHAT_ACTION = "promise_what", "what"
DUE_BLOCK, DUE_ACTION = "promise_due", "due"

PROMISE_USAGE = (
    "*Promise a follow-up:* `/promise @carol send the pricing deck by Friday 3pm`\n"
    '*Someone outside Slack:* `/promise "Jane at ACME" call back with pricing tomorrow 10am`\n'
    "*See your open loops:* `/promise list`\n"
    f"*When* can be {EXAMPLES}.\n"
    "You can also pick *Promise a follow-up* from any message's ⋯ menu."
)


def when(at: datetime, tz: str) -> str:
    """`Fri 20 Nov 15:00` in the reader's zone."""
    local = at.astimezone(zone_of(tz))
    return local.strftime("%a %-d %b %H:%M")


def for_everyone(at: datetime) -> str:
    """A time each reader of a shared message sees in their own zone (Slack's date formatting)."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{when(at, 'UTC')} UTC>"


def waiting(promise: PromiseView) -> str:
    names = [f"<@{user_id}>" for user_id in promise.promisee_ids]
    if promise.contact_name:
        names.append(escape(promise.contact_name))
    if len(names) <= 1:
        return "".join(names) or "Someone"
    return ", ".join(names[:-1]) + " and " + names[-1]


def _lateness(late_by: timedelta | None) -> str:
    if late_by is None:
        return "on time"
    minutes = int(late_by.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''} late"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''} late"
    return f"{hours // 24} days late"


def _button(text: str, action_id: str, promise: PromiseView, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=text, action_id=action_id, value=str(promise.id), style=style)


def reminder_buttons(promise: PromiseView) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"promise_actions_{promise.id}",
        elements=[
            _button("Done", DONE, promise, "primary"),
            _button("Still on it, new ETA", STILL_ON_IT, promise),
            _button("Snooze 1 hour", SNOOZE_HOUR, promise),
            _button("Tomorrow morning", SNOOZE_MORNING, promise),
            _button("Cancel", CANCEL, promise),
        ],
    )


def confirmation(made: MadePromise) -> Rendered:
    promise = made.promise
    text = f"Got it. You'll get back to {waiting(promise)} about *{escape(promise.what)}* by {when(promise.due_at, made.promiser_tz)} (your time)."
    if promise.promisee_ids:
        text += " I've let them know."
    return text, block_dicts(
        SectionBlock(text=MarkdownTextObject(text=text)),
        ContextBlock(
            elements=[MarkdownTextObject(text="I'll remind you before it's due. Wrong time? Set a new one:")]
        ),
        ActionsBlock(
            block_id=f"promise_confirm_{promise.id}",
            elements=[_button("Edit time", STILL_ON_IT, promise), _button("Cancel", CANCEL, promise)],
        ),
    )


def notice(item: PromiseNotice) -> Rendered:
    promise, tz = item.promise, item.reader_tz
    due = when(promise.due_at, tz)
    what = f"*{escape(promise.what)}*"
    promiser = f"<@{promise.promiser_id}>" if promise.promiser_id else "A former colleague"
    back = item.promiser_away_until
    away = (
        [
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{promiser} is away until {back:%a} {back.day} {back:%b}, "
                        "so an answer may take a little longer."
                    )
                ]
            )
        ]
        if back
        else []
    )
    about = (
        [
            ContextBlock(
                elements=[MarkdownTextObject(text=f"About {link(promise.context_link, 'this message')}")]
            )
        ]
        if promise.context_link
        else []
    )
    match item.stage:
        case "made":
            return confirmation(MadePromise(promise=promise, promiser_tz=tz))
        case "heard":
            text = f"{promiser} will get back to you about {what} by {due} (your time)."
            return text, block_dicts(
                SectionBlock(text=MarkdownTextObject(text=f":handshake: {text}")), *away, *about
            )
        case "before":
            text = f"Coming up: {waiting(promise)} is waiting on {what} (due {due})."
        case "due":
            text = f"It's time: {waiting(promise)} is waiting on {what} (due {due})."
        case "nudge" | "snooze":
            text = f"No rush. {waiting(promise)} is waiting on {what} (due {due}). Want to let them know you're still on it?"
        case "eta":
            if item.thread_ts:
                text = f"{promiser} is still on {what}: the new ETA is {for_everyone(promise.due_at)}."
            else:
                text = f"{promiser} is still on {what}: the new ETA is {due} (your time)."
            return text, block_dicts(
                SectionBlock(text=MarkdownTextObject(text=f":hourglass_flowing_sand: {text}")), *away
            )
        case "done":
            text = f"{promiser} got back to you about {what}: done, {_lateness(promise.late_by)}."
            return text, block_dicts(
                SectionBlock(text=MarkdownTextObject(text=f":white_check_mark: {text}")),
                ActionsBlock(
                    block_id=f"promise_thanks_{promise.id}",
                    elements=[
                        ButtonElement(
                            text="Say thanks", action_id=SAY_THANKS, value=str(promise.id), style="primary"
                        )
                    ],
                ),
            )
        case "cancelled":
            text = f"{promiser} can't get back to you about {what} after all."
            blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
            if promise.close_note:
                blocks.append(SectionBlock(text=MarkdownTextObject(text=quote(promise.close_note))))
            return text, block_dicts(*blocks)
    return text, block_dicts(
        SectionBlock(text=MarkdownTextObject(text=f":alarm_clock: {text}")),
        *about,
        reminder_buttons(promise),
    )


def closed_reminder(promise: PromiseView, tz: str) -> Rendered:
    """What a reminder turns into once a button closed or moved it."""
    if promise.status == "done":
        text = f":white_check_mark: Done: *{escape(promise.what)}*. {waiting(promise)} has been told."
    elif promise.status == "cancelled":
        text = f"Cancelled: *{escape(promise.what)}*. {waiting(promise)} has been told."
    else:
        text = f":hourglass_flowing_sand: *{escape(promise.what)}* is now due {when(promise.due_at, tz)}. I'll remind you again."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def snoozed(at: datetime, tz: str) -> Rendered:
    text = f":zzz: Snoozed. I'll remind you again {when(at, tz)}."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def refusal(error: PromiseRefused) -> Rendered:
    text = refusal_text(error)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    if isinstance(error, NoPromisee | NothingPromised | BadDueDate):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=PROMISE_USAGE.splitlines()[0])]))
    return text, block_dicts(*blocks)


def refusal_text(error: PromiseRefused) -> str:
    match error:
        case NoPromisee():
            return 'Who are you getting back to? Mention them first (`/promise @carol ...`), or name someone outside Slack in quotes (`/promise "Jane at ACME" ...`).'
        case SelfPromise():
            return "A promise to yourself is a to-do. Who's waiting on you?"
        case BotPromisee(user_ids=user_ids):
            return f"{' '.join(f'<@{u}>' for u in user_ids)} is a bot and won't be waiting. Who's the person behind it?"
        case InactivePromisee(user_ids=user_ids):
            return f"{' '.join(f'<@{u}>' for u in user_ids)} is no longer active here, so they can't be told."
        case NothingPromised():
            return "What will you get back to them about, and when? For example: `/promise @carol send the pricing deck by Friday 3pm`."
        case WhatTooLong(length=length, limit=limit):
            return f"That's {length:,} characters; a promise can be up to {limit:,}. The short version is plenty."
        case BadDueDate(error=AmbiguousDueDate(text=text)):
            return f"`{escape(text)}` could be two dates. Write the month as a word (`4 March`) or use `2026-03-04`."
        case BadDueDate(error=PastDueDate(at=at), tz=tz):
            return (
                f"That time ({when(at, tz)}, your time) has already passed. When will you get back to them?"
            )
        case BadDueDate(error=TooFarAhead()):
            return "That's further ahead than I can keep track of. Pick a time within the next five years, like `14 March 10am`."
        case ContactTooLong(length=length, limit=limit):
            return f'That name is {length:,} characters; up to {limit:,} fit. A short name in quotes is plenty: `/promise "Jane at ACME" ...`.'
        case NoteTooLong(length=length, limit=limit):
            return f"That note is {length:,} characters; up to {limit:,} fit. Could you shorten it?"
        case BadDueDate(error=UnparseableDueDate()):
            return f"I couldn't tell when. End your promise with a time, like {EXAMPLES}."
        case PromiseBusy(retry_after=retry_after):
            wait = f"in {max(int(retry_after or 0), 1)} seconds" if retry_after else "in a minute"
            return f"Slack is busy right now, so nothing was saved. Please try again {wait}."
        case PromiseNotFound():
            return "I can't find that promise any more. `/promise list` shows your open ones."
        case NotYourPromise(promise=promise):
            return f"Only <@{promise.promiser_id}> can update that promise. Ask them, or make your own with `/promise`."
        case PromiseClosed(promise=promise):
            return f"That one's already closed ({promise.status}): *{escape(promise.what)}*. `/promise list` shows what's still open."
    return "That didn't work, and nothing changed. Try again, or see `/promise help`."


def promise_help() -> Rendered:
    return "How to use /promise", block_dicts(
        SectionBlock(text=MarkdownTextObject(text="*Close the loop with `/promise`* :handshake:")),
        SectionBlock(text=MarkdownTextObject(text=PROMISE_USAGE)),
    )


def promise_list(lists: PromiseLists) -> Rendered:
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Your open loops"))]
    if not lists.mine:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*You promised:* nothing open. Nice.")))
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*You promised*")))
        for promise in lists.mine[:20]:
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(
                        text=f"*{escape(promise.what)}* for {waiting(promise)}, due {when(promise.due_at, lists.tz)}"
                    )
                )
            )
            blocks.append(reminder_buttons(promise))
    if lists.owed_to_me:
        lines = "\n".join(
            f"• <@{p.promiser_id}>: *{escape(p.what)}*, by {when(p.due_at, lists.tz)}"
            for p in lists.owed_to_me[:20]
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Owed to you*\n{lines}")))
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Owed to you:* nothing open.")))
    return "Your open loops", block_dicts(*blocks)


def eta_modal(promise: PromiseView, *, initial: datetime) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=ETA_MODAL,
        title="New ETA",
        submit="Save",
        close="Back",
        private_metadata=json.dumps({"promise_id": promise.id}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"When will {waiting(promise)} hear back about *{escape(promise.what)}*?"
                )
            ),
            InputBlock(
                block_id=ETA_BLOCK,
                label="New time",
                element=DateTimePickerElement(
                    action_id=ETA_ACTION, initial_date_time=int(initial.timestamp())
                ),
            ),
        ],
    ).to_dict()


def cancel_modal(promise: PromiseView) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=CANCEL_MODAL,
        title="Cancel the promise",
        submit="Cancel promise",
        close="Keep it",
        private_metadata=json.dumps({"promise_id": promise.id}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{waiting(promise)} will be told you can't get back about *{escape(promise.what)}*."
                )
            ),
            InputBlock(
                block_id=NOTE_BLOCK,
                label="A note for them (optional)",
                optional=True,
                element=PlainTextInputElement(action_id=NOTE_ACTION, multiline=True, max_length=500),
            ),
        ],
    ).to_dict()


def promise_modal(
    *,
    author_id: str | None,
    context_link: str | None,
    channel_id: str | None,
    message_ts: str | None,
    initial: datetime,
    initial_user_ids: tuple[str, ...] = (),
    initial_what: str | None = None,
    from_offer: bool = False,
) -> dict[str, Any]:
    """The promise form; `from_offer`: filled in from an offer to track a message (one promise per
    message, however often it is sent)."""
    people = list(initial_user_ids) or ([author_id] if author_id else [])
    blocks: list[Block] = []
    if context_link:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"About {link(context_link, 'this message')}")])
        )
    blocks += [
        InputBlock(
            block_id=PROMISEES_BLOCK,
            label="Who are you getting back to?",
            element=UserMultiSelectElement(
                action_id=PROMISEES_ACTION,
                initial_users=people[:10] or None,
                max_selected_items=10,
            ),
        ),
        InputBlock(
            block_id=WHAT_BLOCK,
            label="About what?",
            element=PlainTextInputElement(
                action_id=WHAT_ACTION,
                max_length=500,
                placeholder="the pricing deck",
                initial_value=initial_what[:500] if initial_what else None,
            ),
        ),
        InputBlock(
            block_id=DUE_BLOCK,
            label="By when?",
            element=DateTimePickerElement(action_id=DUE_ACTION, initial_date_time=int(initial.timestamp())),
        ),
    ]
    return View(
        type="modal",
        callback_id=PROMISE_MODAL,
        title="Promise a follow-up",
        submit="Promise",
        close="Cancel",
        private_metadata=json.dumps(
            {
                "channel_id": channel_id,
                "message_ts": message_ts,
                "context_link": context_link,
                **({"offer": True} if from_offer else {}),
            }
        ),
        blocks=blocks,
    ).to_dict()


def modal_error_block(error: PromiseRefused) -> tuple[str, str]:
    if isinstance(error, BadDueDate):
        return DUE_BLOCK, refusal_text(error)
    if isinstance(error, NothingPromised | WhatTooLong):
        return WHAT_BLOCK, refusal_text(error)
    return PROMISEES_BLOCK, refusal_text(error)
