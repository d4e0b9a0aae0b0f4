"""Adaptive Cards for promises in Microsoft Teams: the confirmation, the word to the people waiting, the
reminders with their buttons, what a reminder becomes once handled, the list and the refusals. Pure
functions, the same words as Slack's (handlers/slack/promise_blocks.py) in Teams' syntax.

Promise titles and names are people's words: they go into TextRuns (never read as Markdown). Slack's
forms (a new ETA, a cancel note, a thank-you) are inline forms here: an `Action.ShowCard` holding the
inputs, whose button is an `Action.Execute` that Teams sends back with the inputs' values in its data.
Input ids end with the action's `slot` (empty on a card of its own) so that several forms can share a
card: the list, a digest.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from bot.services.due_dates import EXAMPLES, AmbiguousDueDate, PastDueDate, TooFarAhead, UnparseableDueDate
from bot.services.hours import zone_of
from bot.services.kudos import MAX_MESSAGE_CHARS
from bot.services.promises import (
    MAX_NOTE_CHARS,
    REMINDER_STAGES,
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
from handlers.teams.cards import (
    Element,
    Names,
    Rendered,
    card,
    escape,
    execute,
    plain_people,
    quote,
    rich,
    run,
    text,
)

# Verbs Teams sends back (Action.Execute).
DONE = "promise.done"
SNOOZE_HOUR = "promise.snooze_hour"
SNOOZE_MORNING = "promise.snooze_morning"
NEW_ETA = "promise.new_eta"
CANCEL = "promise.cancel"
SAY_THANKS = "promise.say_thanks"
# Inputs (each id ends with the form's slot).
ETA_DATE, ETA_TIME, NOTE, THANKS = "eta_date", "eta_time", "note", "thanks"
MAX_CARD_BYTES = 26_000

PROMISE_USAGE = (
    "- **Promise a follow-up:** `promise @Carol send the pricing deck by Friday 3pm`\n"
    '- **Someone outside Teams:** `promise "Jane at ACME" call back with pricing tomorrow 10am`\n'
    "- **See your open loops:** `promise list` (in our chat)\n"
    f"- **When** can be {EXAMPLES}."
)
PROMISE_EXAMPLE = "Promise a follow-up: `promise @Carol send the pricing deck by Friday 3pm`"


def fits(body: list[Element]) -> bool:
    """Whether a card with this body stays under Teams' message size limit (about 28 KB, with room left
    for the activity around it)."""
    return len(json.dumps(card(*body)).encode()) <= MAX_CARD_BYTES


def when(at: datetime, tz: str) -> str:
    """`Fri 20 Nov 15:00` in the reader's zone."""
    return at.astimezone(zone_of(tz)).strftime("%a %-d %b %H:%M")


