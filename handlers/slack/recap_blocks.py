"""Block Kit for the weekly recap and /recap."""

from __future__ import annotations

import calendar

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.services.celebrations import Celebration
from bot.services.kudos import KudosView
from bot.services.recaps import Recap
from handlers.slack.blocks import Rendered, block_dicts, values_line
from handlers.slack.mrkdwn import escape, link

RECAP_USAGE = (
    "*See this week's recap so far:* `/recap preview` (only you see it)\n"
    "The recap itself is posted once a week in the channels an admin picked: kudos given, our values, "
    "loops closed and what's coming up."
)
QUOTE_CHARS = 160


def _people(user_ids: tuple[str, ...] | list[str]) -> str:
    mentions = [f"<@{user_id}>" for user_id in user_ids]
    if len(mentions) <= 1:
        return "".join(mentions)
    return ", ".join(mentions[:-1]) + " and " + mentions[-1]


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _highlight(kudos: KudosView) -> str:
    giver = f"<@{kudos.giver_id}>" if kudos.giver_id else "A former colleague"
    words = " ".join(kudos.message.split())
    if len(words) > QUOTE_CHARS:
        words = words[: QUOTE_CHARS - 1].rstrip() + "…"
    line = f"{giver} → {_people(kudos.recipient_ids)}: “{escape(words)}”"
    if kudos.permalink:
        line += f" {link(kudos.permalink, 'See it')}"
    return line


def _celebration(c: Celebration) -> str:
    day = f"{c.on:%a} {c.on.day} {calendar.month_abbr[c.on.month]}"
    if c.kind == "birthday":
        return f"<@{c.user_id}>'s birthday ({day})"
    return f"<@{c.user_id}>, {_plural(c.years, 'year')} with us ({day})"


def recap_post(recap: Recap) -> Rendered:
    period = f"{recap.first_day:%a} {recap.first_day.day} {calendar.month_abbr[recap.first_day.month]}"
    period += f" to {recap.last_day:%a} {recap.last_day.day} {calendar.month_abbr[recap.last_day.month]}"
    title = "This week so far" if recap.so_far else "This week at a glance"
    who = "everyone" if recap.scope == "workspace" else "this channel's members"
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=title)),
        ContextBlock(elements=[MarkdownTextObject(text=f"{period} · about {who}")]),
    ]
    if recap.quiet:
        text = "A quiet week. Who helped you out? A few words go a long way: `/kudos @name thanks for ...`"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    if recap.kudos:
        line = f":clap: *{_plural(recap.kudos, 'kudos', 'kudos')}*, thanking *{_plural(recap.people_thanked, 'person', 'people')}*."
        if recap.top_values:
            line += " Most mentioned: " + ", ".join(
                f"{values_line((name,))} ({count})" for name, count in recap.top_values
            )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
        for kudos in recap.highlights:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_highlight(kudos))]))
    loops: list[str] = []
    if recap.kept:
        share = recap.on_time_share
        on_time = f", {round(share * 100)}% on time" if share is not None else ""
        loops.append(f"*{_plural(recap.kept, 'promise')} kept*{on_time}")
    if recap.checkins_done:
        loops.append(f"*{_plural(recap.checkins_done, 'check-in')}* done")
    if loops:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=":handshake: " + "; ".join(loops) + ".")))
    if recap.overdue:
        if recap.overdue_names:
            names = ", ".join(
                f"<@{user_id}>" + (f" ({count})" if count > 1 else "")
                for user_id, count in recap.overdue_names
            )
            line = f":hourglass_flowing_sand: Still open past their time: {names}. A quick update keeps people calm."
        else:
            line = f":hourglass_flowing_sand: {_plural(recap.overdue, 'promise is', 'promises are')} past their time. A quick update keeps people calm."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line)]))
    if recap.joined:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":wave: Say hi to {_people(list(recap.joined))}, who joined this week."
                )
            )
        )
    if recap.coming_up:
        lines = ", ".join(_celebration(c) for c in recap.coming_up[:10])
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":tada: Coming up: {lines}.")))
    blocks.append(DividerBlock())
    blocks.append(
        ContextBlock(
            elements=[MarkdownTextObject(text="Thank someone for something this week: `/kudos @name ...`")]
        )
    )
    fallback = f"{title}: {_plural(recap.kudos, 'kudos', 'kudos')}, {_plural(recap.kept, 'promise')} kept"
    return fallback, block_dicts(*blocks)


def recap_help() -> Rendered:
    return "How to use /recap", block_dicts(
        SectionBlock(text=MarkdownTextObject(text="*The weekly recap* :bar_chart:")),
        SectionBlock(text=MarkdownTextObject(text=RECAP_USAGE)),
    )


def recap_unavailable() -> Rendered:
    text = (
        "I can't see this channel's members, so I can't recap it. Invite me with `/invite @ExtraMile`, "
        "then try `/recap preview` again."
    )
    return text, block_dicts(SectionBlock(text=MarkdownTextObject(text=text)))
