"""Odd things posted to /api/messages: bodies that are no activity, activities ExtraMile cannot answer,
huge bodies, words it does not know, markup in people's words and names, buttons it never made.
None may crash the server (a well-formed activity never gets a 500), and none may record anything it
should not."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterable
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.teams.web import MAX_BODY_BYTES
from storage.models import Kudos, OutboxMessage, Person, Promise, TeamsConversation
from tests.teams.conftest import ANA, BEN, BOT, GENERAL, GIA, TEAM, TeamsHarness, card_text

HELP_FIRST_LINE = "**ExtraMile** helps you go the extra mile for each other 👋"


def post_raw(
    teams: TeamsHarness, body: bytes | Iterable[bytes], *, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """Any bytes, as they are (an iterable is sent chunked, with no Content-Length)."""
    url = urllib.parse.urlsplit(teams.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        connection.request(
            "POST",
            "/api/messages",
            body=body,
            headers={"Content-Type": "application/json", **(headers or {})},
            encode_chunked=not isinstance(body, bytes),
        )
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    teams.settle()
    return response.status, json.loads(raw) if raw.strip() else None


def stored(teams: TeamsHarness) -> dict[str, int]:
    """How many rows of each kind ExtraMile holds for the Teams tenant."""
    counts = {}
    with teams.app.sessions() as session:
        for model in (Person, TeamsConversation, Kudos, Promise, OutboxMessage):
            counts[model.__tablename__] = session.scalar(
                select(func.count()).select_from(model).where(model.team_id == TEAM)
            )
    return counts


NOTHING = {"person": 0, "teams_conversation": 0, "kudos": 0, "promise": 0, "outbox": 0}


def replies(teams: TeamsHarness) -> list[str]:
    """The words of every card ExtraMile answered with, in order."""
    return [
        card_text(attachment["content"])
        for sent in teams.connector.sent()
        if sent.reply_to_id
        for attachment in sent.activity.get("attachments") or []
    ]


# Bodies that are no activity


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", "the body is not JSON"),
        (b"", "the body is not JSON"),
        (b"[" * 100_000, "the body is not JSON"),  # nested deeper than any parser will go
        (b"[]", "the body is not an activity"),
        (b'"message"', "the body is not an activity"),
        (b"null", "the body is not an activity"),
        (b"{}", "the body is not an activity"),
        (b'{"type": 5}', "the body is not an activity"),
        (
            b'{"type": "message", "text": ["kudos"], "conversation": {"id": "x"}}',
            "the body is not an activity",
        ),
        (b'{"type": "message", "from": "Gia", "conversation": {"id": "x"}}', "the body is not an activity"),
        (b'{"type": "message", "text": "help"}', "an activity needs a type and a conversation"),
    ],
)
def test_a_body_that_is_no_activity_is_a_400(teams: TeamsHarness, body: bytes, error: str) -> None:
    assert post_raw(teams, body) == (400, {"error": error})
    assert stored(teams) == NOTHING and teams.connector.calls == []


NOWHERE = "an activity needs a serviceUrl to answer to"


@pytest.mark.parametrize(
    ("service_url", "error"),
    [
        (None, NOWHERE),
        ("", "the body is not an activity"),  # the SDK's model refuses an empty one
        ("/v3/relative", NOWHERE),
        ("not a url", NOWHERE),
        ("ftp://127.0.0.1/", NOWHERE),
    ],
)
def test_an_activity_with_nowhere_to_answer_is_a_400(
    teams: TeamsHarness, service_url: str | None, error: str
) -> None:
    for activity in (teams.base("message", channel=GENERAL), teams.base("invoke", channel=GENERAL)):
        activity["text"] = "kudos top"
        activity["name"] = "adaptiveCard/action"
        if service_url is None:
            del activity["serviceUrl"]
        else:
            activity["serviceUrl"] = service_url
        answer = teams.post(activity)
        assert (answer.status, answer.body) == (400, {"error": error})
    assert stored(teams) == NOTHING and teams.connector.calls == []


def test_an_activity_from_no_tenant_is_ignored(teams: TeamsHarness) -> None:
    activity = teams.base("message", channel=GENERAL)
    del activity["conversation"]["tenantId"]
    activity["channelData"] = {"channel": {"id": GENERAL}}
    activity["text"] = "<at>ExtraMile</at> kudos top"

    assert teams.post(activity).status == 202

    press = teams.base("invoke")
    del press["conversation"]["tenantId"]
    del press["channelData"]
    press |= {"name": "adaptiveCard/action", "value": {"action": {"type": "Action.Execute", "verb": "x"}}}
    assert teams.post(press).status == 501  # no answer to give: Teams shows its own error
    assert stored(teams) == NOTHING and teams.connector.calls == []


def test_an_activity_with_a_tenant_but_no_sender_is_ignored(teams: TeamsHarness) -> None:
    activity = teams.base("message", channel=GENERAL)
    del activity["from"]
    activity["text"] = "kudos top"
    assert teams.post(activity).status == 202
    assert stored(teams) == NOTHING and teams.connector.calls == []


# Huge bodies


def _huge_activity(teams: TeamsHarness) -> bytes:
    activity = teams.base("message", channel=GENERAL)
    activity["text"] = "kudos " + "x" * MAX_BODY_BYTES
    return json.dumps(activity).encode()


def test_a_huge_body_is_a_413_with_or_without_its_length(teams: TeamsHarness) -> None:
    body = _huge_activity(teams)
    assert post_raw(teams, body) == (413, {"error": "request too large"})
    # Sent in chunks, its length never declared: read up to the limit, then refused.
    chunks = [body[start : start + 65_536] for start in range(0, len(body), 65_536)]
    assert post_raw(teams, chunks) == (413, {"error": "request too large"})
    assert stored(teams) == NOTHING and teams.connector.calls == []


def test_a_body_just_under_the_limit_is_read(teams: TeamsHarness) -> None:
    activity = teams.base("message", channel=GENERAL)
    activity["text"] = "<at>ExtraMile</at> hello"
    activity["entities"] = [
        {"type": "mention", "text": "<at>ExtraMile</at>", "mentioned": {"id": BOT, "name": "ExtraMile"}}
    ]
    activity["padding"] = "x" * (MAX_BODY_BYTES - len(json.dumps(activity)) - 100)
    body = json.dumps(activity).encode()
    assert MAX_BODY_BYTES - 200 < len(body) <= MAX_BODY_BYTES
    status, _ = post_raw(teams, [body[:1000], body[1000:]])
    assert status == 202
    assert [words.splitlines()[0] for words in replies(teams)] == [HELP_FIRST_LINE]


# Messages ExtraMile does not understand


@pytest.mark.parametrize("text", [None, "", "   ", "hello there", "KUDOSX thanks", "😀", "<p></p>", "&nbsp;"])
def test_words_it_does_not_know_get_the_help_card(teams: TeamsHarness, text: str | None) -> None:
    activity = teams.base("message")
    if text is not None:
        activity["text"] = text
    else:
        # A picture, with no words at all.
        activity["attachments"] = [{"contentType": "image/png", "contentUrl": "https://example.com/a.png"}]

    assert teams.post(activity).status == 202

    [help_words] = replies(teams)
    assert help_words.splitlines()[0] == HELP_FIRST_LINE
    # It is told where it was spoken to and who spoke; nothing else.
    assert stored(teams) | {"person": 0, "teams_conversation": 0} == NOTHING
    assert stored(teams)["person"] == 1


def test_only_mentioning_extramile_in_a_channel_gets_the_help_card(teams: TeamsHarness) -> None:
    teams.message("", channel=GENERAL)
    [help_words] = replies(teams)
    assert help_words.splitlines()[0] == HELP_FIRST_LINE


def test_odd_entities_and_zones_are_ignored_not_trusted(teams: TeamsHarness) -> None:
    activity = teams.base("message", channel=GENERAL)
    activity["text"] = "<at>ExtraMile</at> kudos <at>Ana Ames</at> thanks"
    activity["localTimezone"] = "Mars/Olympus_Mons"
    activity["entities"] = [
        {"type": "clientInfo", "timezone": "x" * 500},
        {"type": "mention", "text": "<at>ExtraMile</at>", "mentioned": {"id": BOT, "name": "ExtraMile"}},
        {"type": "mention", "text": "<at>Ana Ames</at>"},  # says nobody
        {"type": "mention", "mentioned": {"id": ANA, "name": "Ana Ames"}},  # no text to find
        {"type": "somethingNew", "value": [1, 2, 3]},
    ]
    assert teams.post(activity).status == 202
    # Nobody was really mentioned: nobody gets kudos; Gia's zone is the workspace's, not the junk.
    assert stored(teams)["kudos"] == 0
    assert [words.splitlines()[0] for words in replies(teams)] == [
        "Who is it for? Mention them first: `kudos @Ana thanks for the late-night fix`."
    ]
    assert teams.app.services.people.get(TEAM, GIA).tz == teams.app.services.workspaces.get(TEAM).zone


@pytest.mark.parametrize(
    "kind", ["conversationUpdate", "messageReaction", "typing", "event", "installationUpdate", "somethingNew"]
)
def test_other_kinds_of_activity_are_answered_quietly(teams: TeamsHarness, kind: str) -> None:
    activity = teams.base(kind, channel=GENERAL)
    activity["value"] = "odd"
    answer = teams.post(activity)
    assert answer.status in (200, 202)
    assert teams.connector.sent() == []
    assert stored(teams)["kudos"] == stored(teams)["outbox"] == 0


# People's words and names are never markup


def test_markup_in_words_and_names_stays_words(teams: TeamsHarness) -> None:
    name = "Gia <at>Ben Berg</at> **Boss** [x](https://evil.example)"
    activity = teams.base("message", channel=GENERAL)
    activity["from"]["name"] = name
    activity["text"] = (
        "<at>ExtraMile</at> kudos <at>Ana Ames</at> <b>great</b> **job** [click](https://evil.example) "
        "<at>Ben Berg</at> &lt;at&gt;"
    )
    activity["entities"].extend(
        [
            {"type": "mention", "text": "<at>ExtraMile</at>", "mentioned": {"id": BOT, "name": "ExtraMile"}},
            # Ben's <at> in the text is not an entity: he is not mentioned.
            {"type": "mention", "text": "<at>Ana Ames</at>", "mentioned": {"id": ANA, "name": "Ana Ames"}},
        ]
    )
    assert teams.post(activity).status == 202
    with teams.app.sessions() as session:
        [kudos] = session.scalars(select(Kudos).where(Kudos.team_id == TEAM)).all()
    assert kudos.message == "great **job** [click](https://evil.example) Ben Berg <at>"

    teams.deliver()
    [post] = teams.cards_to(GENERAL)
    [headline, quote] = post["body"]
    # The name is escaped in our own Markdown; the message is a TextRun, shown exactly as typed.
    assert headline["text"] == (
        r"👏 <at>Gia \<at\>Ben Berg\</at\> \*\*Boss\*\* \[x\]\(https://evil.example\)</at> "
        "gave kudos to <at>Ana Ames</at>"
    )
    assert quote["items"][0]["inlines"] == [{"type": "TextRun", "text": kudos.message, "italic": True}]
    assert [entity["mentioned"]["id"] for entity in post["msteams"]["entities"]] == [GIA, ANA]
    # Teams matches each <at> in the card to an entity by its text: Gia's is her escaped name.
    assert post["msteams"]["entities"][0]["text"] == headline["text"].split(" gave kudos")[0].removeprefix(
        "👏 "
    )
    [dm] = teams.cards_to(teams.chat_of(ANA) or "")
    assert dm["body"][0]["text"] == (
        r"✨ **Gia \<at\>Ben Berg\</at\> \*\*Boss\*\* \[x\]\(https://evil.example\)** gave you kudos"
    )
    assert teams.chat_of(BEN) is None  # Ben was never told anything


# Buttons ExtraMile never made


@pytest.mark.parametrize(
    "value",
    [
        {"action": {"type": "Action.Execute", "verb": "no.such.verb", "data": {}}},
        {"action": {"type": "Action.Execute", "data": {"promise_id": 1}}},
        {"action": "done"},
        "done",
        None,
    ],
)
def test_a_button_it_never_made_is_a_400_and_changes_nothing(teams: TeamsHarness, value: Any) -> None:
    activity = teams.base("invoke", channel=GENERAL)
    activity["name"] = "adaptiveCard/action"
    activity["value"] = value

    answer = teams.post(activity)

    assert answer.status == 400
    assert answer.body["value"] == "That button is no longer in use."
    assert teams.connector.sent() == [] and stored(teams)["kudos"] == stored(teams)["outbox"] == 0


def test_an_invoke_it_does_not_serve_is_501(teams: TeamsHarness) -> None:
    for name in (None, "signin/verifyState.nope", "task/fetch", "composeExtension/query"):
        activity = teams.base("invoke", user_id=BEN)
        if name is not None:
            activity["name"] = name
        activity["value"] = {"anything": True}
        assert teams.post(activity).status == 501
    assert teams.connector.sent() == [] and stored(teams)["kudos"] == stored(teams)["outbox"] == 0