def for_everyone(at: datetime) -> str:
    """A time each reader of a shared card sees in their own zone (Adaptive Cards' DATE and TIME)."""
    stamp = at.astimezone(zone_of("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({stamp}, SHORT)}}}} at {{{{TIME({stamp})}}}}"


def waiting(promise: PromiseView, names: Names) -> list[str]:
    """The names of the people waiting (and the outside contact)."""
    found = [names(user_id) for user_id in promise.promisee_ids]
    if promise.contact_name:
        found.append(promise.contact_name)
    return found or ["Someone"]


def promiser(promise: PromiseView, names: Names) -> str:
    return names(promise.promiser_id) if promise.promiser_id else "A former colleague"


def sentence(*parts: str | Element) -> Element:
    """One line: our words as they are, `Element`s (bold names, titles) in between."""
    return rich(*(run(part) if isinstance(part, str) else part for part in parts))


def bold(words: str) -> Element:
    return run(words, bold=True)


def people_runs(items: list[str]) -> list[str | Element]:
    """Ana, Ben and Jane, each in bold."""
    parts: list[str | Element] = []
    for number, item in enumerate(items):
        if number:
            parts.append(" and " if number == len(items) - 1 else ", ")
        parts.append(bold(item))
    return parts


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


# ---------------------------------------------------------------- the forms and buttons


def eta_inputs(tz: str, *, initial: datetime | None, slot: str) -> list[Element]:
    """A date and a time in the reader's zone (`tz`), filled in with `initial` when known."""
    local = initial.astimezone(zone_of(tz)) if initial else None
    date_input: Element = {"type": "Input.Date", "id": ETA_DATE + slot, "label": "New date"}
    time_input: Element = {"type": "Input.Time", "id": ETA_TIME + slot, "label": "New time (your time)"}
    if local is not None:
        date_input["value"] = local.strftime("%Y-%m-%d")
        time_input["value"] = local.strftime("%H:%M")
    return [date_input, time_input]


def eta_question(promise: PromiseView, names: Names) -> Element:
    return sentence(
        "When will ", *people_runs(waiting(promise, names)), " hear back about ", bold(promise.what), "?"
    )


def eta_form(promise: PromiseView, tz: str, *, initial: datetime | None, slot: str, title: str) -> Element:
    return {
        "type": "Action.ShowCard",
        "title": title,
        "card": {
            "type": "AdaptiveCard",
            # The card it opens under says what it is about: the inputs alone (a digest holds ten).
            "body": eta_inputs(tz, initial=initial, slot=slot),
            "actions": [_save_eta(promise, tz, slot)],
        },
    }


def _save_eta(promise: PromiseView, tz: str, slot: str) -> Element:
    # The zone the inputs were shown in travels with them: they are read in it.
    return execute("Save new ETA", NEW_ETA, promise_id=promise.id, slot=slot, tz=tz)


def cancel_form(promise: PromiseView, names: Names, *, slot: str) -> Element:
    return {
        "type": "Action.ShowCard",
        "title": "Cancel",
        "card": {
            "type": "AdaptiveCard",
            "body": _cancel_inputs(promise, names, slot),
            "actions": [execute("Cancel promise", CANCEL, promise_id=promise.id, slot=slot)],
        },
    }


def _cancel_inputs(promise: PromiseView, names: Names, slot: str) -> list[Element]:
    return [
        sentence(
            *people_runs(waiting(promise, names)),
            " will be told you can't get back about ",
            bold(promise.what),
            ".",
        ),
        {
            "type": "Input.Text",
            "id": NOTE + slot,
            "label": "A note for them (optional)",
            "isMultiline": True,
            "maxLength": MAX_NOTE_CHARS,
        },
    ]


def reminder_actions(
    promise: PromiseView, tz: str, names: Names, *, initial: datetime | None, slot: str = ""
) -> list[Element]:
    return [
        {**execute("Done", DONE, promise_id=promise.id, slot=slot), "style": "positive"},
        eta_form(promise, tz, initial=initial, slot=slot, title="Still on it, new ETA"),
        execute("Snooze 1 hour", SNOOZE_HOUR, promise_id=promise.id, slot=slot),
        execute("Tomorrow morning", SNOOZE_MORNING, promise_id=promise.id, slot=slot),
        cancel_form(promise, names, slot=slot),
    ]


def next_eta(promise: PromiseView, now: datetime) -> datetime:
    """What the new-ETA form proposes: a day after the due time, or after now once it has passed."""
    return max(promise.due_at, now) + timedelta(days=1)


# ---------------------------------------------------------------- cards


def line(emoji: str, *parts: str | Element) -> tuple[str, Element]:
    """(the sentence as plain words, for Teams' notifications; the sentence as a card line, with
    `emoji` in front)."""
    plain = "".join(part if isinstance(part, str) else str(part["text"]) for part in parts)
    return plain, sentence(f"{emoji} " if emoji else "", *parts)


def confirmation(made: MadePromise, names: Names) -> Rendered:
    promise, tz = made.promise, made.promiser_tz
    told = " I've let them know." if promise.promisee_ids else ""
    summary, said = line(
        "",
        "Got it. You'll get back to ",
        *people_runs(waiting(promise, names)),
        " about ",
        bold(promise.what),
        f" by {when(promise.due_at, tz)} (your time).{told}",
    )
    return Rendered(
        summary=summary,
        card=card(
            said,
            text("I'll remind you before it's due. Wrong time? Set a new one:", subtle=True),
            actions=[
                eta_form(promise, tz, initial=promise.due_at, slot="", title="Edit time"),
                cancel_form(promise, names, slot=""),
            ],
        ),
    )


def notice(item: PromiseNotice, names: Names) -> Rendered:
    if item.stage == "made":
        return confirmation(MadePromise(promise=item.promise, promiser_tz=item.reader_tz), names)
    if item.stage in REMINDER_STAGES:
        return reminder(item, names)
    return news(item, names)


def reminder(item: PromiseNotice, names: Names) -> Rendered:
    """To the promiser: it is coming up, due, or overdue; with the buttons to close the loop."""
    promise, tz = item.promise, item.reader_tz
    lead = {"before": "Coming up: ", "due": "It's time: "}.get(item.stage, "No rush. ")
    tail = "" if item.stage in ("before", "due") else " Want to let them know you're still on it?"
    summary, said = line(
        "⏰",
        lead,
        *people_runs(waiting(promise, names)),
        " is waiting on ",
        bold(promise.what),
        f" (due {when(promise.due_at, tz)}).{tail}",
    )
    # A card cannot know the date it is read on: once overdue, its form proposes none.
    initial = promise.due_at + timedelta(days=1) if item.stage in ("before", "due") else None
    return Rendered(
        summary=summary,
        card=card(said, *_about(promise), actions=reminder_actions(promise, tz, names, initial=initial)),
    )


def news(item: PromiseNotice, names: Names) -> Rendered:
    """To the people waiting: they were heard, there is a new ETA, it is done, or it is off."""
    promise, tz = item.promise, item.reader_tz
    by, what, due = promiser(promise, names), bold(promise.what), when(promise.due_at, tz)
    # The promiser is away: the people waiting are told, so that silence is not a mystery.
    back = item.promiser_away_until
    away = (
        [
            sentence(
                bold(by),
                f" is away until {back:%a} {back.day} {back:%b}, so an answer may take a little longer.",
            )
        ]
        if back
        else []
    )
    actions: list[Element] = []
    match item.stage:
        case "heard":
            summary, said = line(
                "🤝", bold(by), " will get back to you about ", what, f" by {due} (your time)."
            )
            after = [*away, *_about(promise)]
        case "eta" if item.thread_ts:
            # Many readers: each sees the time in their own zone.
            summary, said = line("⏳", bold(by), " is still on ", what, ": the new ETA is")
            summary += f" {when(promise.due_at, 'UTC')} UTC."
            after = [text(f"{for_everyone(promise.due_at)}."), *away]
        case "eta":
            summary, said = line(
                "⏳", bold(by), " is still on ", what, f": the new ETA is {due} (your time)."
            )
            after = away
        case "done":
            late = _lateness(promise.late_by)
            summary, said = line("✅", bold(by), " got back to you about ", what, f": done, {late}.")
            after, actions = [], [thanks_form(promise, by, slot="")]
        case _:
            summary, said = line("", bold(by), " can't get back to you about ", what, " after all.")
            after = [quote(promise.close_note)] if promise.close_note else []
    return Rendered(summary=summary, card=card(said, *after, actions=actions))


def _about(promise: PromiseView) -> list[Element]:
    if not promise.context_link:
        return []
    return [text(f"About [this message]({promise.context_link})", subtle=True)]


def thanks_form(promise: PromiseView, by: str, *, slot: str) -> Element:
    return {
        "type": "Action.ShowCard",
        "title": "Say thanks",
        "card": {
            "type": "AdaptiveCard",
            "body": [
                sentence("Kudos to ", bold(by), ", where everyone can see it:"),
                {
                    "type": "Input.Text",
                    "id": THANKS + slot,
                    "label": "Your thanks",
                    "isMultiline": True,
                    "maxLength": MAX_MESSAGE_CHARS,
                    "value": f"Thanks for getting back to me about {promise.what}!",
                },
            ],
            "actions": [execute("Send kudos", SAY_THANKS, promise_id=promise.id, slot=slot)],
        },
    }


def closed_reminder(promise: PromiseView, tz: str, names: Names) -> Rendered:
    """What a reminder turns into once a button closed or moved it: how the promise stands now."""
    who = waiting(promise, names)
    told = f" {'has' if len(who) == 1 else 'have'} been told."
    if promise.status == "done":
        summary, said = line("✅", "Done: ", bold(promise.what), ". ", *people_runs(who), told)
    elif promise.status == "cancelled":
        summary, said = line("", "Cancelled: ", bold(promise.what), ". ", *people_runs(who), told)
    else:
        due = when(promise.due_at, tz)
        summary, said = line("⏳", bold(promise.what), f" is now due {due}. I'll remind you again.")
    return Rendered(summary=summary, card=card(said))


def snoozed(at: datetime, tz: str) -> Rendered:
    words = f"Snoozed. I'll remind you again {when(at, tz)}."
    return Rendered(summary=words, card=card(text(f"💤 {words}")))


def form_error(promise: PromiseView, tz: str, names: Names, words: str, *, form: str) -> Rendered:
    """A form sent back with something wrong: what, and the form again (filled in afresh) to fix it."""
    if form == CANCEL:
        inputs = _cancel_inputs(promise, names, "")
        action = execute("Cancel promise", CANCEL, promise_id=promise.id, slot="")
    else:
        inputs = [eta_question(promise, names), *eta_inputs(tz, initial=None, slot="")]
        action = _save_eta(promise, tz, "")
    return Rendered(
        summary=words,
        card=card(
            {**text(words), "color": "Attention"},
            *inputs,
            actions=[action],
        ),
    )


def refusal(error: PromiseRefused, names: Names) -> Rendered:
    words = refusal_text(error, names)
    body = [text(words)]
    if isinstance(error, NoPromisee | NothingPromised | BadDueDate):
        body.append(text(PROMISE_EXAMPLE, subtle=True))
    return Rendered(summary=words, card=card(*body))


def refusal_text(error: PromiseRefused, names: Names) -> str:
    """The same refusals as in Slack, in Teams' words."""
    match error:
        case NoPromisee():
            return 'Who are you getting back to? Mention them first (`promise @Carol ...`), or name someone outside Teams in quotes (`promise "Jane at ACME" ...`).'
        case SelfPromise():
            return "A promise to yourself is a to-do. Who's waiting on you?"
        case BotPromisee(user_ids=user_ids):
            return (
                f"{plain_people(user_ids, names)} is a bot and won't be waiting. Who's the person behind it?"
            )
        case InactivePromisee(user_ids=user_ids):
            return f"{plain_people(user_ids, names)} is no longer active here, so they can't be told."
        case NothingPromised():
            return "What will you get back to them about, and when? For example: `promise @Carol send the pricing deck by Friday 3pm`."
        case WhatTooLong(length=length, limit=limit):
            return f"That's {length:,} characters; a promise can be up to {limit:,}. The short version is plenty."
        case BadDueDate(error=AmbiguousDueDate(text=said)):
            return f"`{escape(said)}` could be two dates. Write the month as a word (`4 March`) or use `2026-03-04`."
        case BadDueDate(error=PastDueDate(at=at), tz=tz):
            return (
                f"That time ({when(at, tz)}, your time) has already passed. When will you get back to them?"
            )
        case BadDueDate(error=TooFarAhead()):
            return "That's further ahead than I can keep track of. Pick a time within the next five years, like `14 March 10am`."
        case ContactTooLong(length=length, limit=limit):
            return f'That name is {length:,} characters; up to {limit:,} fit. A short name in quotes is plenty: `promise "Jane at ACME" ...`.'
        case NoteTooLong(length=length, limit=limit):
            return f"That note is {length:,} characters; up to {limit:,} fit. Could you shorten it?"
        case BadDueDate(error=UnparseableDueDate()):
            return f"I couldn't tell when. End your promise with a time, like {EXAMPLES}."
        case PromiseBusy(retry_after=retry_after):
            wait = f"in {max(int(retry_after or 0), 1)} seconds" if retry_after else "in a minute"
            return f"Teams is busy right now, so nothing was saved. Please try again {wait}."
        case PromiseNotFound():
            return "I can't find that promise any more. `promise list` shows your open ones."
        case NotYourPromise(promise=promise):
            who = plain_people([promise.promiser_id], names) if promise.promiser_id else "A former colleague"
            return f"Only {who} can update that promise. Ask them, or make your own with `promise`."
        case PromiseClosed(promise=promise):
            return f"That one's already closed ({promise.status}): **{escape(promise.what)}**. `promise list` shows what's still open."
    return "That didn't work, and nothing changed. Try again, or see `promise help`."


def pick_a_time() -> str:
    return "Pick a date and a time."


def promise_help() -> Rendered:
    return Rendered(
        summary="How to use promise",
        card=card(text("**Close the loop with `promise`** 🤝"), text(PROMISE_USAGE)),
    )


def list_in_private() -> Rendered:
    return Rendered(
        summary="Your open loops are just for you",
        card=card(
            text(
                "Your open loops are just for you, so I'll keep them out of this conversation. "
                "Type `promise list` in our 1:1 chat."
            )
        ),
    )


def promise_list(lists: PromiseLists, names: Names, *, now: datetime) -> Rendered:
    """Your promises, each with its buttons (as many as fit in one message), and what others owe you."""
    body: list[Element] = [text("Your open loops", bold=True, size="Medium")]
    if not lists.mine:
        body.append(text("**You promised:** nothing open. Nice."))
    else:
        body.append(text("**You promised**"))
        for shown, promise in enumerate(lists.mine[:20]):
            item = {
                "type": "Container",
                "separator": True,
                "items": [
                    sentence(
                        bold(promise.what),
                        " for ",
                        *people_runs(waiting(promise, names)),
                        f", due {when(promise.due_at, lists.tz)}",
                    ),
                    {
                        "type": "ActionSet",
                        "actions": reminder_actions(
                            promise, lists.tz, names, initial=next_eta(promise, now), slot=f"-{promise.id}"
                        ),
                    },
                ],
            }
            if not fits([*body, item]):
                body.append(text(f"…and {len(lists.mine) - shown} more.", subtle=True))
                break
            body.append(item)
    if lists.owed_to_me:
        body.append(text("**Owed to you**"))
        for promise in lists.owed_to_me[:20]:
            body.append(
                sentence(
                    "• ",
                    bold(promiser(promise, names)),
                    ": ",
                    bold(promise.what),
                    f", by {when(promise.due_at, lists.tz)}",
                )
            )
    else:
        body.append(text("**Owed to you:** nothing open."))
    return Rendered(summary="Your open loops", card=card(*body))


def thanks_sent(promise: PromiseView, names: Names) -> Rendered:
    by = promiser(promise, names)
    return Rendered(
        summary=f"Thanks sent: your kudos to {by} is on its way.",
        card=card(sentence("👏 Thanks sent: your kudos to ", bold(by), " is on its way.")),
    )
