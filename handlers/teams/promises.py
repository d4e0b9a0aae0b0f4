"""Promises in Microsoft Teams: `promise @Ben send the deck by Friday 3pm`, `promise list`, and the
buttons of the cards promise_cards builds. Parse, one service call, render (the rules are
PromiseService's, the same as Slack's).

Each button is safe to press twice: a second Done finds the promise closed and answers with how it
stands; a snooze is keyed by the hour (or, till tomorrow, by the day) it was asked in; the same new ETA
again changes nothing; a thank-you is given once per promise and person.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Literal

from bot.services.hours import zone_of
from bot.services.kudos import KudosRefused, KudosRequest
from bot.services.ports import PrivateReply
from bot.services.promises import (
    BadDueDate,
    NoteTooLong,
    PromiseClosed,
    PromiseRefused,
    PromiseRequest,
    PromiseView,
)
from handlers.teams import cards, promise_cards
from handlers.teams.agent import Turn
from handlers.teams.cards import Rendered
from handlers.teams.digest_cards import in_place
from handlers.teams.said import values

_LEADING_CONTACT = re.compile(r'^\s*["“”]([^"“”]{1,200})["“”]\s*')


def quoted_contact(words: str) -> tuple[str | None, str]:
    """`"Jane at ACME" call back tomorrow`: (the name in quotes, the rest)."""
    found = _LEADING_CONTACT.match(words)
    if found is None:
        return None, words
    return found.group(1).strip(), words[found.end() :].strip()


def promise(turn: Turn) -> Rendered | None:
    services = turn.services
    user_ids, rest = turn.said.addressed()
    word = rest.split(maxsplit=1)[0].lower() if rest and not user_ids else ""
    if not user_ids and word in ("", "help"):
        return promise_cards.promise_help()
    if not user_ids and word == "list":
        if turn.channel_id is not None:
            return promise_cards.list_in_private()
        lists = services.promises.lists(team_id=turn.team_id, user_id=turn.user_id)
        return promise_cards.promise_list(lists, turn.names, now=services.clock.now())
    contact, rest = quoted_contact(rest) if not user_ids else (None, rest)
    request = PromiseRequest(
        team_id=turn.team_id,
        promiser_id=turn.user_id,
        # Teams sends a message again under the same id.
        dedupe_key=f"teams:{turn.activity_id}",
        promisee_ids=user_ids,
        contact_name=contact,
        text=rest,
        channel_id=turn.channel_id,
        # In a channel the confirmation, with its time in the promiser's zone, comes in their 1:1 chat.
        confirm=turn.channel_id is not None,
    )
    try:
        made = services.promises.make(request)
    except PromiseRefused as error:
        return promise_cards.refusal(error, turn.names)
    if turn.channel_id is not None:
        return None
    return promise_cards.confirmation(made, turn.names)


# ---------------------------------------------------------------- the buttons


def _tz(turn: Turn) -> str:
    return turn.services.promises.tz_of(turn.team_id, turn.user_id)


def _stands(turn: Turn, promise: PromiseView) -> Rendered:
    """How a promise stands now (a button pressed on a card that is out of date)."""
    return in_place(turn.data, promise_cards.closed_reminder(promise, _tz(turn), turn.names))


def _refused(turn: Turn, error: PromiseRefused) -> Rendered:
    if isinstance(error, PromiseClosed):
        return _stands(turn, error.promise)
    return in_place(turn.data, promise_cards.refusal(error, turn.names))


def done(turn: Turn) -> Rendered | None:
    promise_id = turn.number("promise_id")
    if promise_id is None:
        return None
    try:
        closed = turn.services.promises.done(
            team_id=turn.team_id, promise_id=promise_id, actor_id=turn.user_id
        )
    except PromiseRefused as error:
        return _refused(turn, error)
    return _stands(turn, closed)


def _snooze(turn: Turn, until: Literal["hour", "morning"]) -> Rendered | None:
    promise_id = turn.number("promise_id")
    if promise_id is None:
        return None
    services = turn.services
    now = services.clock.now()
    # The same press again (or the same card pressed twice in one go) is one snooze, not two.
    token = f"{until}:{now:%Y-%m-%dT%H}" if until == "hour" else f"{until}:{now:%Y-%m-%d}"
    try:
        at = services.promises.snooze(
            team_id=turn.team_id, promise_id=promise_id, actor_id=turn.user_id, until=until, token=token
        )
    except PromiseRefused as error:
        return _refused(turn, error)
    return in_place(turn.data, promise_cards.snoozed(at, _tz(turn)))


def snooze_hour(turn: Turn) -> Rendered | None:
    return _snooze(turn, "hour")


def snooze_morning(turn: Turn) -> Rendered | None:
    return _snooze(turn, "morning")


def new_eta(turn: Turn) -> Rendered | None:
    """Save on the new-ETA form: its date and time, read in the zone the form showed them in."""
    promise_id = turn.number("promise_id")
    if promise_id is None:
        return None
    services, data = turn.services, turn.data
    slot = str(data.get("slot") or "")
    tz = str(data.get("tz") or "") or _tz(turn)
    picked = picked_time(data.get(promise_cards.ETA_DATE + slot), data.get(promise_cards.ETA_TIME + slot), tz)
    try:
        if picked is None:
            current = services.promises.get(team_id=turn.team_id, promise_id=promise_id)
            if current.status != "open":
                raise PromiseClosed(current)
            return _form_error(turn, current, tz, promise_cards.pick_a_time(), promise_cards.NEW_ETA)
        updated = services.promises.still_on_it(
            team_id=turn.team_id, promise_id=promise_id, actor_id=turn.user_id, new_due_at=picked
        )
    except BadDueDate as error:
        current = services.promises.get(team_id=turn.team_id, promise_id=promise_id)
        words = promise_cards.refusal_text(error, turn.names)
        return _form_error(turn, current, tz, words, promise_cards.NEW_ETA)
    except PromiseRefused as error:
        return _refused(turn, error)
    return in_place(turn.data, promise_cards.closed_reminder(updated, tz, turn.names))


def picked_time(day: object, clock: object, tz: str) -> datetime | None:
    """Input.Date's `2026-11-23` and Input.Time's `16:00` in `tz`; None unless both are real."""
    if not isinstance(day, str) or not isinstance(clock, str):
        return None
    try:
        local = datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(clock.strip()[:5]))
    except ValueError:
        return None
    return local.replace(tzinfo=zone_of(tz))


def cancel(turn: Turn) -> Rendered | None:
    """Cancel on the cancel form, with its optional note for the people waiting."""
    promise_id = turn.number("promise_id")
    if promise_id is None:
        return None
    services, data = turn.services, turn.data
    note = data.get(promise_cards.NOTE + str(data.get("slot") or ""))
    try:
        cancelled = services.promises.cancel(
            team_id=turn.team_id,
            promise_id=promise_id,
            actor_id=turn.user_id,
            note=note if isinstance(note, str) else None,
        )
    except NoteTooLong as error:
        current = services.promises.get(team_id=turn.team_id, promise_id=promise_id)
        words = promise_cards.refusal_text(error, turn.names)
        return _form_error(turn, current, _tz(turn), words, promise_cards.CANCEL)
    except PromiseRefused as error:
        return _refused(turn, error)
    return _stands(turn, cancelled)


def _form_error(turn: Turn, promise: PromiseView, tz: str, words: str, form: str) -> Rendered:
    return in_place(turn.data, promise_cards.form_error(promise, tz, turn.names, words, form=form))


def say_thanks(turn: Turn) -> Rendered | None:
    """Send on the thank-you form: kudos to the person who kept the promise, where it was made (or in
    the kudos channel), once per promise and person."""
    promise_id = turn.number("promise_id")
    if promise_id is None:
        return None
    services, data = turn.services, turn.data
    try:
        kept = services.promises.get(team_id=turn.team_id, promise_id=promise_id)
    except PromiseRefused as error:
        return _refused(turn, error)
    words = data.get(promise_cards.THANKS + str(data.get("slot") or ""))
    found, message = values(words if isinstance(words, str) else "")
    request = KudosRequest(
        team_id=turn.team_id,
        giver_id=turn.user_id,
        dedupe_key=f"teams:thanks:{kept.id}:{turn.user_id}",
        source="modal",
        user_ids=(kept.promiser_id,) if kept.promiser_id else (),
        message=message,
        values=found,
        channel_id=kept.origin_channel_id,
        reply=PrivateReply(user_id=turn.user_id),
    )
    try:
        services.kudos.give(request)
    except KudosRefused as error:
        return in_place(turn.data, cards.refusal(error, turn.names))
    return in_place(turn.data, promise_cards.thanks_sent(kept, turn.names))
