"""Adaptive Cards for check-ins in Microsoft Teams: the same words as Slack's
(handlers/slack/checkin_blocks.py), in Teams' syntax. Pure functions."""

from __future__ import annotations

from datetime import datetime

from bot.services.checkins import (
    EXAMPLES,
    BadInterval,
    BotContact,
    CheckinBusy,
    CheckinNotFound,
    CheckinNotice,
    CheckinRefused,
    CheckinStopped,
    CheckinTooLong,
    CheckinView,
    InactiveContact,
    MadeCheckin,
    NoContact,
    NotYourCheckin,
    SelfCheckin,
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
    run,
    text,
)
from handlers.teams.promise_cards import bold, fits, line, sentence, when

DONE = "checkin.done"
SNOOZE = "checkin.snooze"
SKIP = "checkin.skip"
STOP = "checkin.stop"

CHECKIN_USAGE = (
    "- **Keep in touch:** `checkin @Dan every 2 weeks catch up on the roadmap`\n"
    '- **Someone outside Teams:** `checkin "Jane at ACME" every 6 months send something useful`\n'
    "- **See them:** `checkin list` · **Stop one:** `checkin stop @Dan` (or `checkin stop` to pick)\n"
    f"- **How often** can be {EXAMPLES}."
)
CHECKIN_EXAMPLE = "Keep in touch: `checkin @Dan every 2 weeks catch up on the roadmap`"


def who(checkin: CheckinView, names: Names) -> str:
    if checkin.contact_user_id:
        return names(checkin.contact_user_id)
    return checkin.contact_name or "them"


def every(checkin: CheckinView) -> str:
    if checkin.every_count == 1:
        return f"every {checkin.every_unit}"
    if checkin.every_unit == "month" and checkin.every_count % 12 == 0:
        years = checkin.every_count // 12
        return "every year" if years == 1 else f"every {years} years"
    return f"every {checkin.every_count} {checkin.every_unit}s"


def _button(title: str, verb: str, checkin: CheckinView) -> Element:
    # The occurrence a reminder is about (its next one, as planned when it was sent): a second press of
    # the same button counts once.
    return execute(title, verb, checkin_id=checkin.id, occurrence=int(checkin.next_at.timestamp()))


def reminder_actions(checkin: CheckinView) -> list[Element]:
    return [
        {**_button("Done", DONE, checkin), "style": "positive"},
        _button("Tomorrow morning", SNOOZE, checkin),
        _button("Skip this time", SKIP, checkin),
    ]


def confirmation(made: MadeCheckin, names: Names) -> Rendered:
    checkin = made.checkin
    summary, said = line(
        "",
        "Done. I'll nudge you to check in with ",
        bold(who(checkin, names)),
        f" {every(checkin)}, starting {when(checkin.next_at, made.tz)} (your time).",
    )
    body = [said]
    if checkin.note:
        body.append(sentence("Note: ", run(checkin.note, italic=True)))
    return Rendered(summary=summary, card=card(*body, actions=[_button("Stop", STOP, checkin)]))


def notice(item: CheckinNotice, names: Names) -> Rendered:
    checkin = item.checkin
    end = " (snoozed from yesterday)." if item.snoozed else "."
    summary, said = line("👋", "Time to check in with ", bold(who(checkin, names)), end)
    body = [said]
    if checkin.note:
        body.append(quote(checkin.note))
    body.append(text(f"You asked for this {every(checkin)}.", subtle=True))
    return Rendered(summary=summary, card=card(*body, actions=reminder_actions(checkin)))


def after_done(checkin: CheckinView, tz: str, names: Names, *, skipped: bool) -> Rendered:
    emoji, lead = ("⏩", "Skipped.") if skipped else ("✅", "Nice, that's the loop closed.")
    summary, said = line(
        emoji, f"{lead} Next check-in with ", bold(who(checkin, names)), f": {when(checkin.next_at, tz)}."
    )
    return Rendered(summary=summary, card=card(said))


