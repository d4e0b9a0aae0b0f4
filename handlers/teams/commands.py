"""Teams commands: words typed to ExtraMile (in a 1:1 chat, or @mentioning it in a channel), each parsed
and handed to a service, the same rules as Slack's slash commands."""

from __future__ import annotations

from bot.services.kudos import KudosRefused, KudosRequest, Period
from bot.services.ports import PrivateReply
from handlers.teams import (
    admin,
    cards,
    checkin_cards,
    checkins,
    people,
    people_cards,
    promise_cards,
    promises,
    recaps,
)
from handlers.teams.agent import Command, Turn
from handlers.teams.cards import Rendered
from handlers.teams.said import values

_PERIODS: dict[str, Period] = {"week": "week", "month": "month", "all": "all", "ever": "all"}

HELP = (
    "Here's what I can do. Type it here, or @mention me in a channel:\n\n"
    "- `kudos @Ana thanks for the demo #teamwork`: say thanks where everyone can see it\n"
    "- `kudos top` (or `top month`, `top all`): who's been thanked\n"
    "- `promise @Ben send the deck by Friday 3pm`: tell Ben you'll get back to him, and be reminded\n"
    "- `checkin @Dan every 2 weeks`: a nudge to keep in touch (`checkin help` for more)\n"
    "- `birthday 14 March`, `anniversary 2021-04-12`: be celebrated (never your age); `birthday list`\n"
    "- `recap preview`: this week's recap so far, in the channel you ask in\n"
    "- `settings`: ExtraMile's settings for your team (admins)\n"
    "- On any message, ⋯ → **Give kudos** or **Promise a follow-up**\n"
    "- `help`: this list"
)


def help_card(turn: Turn) -> Rendered:
    return cards.Rendered(
        summary="What ExtraMile can do",
        card=cards.card(
            cards.text("**ExtraMile** helps you go the extra mile for each other 👋"), cards.text(HELP)
        ),
    )


def kudos(turn: Turn) -> Rendered | None:
    services = turn.services
    user_ids, rest = turn.said.addressed()
    words = rest.split()
    first = words[0].lower() if words else ""
    if not user_ids and first in ("top", "leaderboard", "leaders"):
        period = _PERIODS.get(words[1].lower() if len(words) > 1 else "week")
        if period is None:
            return cards.simple("Try `kudos top week`, `kudos top month` or `kudos top all`.")
        board = services.kudos.leaderboard(team_id=turn.team_id, viewer_id=turn.user_id, period=period)
        return cards.leaderboard(board, turn.names)
    if not user_ids and first in ("", "help"):
        return cards.Rendered(summary="How to give kudos", card=cards.card(cards.text(cards.KUDOS_USAGE)))
    settings = services.workspaces.get(turn.team_id)
    if turn.channel_id is None and not settings.kudos_channel_id:
        return cards.kudos_need_a_channel()
    found, message = values(rest)
    request = KudosRequest(
        team_id=turn.team_id,
        giver_id=turn.user_id,
        # Teams gives every message its own id, and sends the same id again when it retries.
        dedupe_key=f"teams:{turn.activity_id}",
        source="command",
        user_ids=user_ids,
        message=message,
        values=found,
        channel_id=turn.channel_id,
        reply=PrivateReply(user_id=turn.user_id),
    )
    try:
        services.kudos.give(request)
    except KudosRefused as error:
        return cards.refusal(error, turn.names)
    # Recorded: the post, the DMs and the confirmation wait in the outbox.
    return None


COMMANDS: dict[str, Command] = {
    "kudos": kudos,
    "birthday": people.birthday,
    "anniversary": people.anniversary,
    "recap": recaps.recap,
    "promise": promises.promise,
    "checkin": checkins.checkin,
    "help": help_card,
    "settings": admin.settings_card,
}

ACTIONS: dict[str, Command] = {
    people_cards.WAVE: people.wave,
    people_cards.SAVE_DATES: people.save_dates,
    admin.SAVE: admin.save,
    promise_cards.DONE: promises.done,
    promise_cards.SNOOZE_HOUR: promises.snooze_hour,
    promise_cards.SNOOZE_MORNING: promises.snooze_morning,
    promise_cards.NEW_ETA: promises.new_eta,
    promise_cards.CANCEL: promises.cancel,
    promise_cards.SAY_THANKS: promises.say_thanks,
    checkin_cards.DONE: checkins.done,
    checkin_cards.SNOOZE: checkins.snooze,
    checkin_cards.SKIP: checkins.skip,
    checkin_cards.STOP: checkins.stop,
}
