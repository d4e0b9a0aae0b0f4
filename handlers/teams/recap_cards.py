"""Adaptive Cards for the weekly recap and `recap`: Slack's recap_blocks in Teams' words, and the chart
as an image inside a card.

The weekly post @mentions the people it praises and greets (as Slack's does); a preview, answered where
it was asked, names nobody with a mention, so asking for one pings nobody.
"""

from __future__ import annotations

import base64
import calendar
import io

from bot.services.celebrations import Celebration
from bot.services.kudos import KudosView
from bot.services.ports import DeliveryError
from bot.services.recaps import Recap, RecapChart
from handlers.teams.cards import (
    Element,
    Names,
    Rendered,
    card,
    escape,
    mention_text,
    quote,
    simple,
    text,
)

RECAP_USAGE = (
    "**See this week's recap so far:** @mention me with `recap preview` in the channel.",
    "The recap itself is posted once a week in the channels an admin picked: kudos given, our values, "
    "loops closed and what's coming up.",
)
QUOTE_CHARS = 160
# Teams refuses a message much over 28 KB, the card's JSON included: the picture must fit well within.
MAX_IMAGE_BYTES = 20_000
CHART_COLORS = 32


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


class _People:
    """Who a recap names: @mentions in the weekly post, plain bold names in a preview."""

    def __init__(self, names: Names, *, notify: bool) -> None:
        self._names = names
        self._notify = notify
        self.mentioned: dict[str, str] = {}

    def one(self, user_id: str) -> str:
        name = self._names(user_id)
        if not self._notify:
            return f"**{escape(name)}**"
        self.mentioned[user_id] = name
        return mention_text(name)

    def all(self, user_ids: tuple[str, ...] | list[str]) -> str:
        shown = [self.one(user_id) for user_id in user_ids]
        if len(shown) <= 1:
            return "".join(shown)
        return ", ".join(shown[:-1]) + " and " + shown[-1]


def _highlight(kudos: KudosView, people: _People) -> list[Element]:
    giver = people.one(kudos.giver_id) if kudos.giver_id else "A former colleague"
    words = " ".join(kudos.message.split())
    if len(words) > QUOTE_CHARS:
        words = words[: QUOTE_CHARS - 1].rstrip() + "…"
    line = f"{giver} → {people.all(kudos.recipient_ids)}"
    if kudos.permalink:
        line += f" ([see it]({kudos.permalink}))"
    return [text(line, subtle=True), quote(words)]


def _celebration(c: Celebration, names: Names) -> str:
    day = f"{c.on:%a} {c.on.day} {calendar.month_abbr[c.on.month]}"
    who = f"**{escape(names(c.user_id))}**"
    if c.kind == "birthday":
        return f"{who}'s birthday ({day})"
    return f"{who}, {_plural(c.years, 'year')} with us ({day})"


def recap_post(recap: Recap, names: Names, *, notify: bool = True) -> Rendered:
    people = _People(names, notify=notify)
    period = f"{recap.first_day:%a} {recap.first_day.day} {calendar.month_abbr[recap.first_day.month]}"
    period += f" to {recap.last_day:%a} {recap.last_day.day} {calendar.month_abbr[recap.last_day.month]}"
    title = "This week so far" if recap.so_far else "This week at a glance"
    who = "everyone" if recap.scope == "workspace" else "this channel's members"
    body: list[Element] = [
        text(title, bold=True, size="Medium"),
        text(f"{period} · about {who}", subtle=True),
    ]
    if recap.quiet:
        body.append(
            text("A quiet week. Who helped you out? A few words go a long way: `kudos @name thanks for ...`")
        )
    if recap.kudos:
        line = f"👏 **{_plural(recap.kudos, 'kudos', 'kudos')}**, thanking **{_plural(recap.people_thanked, 'person', 'people')}**."
        if recap.top_values:
            line += " Most mentioned: " + ", ".join(
                f"{escape('#' + name)} ({count})" for name, count in recap.top_values
            )
        body.append(text(line))
        for kudos in recap.highlights:
            body.extend(_highlight(kudos, people))
    loops: list[str] = []
    if recap.kept:
        share = recap.on_time_share
        on_time = f", {round(share * 100)}% on time" if share is not None else ""
        loops.append(f"**{_plural(recap.kept, 'promise')} kept**{on_time}")
    if recap.checkins_done:
        loops.append(f"**{_plural(recap.checkins_done, 'check-in')}** done")
    if loops:
        body.append(text("🤝 " + "; ".join(loops) + "."))
    if recap.overdue:
        if recap.overdue_names:
            # Plain names: a recap points the way, it does not call anybody out.
            overdue = ", ".join(
                f"**{escape(names(user_id))}**" + (f" ({count})" if count > 1 else "")
                for user_id, count in recap.overdue_names
            )
            line = f"⏳ Still open past their time: {overdue}. A quick update keeps people calm."
        else:
            line = f"⏳ {_plural(recap.overdue, 'promise is', 'promises are')} past their time. A quick update keeps people calm."
        body.append(text(line, subtle=True))
    if recap.joined:
        body.append(text(f"👋 Say hi to {people.all(list(recap.joined))}, who joined this week."))
    if recap.coming_up:
        lines = ", ".join(_celebration(c, names) for c in recap.coming_up[:10])
        body.append(text(f"🎉 Coming up: {lines}."))
    body.append(text("Thank someone for something this week: `kudos @name ...`", subtle=True))
    summary = f"{title}: {_plural(recap.kudos, 'kudos', 'kudos')}, {_plural(recap.kept, 'promise')} kept"
    mentioned = tuple(people.mentioned.items())
    return Rendered(summary=summary, card=card(*body, mentions=mentioned), mentions=mentioned)


def recap_chart(chart: RecapChart, names: Names) -> Rendered:
    """The picture inside a card, as a data: URI (Teams has no upload for bots in channels)."""
    png = compact_png(chart.png)
    if len(png) > MAX_IMAGE_BYTES:
        raise DeliveryError("not_on_teams")  # too big for a Teams message: the post stands without it
    url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return Rendered(
        summary=chart.title,
        card=card(
            text(chart.title, bold=True),
            {"type": "Image", "url": url, "altText": chart.title, "size": "Stretch"},
        ),
    )


def compact_png(png: bytes) -> bytes:
    """The chart in a few colours (it has few), made smaller until it fits in a Teams message."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    for _ in range(4):
        buffer = io.BytesIO()
        image.quantize(colors=CHART_COLORS).save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= MAX_IMAGE_BYTES:
            break
        image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS)
    return buffer.getvalue()


def recap_help() -> Rendered:
    return Rendered(
        summary="How to use recap",
        card=card(text("**The weekly recap** 📊"), *(text(line) for line in RECAP_USAGE)),
    )


def recap_in_a_channel() -> Rendered:
    return simple(
        "A recap is about a channel's people, so ask in the channel: @mention me there with `recap preview`."
    )


def recap_unavailable() -> Rendered:
    return simple(
        "I can't see this channel's members, so I can't recap it. Add ExtraMile to the team "
        "(Manage team → Apps), then try `recap preview` again."
    )
