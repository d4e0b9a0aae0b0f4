"""Block Kit for check-ins."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

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
from handlers.slack.blocks import Rendered, block_dicts, quote
from handlers.slack.mrkdwn import escape
from handlers.slack.promise_blocks import when

DONE = "checkin_done"
SNOOZE = "checkin_snooze"
SKIP = "checkin_skip"
STOP = "checkin_stop"
CHECKIN_ACTIONS = (DONE, SNOOZE, SKIP, STOP)

CHECKIN_USAGE = (
    "*Keep in touch:* `/checkin @dan every 2 weeks catch up on the roadmap`\n"
    '*Someone outside Slack:* `/checkin "Jane at ACME" every 6 months send something useful`\n'
    "*See them:* `/checkin list` · *Stop one:* `/checkin stop @dan` (or `/checkin stop` to pick)\n"
    f"*How often* can be {EXAMPLES}."
)


def who(checkin: CheckinView) -> str:
    return (
        f"<@{checkin.contact_user_id}>" if checkin.contact_user_id else escape(checkin.contact_name or "them")
    )


def every(checkin: CheckinView) -> str:
    if checkin.every_count == 1:
        return f"every {checkin.every_unit}"
    if checkin.every_unit == "month" and checkin.every_count % 12 == 0:
        years = checkin.every_count // 12
        return "every year" if years == 1 else f"every {years} years"
    return f"every {checkin.every_count} {checkin.every_unit}s"


def _button(text: str, action_id: str, checkin: CheckinView, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=text, action_id=action_id, value=str(checkin.id), style=style)


def reminder_buttons(checkin: CheckinView) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"checkin_actions_{checkin.id}",
        elements=[
            _button("Done", DONE, checkin, "primary"),
            _button("Tomorrow morning", SNOOZE, checkin),
            _button("Skip this time", SKIP, checkin),
        ],
    )


def confirmation(made: MadeCheckin) -> Rendered:
    checkin = made.checkin
    text = f"Done. I'll nudge you to check in with {who(checkin)} {every(checkin)}, starting {when(checkin.next_at, made.tz)} (your time)."
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    if checkin.note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Note: {escape(checkin.note)}")]))
    blocks.append(
        ActionsBlock(block_id=f"checkin_confirm_{checkin.id}", elements=[_button("Stop", STOP, checkin)])
    )
    return text, block_dicts(*blocks)


def notice(item: CheckinNotice) -> Rendered:
    checkin = item.checkin
    text = f"Time to check in with {who(checkin)}" + (" (snoozed from yesterday)." if item.snoozed else ".")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f":wave: {text}"))]
    if checkin.note:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=quote(checkin.note))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"You asked for this {every(checkin)}.")]))
    blocks.append(reminder_buttons(checkin))
    return text, block_dicts(*blocks)


def after_done(checkin: CheckinView, tz: str, *, skipped: bool) -> Rendered:
    lead = ":fast_forward: Skipped." if skipped else ":white_check_mark: Nice, that's the loop closed."
    text = f"{lead} Next check-in with {who(checkin)}: {when(checkin.next_at, tz)}."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def snoozed(at: datetime, tz: str) -> Rendered:
    text = f":zzz: I'll remind you again {when(at, tz)}."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def stopped(checkin: CheckinView) -> Rendered:
    text = f"Stopped: no more check-in reminders for {who(checkin)}."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def listing(checkins: list[CheckinView], tz: str) -> Rendered:
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Your check-ins"))]
    if not checkins:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text="None yet. " + CHECKIN_USAGE.splitlines()[0]))
        )
    for checkin in checkins[:40]:
        line = f"{who(checkin)}, {every(checkin)}. Next: {when(checkin.next_at, tz)}"
        if checkin.note:
            line += f"\n_{escape(checkin.note)}_"
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=line), accessory=_button("Stop", STOP, checkin))
        )
    return "Your check-ins", block_dicts(*blocks)


def refusal(error: CheckinRefused) -> Rendered:
    match error:
        case NoContact():
            text = 'Who would you like to keep in touch with? `/checkin @dan every 2 weeks`, or a name in quotes: `/checkin "Jane at ACME" every 6 months`.'
        case SelfCheckin():
            text = "Checking in with yourself is a fine habit, but I'm built for nudging you towards others. Who else?"
        case BotContact(user_id=user_id):
            text = f"<@{user_id}> is a bot, and bots don't need checking in on. Who's the person behind it?"
        case InactiveContact(user_id=user_id):
            text = f"I can't find <@{user_id}> in this workspace, or they're no longer active. Check in with someone who's here?"
        case CheckinBusy(retry_after=retry_after):
            wait = f"in {max(int(retry_after or 0), 1)} seconds" if retry_after else "in a minute"
            text = f"Slack is busy right now, so nothing was saved. Please try again {wait}."
        case CheckinTooLong(length=length, limit=limit):
            text = f"That's {length:,} characters; up to {limit:,} fit. The short version is plenty."
        case BadInterval():
            text = f"How often? Start with `every`: {EXAMPLES} (at most every 365 days, 104 weeks or 36 months apart)."
        case CheckinNotFound():
            text = "I can't find that check-in any more. `/checkin list` shows yours."
        case NotYourCheckin():
            text = "Only the person who set up that check-in can change it. Set up your own with `/checkin @name every 2 weeks`."
        case CheckinStopped(checkin=checkin):
            text = f"The check-in with {who(checkin)} was already stopped. Start it again with `/checkin {who(checkin)} every 2 weeks`."
        case _:
            text = "That didn't work, and nothing changed. Try again, or see `/checkin help`."
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))


def checkin_help() -> Rendered:
    return "How to use /checkin", block_dicts(
        SectionBlock(text=MarkdownTextObject(text="*Keep in touch with `/checkin`* :wave:")),
        SectionBlock(text=MarkdownTextObject(text=CHECKIN_USAGE)),
    )