def snoozed(at: datetime, tz: str) -> Rendered:
    words = f"I'll remind you again {when(at, tz)}."
    return Rendered(summary=words, card=card(text(f"💤 {words}")))


def stopped(checkin: CheckinView, names: Names) -> Rendered:
    summary, said = line("", "Stopped: no more check-in reminders for ", bold(who(checkin, names)), ".")
    return Rendered(summary=summary, card=card(said))


def listing(checkins: list[CheckinView], tz: str, names: Names) -> Rendered:
    body: list[Element] = [text("Your check-ins", bold=True, size="Medium")]
    if not checkins:
        body.append(text("None yet. " + CHECKIN_EXAMPLE))
    for shown, checkin in enumerate(checkins[:40]):
        lines: list[Element] = [
            sentence(bold(who(checkin, names)), f", {every(checkin)}. Next: {when(checkin.next_at, tz)}")
        ]
        if checkin.note:
            lines.append(sentence(run(checkin.note, italic=True)))
        item: Element = {
            "type": "ColumnSet",
            "separator": True,
            "columns": [
                {"type": "Column", "width": "stretch", "items": lines},
                {
                    "type": "Column",
                    "width": "auto",
                    "items": [{"type": "ActionSet", "actions": [_button("Stop", STOP, checkin)]}],
                },
            ],
        }
        if not fits([*body, item]):
            body.append(text(f"…and {len(checkins) - shown} more.", subtle=True))
            break
        body.append(item)
    return Rendered(summary="Your check-ins", card=card(*body))


def refusal(error: CheckinRefused, names: Names) -> Rendered:
    words = refusal_text(error, names)
    return Rendered(summary=words, card=card(text(words)))


def refusal_text(error: CheckinRefused, names: Names) -> str:
    """The same refusals as in Slack, in Teams' words."""
    match error:
        case NoContact():
            return 'Who would you like to keep in touch with? `checkin @Dan every 2 weeks`, or a name in quotes: `checkin "Jane at ACME" every 6 months`.'
        case SelfCheckin():
            return "Checking in with yourself is a fine habit, but I'm built for nudging you towards others. Who else?"
        case BotContact(user_id=user_id):
            return f"{plain_people([user_id], names)} is a bot, and bots don't need checking in on. Who's the person behind it?"
        case InactiveContact(user_id=user_id):
            return f"I can't find {plain_people([user_id], names)} in this organization, or they're no longer active. Check in with someone who's here?"
        case CheckinBusy(retry_after=retry_after):
            wait = f"in {max(int(retry_after or 0), 1)} seconds" if retry_after else "in a minute"
            return f"Teams is busy right now, so nothing was saved. Please try again {wait}."
        case CheckinTooLong(length=length, limit=limit):
            return f"That's {length:,} characters; up to {limit:,} fit. The short version is plenty."
        case BadInterval():
            return f"How often? Start with `every`: {EXAMPLES} (at most every 365 days, 104 weeks or 36 months apart)."
        case CheckinNotFound():
            return "I can't find that check-in any more. `checkin list` shows yours."
        case NotYourCheckin():
            return "Only the person who set up that check-in can change it. Set up your own with `checkin @name every 2 weeks`."
        case CheckinStopped(checkin=checkin):
            name = who(checkin, names)
            again = f"@{name}" if checkin.contact_user_id else f'"{name}"'
            return f"The check-in with **{escape(name)}** was already stopped. Start it again with `checkin {again.replace('`', '')} every 2 weeks`."
    return "That didn't work, and nothing changed. Try again, or see `checkin help`."


def checkin_help() -> Rendered:
    return Rendered(
        summary="How to use checkin",
        card=card(text("**Keep in touch with `checkin`** 👋"), text(CHECKIN_USAGE)),
    )


def only_in_private() -> Rendered:
    return Rendered(
        summary="Check-ins are just for you",
        card=card(
            text(
                "Check-ins are just for you, so I'll keep them out of this conversation. Set them up in our "
                "1:1 chat: `checkin @Dan every 2 weeks`."
            )
        ),
    )
