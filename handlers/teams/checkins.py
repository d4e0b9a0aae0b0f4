"""Check-ins in Microsoft Teams: `checkin @Dan every 2 weeks catch up`, `checkin list`, `checkin stop
@Dan`, and the Done / Tomorrow morning / Skip / Stop buttons. Parse, one service call, render.

Check-ins are private (nobody needs to see whom you mean to call), and Teams has no replies only one
person sees: outside the 1:1 chat, only the help is shown.
"""

from __future__ import annotations

from bot.services.checkins import CheckinRefused, CheckinRequest, CheckinStopped, CheckinView
from handlers.teams import checkin_cards
from handlers.teams.agent import Turn
from handlers.teams.cards import Rendered
from handlers.teams.digest_cards import in_place
from handlers.teams.promises import quoted_contact
from handlers.teams.said import Piece, Said


def one_addressed(pieces: tuple[Piece, ...]) -> tuple[str | None, str | None, str]:
    """(the person mentioned first, else a name in quotes, the words after them)."""
    rest = list(pieces)
    while rest and rest[0].mention is None and not rest[0].text.strip():
        rest.pop(0)
    user_id = None
    if rest and rest[0].mention is not None:
        user_id = rest.pop(0).mention.user_id  # type: ignore[union-attr]
    words = "".join(piece.mention.name if piece.mention else piece.text for piece in rest).strip()
    if user_id is not None:
        return user_id, None, words
    contact, words = quoted_contact(words)
    return None, contact, words


def _after_word(said: Said) -> tuple[Piece, ...]:
    """The pieces after the first word (`stop @Dan`: the mention)."""
    first, *others = said.pieces
    head = first.text.split(maxsplit=1)
    return (Piece(text=" " + head[1] if len(head) > 1 else " "), *others)


def checkin(turn: Turn) -> Rendered | None:
    services = turn.services
    user_id, contact, rest = one_addressed(turn.said.pieces)
    word = rest.split(maxsplit=1)[0].lower() if rest and not user_id and not contact else ""
    if not user_id and not contact and word in ("", "help"):
        return checkin_cards.checkin_help()
    if turn.channel_id is not None:
        return checkin_cards.only_in_private()
    if not user_id and not contact and word == "list":
        checkins, tz = services.checkins.active(team_id=turn.team_id, user_id=turn.user_id)
        return checkin_cards.listing(checkins, tz, turn.names)
    if not user_id and not contact and word == "stop":
        return _stop(turn, _after_word(turn.said))
    request = CheckinRequest(
        team_id=turn.team_id,
        requester_id=turn.user_id,
        dedupe_key=f"teams:{turn.activity_id}",
        contact_user_id=user_id,
        contact_name=contact,
        text=rest,
    )
    try:
        made = services.checkins.make(request)
    except CheckinRefused as error:
        return checkin_cards.refusal(error, turn.names)
    return checkin_cards.confirmation(made, turn.names)


def _stop(turn: Turn, pieces: tuple[Piece, ...]) -> Rendered:
    """`stop @Dan` or `stop "Jane at ACME"` stops theirs; anything else lists them, each with Stop."""
    services = turn.services
    checkins, tz = services.checkins.active(team_id=turn.team_id, user_id=turn.user_id)
    user_id, contact, words = one_addressed(pieces)
    name = (contact or words).strip().casefold()
    matching = [
        c
        for c in checkins
        if (user_id and c.contact_user_id == user_id)
        or (not user_id and name and (c.contact_name or "").casefold() == name)
    ]
    if not matching:
        return checkin_cards.listing(checkins, tz, turn.names)
    for found in matching:
        services.checkins.stop(team_id=turn.team_id, checkin_id=found.id, actor_id=turn.user_id)
    return checkin_cards.stopped(matching[0], turn.names)


# ---------------------------------------------------------------- the buttons


def _refused(turn: Turn, error: CheckinRefused) -> Rendered:
    if isinstance(error, CheckinStopped):
        return in_place(turn.data, checkin_cards.stopped(error.checkin, turn.names))
    return in_place(turn.data, checkin_cards.refusal(error, turn.names))


def _done(turn: Turn, *, skipped: bool) -> Rendered | None:
    checkin_id = turn.number("checkin_id")
    if checkin_id is None:
        return None
    services = turn.services
    try:
        done: CheckinView = services.checkins.done(
            team_id=turn.team_id,
            checkin_id=checkin_id,
            actor_id=turn.user_id,
            skipped=skipped,
            # One completion per reminder, however often its button is pressed.
            token=f"teams:{turn.data.get('occurrence', '')}",
        )
    except CheckinRefused as error:
        return _refused(turn, error)
    tz = services.promises.tz_of(turn.team_id, turn.user_id)
    return in_place(turn.data, checkin_cards.after_done(done, tz, turn.names, skipped=skipped))


def done(turn: Turn) -> Rendered | None:
    return _done(turn, skipped=False)


def skip(turn: Turn) -> Rendered | None:
    return _done(turn, skipped=True)


def snooze(turn: Turn) -> Rendered | None:
    checkin_id = turn.number("checkin_id")
    if checkin_id is None:
        return None
    services = turn.services
    # Pressed again the same day: the same snooze, not a second reminder.
    token = f"teams:{turn.data.get('occurrence', '')}:{services.clock.now():%Y-%m-%d}"
    try:
        at = services.checkins.snooze(
            team_id=turn.team_id, checkin_id=checkin_id, actor_id=turn.user_id, token=token
        )
    except CheckinRefused as error:
        return _refused(turn, error)
    tz = services.promises.tz_of(turn.team_id, turn.user_id)
    return in_place(turn.data, checkin_cards.snoozed(at, tz))


def stop(turn: Turn) -> Rendered | None:
    checkin_id = turn.number("checkin_id")
    if checkin_id is None:
        return None
    try:
        stopped = turn.services.checkins.stop(
            team_id=turn.team_id, checkin_id=checkin_id, actor_id=turn.user_id
        )
    except CheckinRefused as error:
        return _refused(turn, error)
    return in_place(turn.data, checkin_cards.stopped(stopped, turn.names))
