"""The three ways a listener answers the person who asked, with a rendered (text, blocks) pair."""

from __future__ import annotations

from slack_bolt import Ack, Respond

from handlers.slack.blocks import Rendered


def ack_with(ack: Ack, rendered: Rendered) -> None:
    """The acknowledgement itself carries the reply (shown only to the person, within 3 s)."""
    text, block_list = rendered
    ack(text=text, blocks=block_list)


def tell_privately(respond: Respond, rendered: Rendered) -> None:
    """A private reply through response_url: it works even where the bot cannot post."""
    text, block_list = rendered
    respond(text=text, blocks=block_list, response_type="ephemeral", replace_original=False)


def replace_with(respond: Respond, rendered: Rendered) -> None:
    """The message whose button was clicked becomes this."""
    text, block_list = rendered
    respond(text=text, blocks=block_list, replace_original=True)
