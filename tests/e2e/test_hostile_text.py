"""Text a person types can never make the bot broadcast (`<!channel>`) or show a disguised link."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from handlers.slack.fake_api import Call
from tests.conftest import ANA, BEN, GENERAL, GIVER, Harness, payload, texts
from tests.e2e.test_kudos_interactive import submission
from tests.e2e.test_promises import tick

HOSTILE = "thanks <!channel> <!here|here> <!everyone> <https://evil.example/login|the release notes>"
_SEQUENCE = re.compile(r"<([^<>]*)>")


def live_markup(call: Call, *, permalink_host: str = "acme.slack.com") -> list[str]:
    """Control sequences in what the bot sent that are not ours: mentions of people and channels,
    Slack's own date formatting, and links to our workspace's permalinks are ours."""
    everything = str(call.params.get("text") or "") + " " + texts(call.params.get("blocks") or [])
    found = []
    for sequence in _SEQUENCE.findall(everything):
        if re.fullmatch(r"[@#][A-Z0-9]+", sequence) or sequence.startswith("!date^"):
            continue
        if sequence.startswith(f"https://{permalink_host}/"):
            continue
        found.append(sequence)
    return found


def sent(h: Harness) -> list[Call]:
    return [
        call
        for method in ("chat.postMessage", "chat.postEphemeral", "response_url")
        for call in h.fake.calls_to(method)
    ]


def test_kudos_text_cannot_broadcast_or_disguise_a_link(harness: Harness) -> None:
    h = harness
    h.command(f"<@{ANA}|ana> {HOSTILE}")

    [post] = h.posts(GENERAL)
    shown = texts(post["blocks"])
    assert "@channel" in shown and "@everyone" in shown
    assert "the release notes (https://evil.example/login)" in shown
    assert [live_markup(call) for call in sent(h)] == [[] for _ in sent(h)]
    assert h.posts(ANA), "the recipient's DM went out, escaped too"


def test_kudos_form_text_is_plain_text(harness: Harness) -> None:
    h = harness
    h.interaction(
        submission("V0HOSTILE", users=[ANA], message="<!here> look at <https://evil.example|this> & that")
    )

    [post] = h.posts(GENERAL)
    assert "&lt;!here&gt; look at &lt;https://evil.example|this&gt; &amp; that" in texts(post["blocks"])
    assert all(live_markup(call) == [] for call in sent(h))


def test_promise_and_check_in_messages_escape_what_was_typed(harness: Harness) -> None:
    h = harness
    h.command(
        f"<@{ANA}|ana> send <!channel> the deck <https://evil.example|here> by Friday 3pm", name="/promise"
    )
    h.command('"Jane <!here> at ACME" call back tomorrow 10am', name="/promise")
    h.command(
        f"<@{BEN}|ben> every 2 weeks ask about <!everyone> <https://evil.example|the plan>", name="/checkin"
    )
    tick(h, datetime(2026, 12, 3, 9, 0, tzinfo=UTC))  # the check-in and every reminder are due by now

    kinds = {call.params.get("channel") for call in h.fake.calls_to("chat.postMessage")}
    assert {ANA, GIVER} <= kinds
    heard = texts(h.posts(ANA)[0]["blocks"])
    assert "send @channel the deck here (https://evil.example)" in heard
    assert any("Jane @here at ACME" in texts(dm["blocks"]) for dm in h.posts(GIVER))
    assert any(
        "ask about @everyone the plan (https://evil.example)" in texts(dm["blocks"]) for dm in h.posts(GIVER)
    )
    assert all(live_markup(call) == [] for call in sent(h))


def test_a_newcomers_display_name_is_text(harness: Harness) -> None:
    h = harness
    h.fake.add_user("U0NEW", "<!channel> <https://evil.example|admin>")
    envelope: dict[str, Any] = payload("team_join", event_id="EvHostile")
    envelope["event"]["user"] = {**envelope["event"]["user"], "id": "U0NEW", "name": "new"}
    envelope["event"]["user"]["profile"] = {
        **envelope["event"]["user"]["profile"],
        "display_name": "<!channel> <https://evil.example|admin>",
    }
    h.event(envelope)

    [welcome] = h.posts("U0NEW")
    assert "&lt;!channel&gt; &lt;https://evil.example|admin&gt;" in texts(welcome["blocks"])
    assert all(live_markup(call) == [] for call in sent(h))


def test_a_refusal_that_quotes_the_input_escapes_it(harness: Harness) -> None:
    reply = harness.command(f"<@{ANA}|ana> call back by 3/4 <!channel> &lt;!here&gt;", name="/promise")

    shown = texts(reply["blocks"])
    assert "could be two dates" in shown
    assert "@channel &lt;!here&gt;" in shown and "<!" not in str(reply)
