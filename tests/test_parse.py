from __future__ import annotations

import pytest

from handlers.slack.parse import KudosText, kudos_text


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
