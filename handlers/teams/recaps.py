"""`recap preview` and `recap help` in Teams: the same rules as Slack's /recap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.ports import DeliveryError
from handlers.teams import recap_cards
from handlers.teams.cards import Rendered

if TYPE_CHECKING:
    from handlers.teams.agent import Turn


def recap(turn: Turn) -> Rendered:
    """Anybody may preview the recap of the channel they ask in (as in Slack); answered right there."""
    if turn.said.words.lower().split()[:1] != ["preview"]:
        return recap_cards.recap_help()
    if turn.channel_id is None:
        return recap_cards.recap_in_a_channel()
    try:
        found = turn.services.recaps.preview(team_id=turn.team_id, channel_id=turn.channel_id)
    except DeliveryError:
        return recap_cards.recap_unavailable()
    return recap_cards.recap_post(found, turn.names, notify=False)
