from __future__ import annotations

import pytest

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
            KudosText(("W0ENT",), (), "see <#C0GEN|general> &amp; more", ()),
        ),
        ("<@U0ANA|ana> <@U0ANA|ana> twice", KudosText(("U0ANA",), (), "twice", ())),
        ("thanks all", KudosText((), (), "thanks all", ())),
        ("", KudosText((), (), "", ())),
        ("<@U0ANA|ana>", KudosText(("U0ANA",), (), "", ())),
        ("<@U0ANA|ana> issue#42 fixed #1", KudosText(("U0ANA",), (), "issue#42 fixed", ("1",))),
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
