from __future__ import annotations

import pytest

from handlers.slack import mrkdwn
from handlers.slack.parse import Addressed, KudosText, addressed, kudos_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "<@U0ANA|ana> thanks for the late-night fix #ownership",
            KudosText(("U0ANA",), (), "thanks for the late-night fix", ("ownership",)),
        ),
        (
            "<@U0ANA|ana>, <@U0BEN> <!subteam^S0D|@design> great #team-work launch #craft",
            KudosText(("U0ANA", "U0BEN"), ("S0D",), "great #team-work launch", ("team-work", "craft")),
        ),
        (
            "<@U0ANA> thanks for helping <@U0BEN>",
            KudosText(("U0ANA",), (), "thanks for helping <@U0BEN>", ()),
        ),
        (
            "<@W0ENT|ent> see <#C0GEN|general> &amp; more",
            KudosText(("W0ENT",), (), "see <#C0GEN> & more", ()),
        ),
        ("<@U0ANA|ana> <@U0ANA|ana> twice", KudosText(("U0ANA",), (), "twice", ())),
        ("thanks all", KudosText((), (), "thanks all", ())),
        ("", KudosText((), (), "", ())),
        ("<@U0ANA|ana>", KudosText(("U0ANA",), (), "", ())),
        ("<@U0ANA|ana> issue#42 fixed #1", KudosText(("U0ANA",), (), "issue#42 fixed", ("1",))),
        (
            "<@U0ANA|ana> see <https://x.example/a#anchor|the notes> #craft",
            KudosText(("U0ANA",), (), "see the notes (https://x.example/a#anchor)", ("craft",)),
        ),
        # An id longer than any Slack id is not a mention: no recipient, and it stays text.
        ("<@U" + "1" * 40 + "> hi", KudosText((), (), "@U" + "1" * 40 + " hi", ())),
    ],
)
def test_kudos_text(text: str, expected: KudosText) -> None:
    assert kudos_text(text) == expected


@pytest.mark.parametrize(
    ("text", "many", "expected"),
    [
        (
            "<@U0ANA|ana> <@U0BEN> the deck by Friday",
            True,
            Addressed(("U0ANA", "U0BEN"), None, "the deck by Friday"),
        ),
        ("<@U0ANA|ana> <@U0BEN> every week", False, Addressed(("U0ANA",), None, "<@U0BEN> every week")),
        ('"Jane at ACME" call back tomorrow', True, Addressed((), "Jane at ACME", "call back tomorrow")),
        ("“Jane” every 6 months", False, Addressed((), "Jane", "every 6 months")),
        ("the deck by Friday", True, Addressed((), None, "the deck by Friday")),
        ('"unclosed quote by Friday', True, Addressed((), None, '"unclosed quote by Friday')),
    ],
)
def test_addressed(text: str, many: bool, expected: Addressed) -> None:
    assert addressed(text, many=many) == expected


@pytest.mark.parametrize(
    ("command_text", "plain_text", "rendered"),
    [
        ("thanks <!channel>", "thanks @channel", "thanks @channel"),
        ("thanks <!here|here> and <!everyone>", "thanks here and @everyone", "thanks here and @everyone"),
        ("go <!subteam^S0D|@design>", "go @design", "go @design"),
        (
            "read <https://evil.example/login|the release notes>",
            "read the release notes (https://evil.example/login)",
            "read the release notes (https://evil.example/login)",
        ),
        ("see <https://x.example/>", "see https://x.example/", "see https://x.example/"),
        ("a &amp; b &lt;!channel&gt;", "a & b <!channel>", "a &amp; b &lt;!channel&gt;"),
        ("hi <@U0BEN|ben> in <#C0GEN|general>", "hi <@U0BEN> in <#C0GEN>", "hi <@U0BEN> in <#C0GEN>"),
        ("&amp;lt;", "&lt;", "&amp;lt;"),
    ],
)
def test_command_text_becomes_plain_and_renders_without_control_sequences(
    command_text: str, plain_text: str, rendered: str
) -> None:
    assert mrkdwn.plain(command_text) == plain_text
    assert mrkdwn.escape(plain_text) == rendered


@pytest.mark.parametrize(
    ("typed", "rendered"),
    [
        ("<!channel> <!here>", "&lt;!channel&gt; &lt;!here&gt;"),
        ("<https://evil.example|notes>", "&lt;https://evil.example|notes&gt;"),
        ("fish & chips > pie", "fish &amp; chips &gt; pie"),
        ("<@U0BEN> and <@U0BEN|ben>", "<@U0BEN> and &lt;@U0BEN|ben&gt;"),
        ("<#C0GEN> <!subteam^S1>", "<#C0GEN> &lt;!subteam^S1&gt;"),
    ],
)
def test_escape_keeps_only_our_own_mentions(typed: str, rendered: str) -> None:
    assert mrkdwn.escape(typed) == rendered


def test_links_we_make_cannot_be_broken_out_of() -> None:
    assert mrkdwn.link("https://acme.slack.com/archives/C1/p1", "this message") == (
        "<https://acme.slack.com/archives/C1/p1|this message>"
    )
    assert mrkdwn.link("https://x.example/|<!channel>", "this <message>") == "this &lt;message&gt;"
    assert mrkdwn.link("javascript:alert(1)", "x") == "x"
