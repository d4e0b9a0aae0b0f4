"""The message actions, "Give kudos" and "Promise a follow-up" from a message's ⋯ menu: the form Teams
asks for (composeExtension/fetchTask), and what sending it does (composeExtension/submitAction)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from handlers.teams.manifest import GIVE_KUDOS_ACTION, PROMISE_ACTION
from storage.models import Kudos, KudosRecipient, OutboxMessage, Promise, TeamsConversation
from tests.teams.conftest import (
    ANA,
    BEN,
    GENERAL,
    GIA,
    NAMES,
    TEAM,
    TENANT,
    Answer,
    TeamsHarness,
    card_text,
)

CARL = "29:1carl-cole"  # in the tenant, not in the General channel's team
MESSAGE_ID = "1700000000555"
LINK = f"https://teams.microsoft.com/l/message/{GENERAL}/{MESSAGE_ID}?tenantId={TENANT}"
HUMAN_CHAT = "19:1gia_1ana@unq.gbl.spaces"  # a 1:1 chat between two people: ExtraMile is not in it


def aad(user_id: str) -> str:
    """The fake connector's Entra object id for a member added without one (documented as stable)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"teams-user:{user_id}"))


def message_payload(
    author: str | None = ANA,
    *,
    content: str = "<p>Shipped the <b>demo</b> &amp; the docs</p>",
    link: str | None = LINK,
    name: str | None = None,
) -> dict[str, Any]:
    """The message the action is taken on, as Teams describes it (Graph's chatMessage shape)."""
    sender: dict[str, Any] = {"user": None, "application": None}
    if author is not None:
        sender["user"] = {
            "id": aad(author),
            "displayName": name or NAMES.get(author, "Carl Cole"),
            "userIdentityType": "aadUser",
        }
    return {
        "id": MESSAGE_ID,
        "replyToId": None,
        "createdDateTime": "2026-11-18T14:00:00.000Z",
        "messageType": "message",
        "importance": "normal",
        "locale": "en-us",
        "linkToMessage": link,
        "from": sender,
        "body": {"contentType": "html", "content": content},
        "attachments": [],
        "mentions": [],
        "reactions": [],
    }


def invoke(
    teams: TeamsHarness,
    name: str,
    command_id: str,
    *,
    data: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
    user_id: str = GIA,
    channel: str | None = GENERAL,
    conversation_id: str | None = None,
    activity_id: str | None = None,
) -> Answer:
    activity = teams.base("invoke", user_id=user_id, channel=channel)
    activity["from"]["aadObjectId"] = aad(user_id)
    if conversation_id is not None:
        activity["conversation"]["id"] = conversation_id
    if activity_id is not None:
        activity["id"] = activity_id
    activity["name"] = name
    activity["value"] = {
        "commandId": command_id,
        "commandContext": "message",
        "context": {"theme": "default"},
        "messagePayload": payload if payload is not None else message_payload(),
    }
    if data is not None:
        activity["value"]["data"] = data
    return teams.post(activity)


def fetch(teams: TeamsHarness, command_id: str, **kwargs: Any) -> Answer:
    return invoke(teams, "composeExtension/fetchTask", command_id, **kwargs)


def submit(teams: TeamsHarness, command_id: str, data: dict[str, Any], **kwargs: Any) -> Answer:
    return invoke(teams, "composeExtension/submitAction", command_id, data=data, **kwargs)


def dialog_card(answer: Answer) -> dict[str, Any]:
    """The form of a dialog that stays open (a `continue` task)."""
    assert answer.status == 200, answer.body
    task = answer.body["task"]
    assert task["type"] == "continue"
    assert task["value"]["card"]["contentType"] == "application/vnd.microsoft.card.adaptive"
    content: dict[str, Any] = task["value"]["card"]["content"]
    return content


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {element["id"]: element for element in card["body"] if str(element["type"]).startswith("Input.")}


def form_id(card: dict[str, Any]) -> str:
    [button] = card["actions"]
    assert button["type"] == "Action.Submit"
    value: str = button["data"]["form"]
    return value


def error_line(card: dict[str, Any]) -> str:
    first = card["body"][0]
    assert first["type"] == "TextBlock" and first["color"] == "Attention", card["body"][0]
    text: str = first["text"]
    return text


def kudos_rows(teams: TeamsHarness) -> list[Kudos]:
    with teams.app.sessions() as session:
        return list(session.scalars(select(Kudos).where(Kudos.team_id == TEAM)))


def promise_rows(teams: TeamsHarness) -> list[Promise]:
    with teams.app.sessions() as session:
        return list(session.scalars(select(Promise).where(Promise.team_id == TEAM)))


def member_lookups(teams: TeamsHarness) -> list[str]:
    return [call.path for call in teams.connector.calls_of("members")]


# Give kudos


def test_give_kudos_opens_a_form_with_the_author_and_a_link_to_the_message(teams: TeamsHarness) -> None:
    answer = fetch(teams, GIVE_KUDOS_ACTION, activity_id="f:open-1")

    card = dialog_card(answer)
    assert answer.body["task"]["value"]["title"] == "Give kudos"
    fields = inputs(card)
    assert fields["people"]["choices"] == [{"title": "Ana Ames", "value": aad(ANA)}]
    assert fields["people"]["value"] == aad(ANA) and fields["people"]["isMultiSelect"] is True
    assert fields["people"]["choices.data"]["dataset"].startswith("graph.microsoft.com/users")
    # The message is the reason: words are welcome, not required.
    assert fields["message"]["value"] == "" and "isRequired" not in fields["message"]
    assert card_text(card).splitlines()[:2] == [
        f"About [this message]({LINK})",
        "Shipped the demo & the docs",  # its words, without the HTML, exactly as written
    ]
    assert form_id(card) == "f:open-1"
    # Opening a form asks Teams nothing and records nothing.
    assert teams.connector.calls == [] and kudos_rows(teams) == []


def test_sending_the_form_gives_kudos_once_and_posts_them(teams: TeamsHarness) -> None:
    card = dialog_card(fetch(teams, GIVE_KUDOS_ACTION))
    data = {"form": form_id(card), "people": aad(ANA), "message": "thanks for the demo"}

    answer = submit(teams, GIVE_KUDOS_ACTION, data)

    assert (answer.status, answer.body) == (200, {})  # the dialog closes
    # The picker's Entra id became Ana's Teams id through the team's roster.
    assert member_lookups(teams) == [f"/v3/conversations/{GENERAL}/members/{aad(ANA)}"]
    [kudos] = kudos_rows(teams)
    assert (kudos.giver_id, kudos.message, kudos.source, kudos.reason_link) == (
        GIA,
        "thanks for the demo",
        "shortcut",
        LINK,
    )
    with teams.app.sessions() as session:
        assert session.scalars(
            select(KudosRecipient.user_id).where(KudosRecipient.kudos_id == kudos.id)
        ).all() == [ANA]
    # A double click, or Teams sending it again: the same form is the same kudos.
    assert submit(teams, GIVE_KUDOS_ACTION, data).body == {}
    assert len(kudos_rows(teams)) == 1

    teams.deliver()
    [post] = teams.cards_to(GENERAL)
    words = card_text(post)
    assert "gave kudos to <at>Ana Ames</at>" in words and "thanks for the demo" in words
    assert f"About [this message]({LINK})" in words
    assert {entity["mentioned"]["id"] for entity in post["msteams"]["entities"]} == {GIA, ANA}
    assert teams.chat_of(GIA) is None  # nothing more to tell Gia: she sees it happen


def test_kudos_without_words_point_at_the_message(teams: TeamsHarness) -> None:
    card = dialog_card(fetch(teams, GIVE_KUDOS_ACTION))
    submit(teams, GIVE_KUDOS_ACTION, {"form": form_id(card), "people": aad(ANA), "message": ""})

    [kudos] = kudos_rows(teams)
    assert kudos.message == "" and kudos.reason_link == LINK
    teams.deliver()
    [post] = teams.cards_to(GENERAL)
    assert f"For [this message]({LINK})" in card_text(post)


def test_a_refusal_keeps_the_form_open_with_the_reason_and_what_was_typed(teams: TeamsHarness) -> None:
    teams.app.services.workspaces.save(
        teams.app.services.workspaces.get(TEAM).model_copy(update={"kudos_values": ("ownership", "teamwork")})
    )
    card = dialog_card(fetch(teams, GIVE_KUDOS_ACTION, payload=message_payload(GIA)))
    # Her own message: the form does not suggest thanking herself.
    assert inputs(card)["people"]["choices"] == [] and inputs(card)["people"]["value"] == ""
    assert [choice["value"] for choice in inputs(card)["values"]["choices"]] == ["ownership", "teamwork"]

    data = {"form": form_id(card), "people": aad(GIA), "message": "well done me", "values": "ownership"}
    again = dialog_card(submit(teams, GIVE_KUDOS_ACTION, data, payload=message_payload(GIA)))

    assert error_line(again) == (
        "Kudos are for thanking others, so you can't give them to yourself. Who helped you out today?"
    )
    assert inputs(again)["message"]["value"] == "well done me"
    assert inputs(again)["values"]["value"] == "ownership"
    assert form_id(again) == form_id(card)
    # Herself needs no lookup; nothing was recorded or sent.
    assert teams.connector.calls == [] and kudos_rows(teams) == []


def test_nobody_picked_is_refused_in_the_forms_words(teams: TeamsHarness) -> None:
    card = dialog_card(fetch(teams, GIVE_KUDOS_ACTION))
    # An id that is not a person's id never reaches the connector (it would be part of a URL).
    data = {"form": form_id(card), "people": "../../v3/conversations,", "message": "thanks"}
    again = dialog_card(submit(teams, GIVE_KUDOS_ACTION, data))
    assert error_line(again) == "Who are you thanking? Pick at least one person."
    assert teams.connector.calls == [] and kudos_rows(teams) == []


def test_someone_extramile_cannot_see_is_named_and_nothing_is_sent(teams: TeamsHarness) -> None:
    teams.connector.add_member(CARL, "Carl Cole", tenant_id=TENANT)  # not in the team
    card = dialog_card(fetch(teams, GIVE_KUDOS_ACTION, payload=message_payload(CARL)))
    data = {"form": form_id(card), "people": aad(CARL), "message": "thanks"}

    again = dialog_card(submit(teams, GIVE_KUDOS_ACTION, data, payload=message_payload(CARL)))

    assert error_line(again).startswith("I can't find **Carl Cole** from here, so nothing was sent.")
    assert inputs(again)["people"]["choices"] == [{"title": "Carl Cole", "value": aad(CARL)}]
    assert member_lookups(teams) == [f"/v3/conversations/{GENERAL}/members/{aad(CARL)}"]
    assert kudos_rows(teams) == []


def test_teams_not_answering_the_lookup_is_said_and_nothing_is_sent(teams: TeamsHarness) -> None:
    card = dialog_card(fetch(teams, GIVE_KUDOS_ACTION))
    teams.connector.fail_next("members", 429, retry_after=3)
    again = dialog_card(
        submit(teams, GIVE_KUDOS_ACTION, {"form": form_id(card), "people": aad(ANA), "message": "thanks"})
    )
    assert error_line(again) == (
        "Teams is busy right now, so your kudos weren't sent. Please try again in 3 seconds."
    )
    assert kudos_rows(teams) == []


def test_in_a_chat_without_a_kudos_channel_the_form_says_where_kudos_go(teams: TeamsHarness) -> None:
    answer = fetch(teams, GIVE_KUDOS_ACTION, channel=None, conversation_id=HUMAN_CHAT)

    assert answer.status == 200
    assert answer.body == {
        "task": {
            "type": "message",
            "value": "Kudos are for everyone to see, so they need a channel. Use Give kudos on a message in "
            "a team channel where ExtraMile is added, or ask your admin to pick a kudos channel.",
        }
    }
    assert teams.connector.calls == [] and kudos_rows(teams) == []


def test_in_a_chat_between_people_kudos_go_to_the_kudos_channel(teams: TeamsHarness) -> None:
    teams.message("help", channel=GENERAL, user_id=BEN)  # ExtraMile now knows the channel
    teams.app.services.workspaces.save(
        teams.app.services.workspaces.get(TEAM).model_copy(update={"kudos_channel_id": GENERAL})
    )
    card = dialog_card(fetch(teams, GIVE_KUDOS_ACTION, channel=None, conversation_id=HUMAN_CHAT))
    data = {"form": form_id(card), "people": aad(ANA), "message": "thanks for the review"}
    teams.connector.clear_calls()

    assert submit(teams, GIVE_KUDOS_ACTION, data, channel=None, conversation_id=HUMAN_CHAT).body == {}

    # Ana was looked up in the kudos channel's team: ExtraMile is not in Gia and Ana's chat.
    assert member_lookups(teams) == [f"/v3/conversations/{GENERAL}/members/{aad(ANA)}"]
    [kudos] = kudos_rows(teams)
    assert kudos.message == "thanks for the review"
    # Their chat is not taken for Gia's chat with ExtraMile.
    with teams.app.sessions() as session:
        assert (
            session.scalars(
                select(TeamsConversation).where(TeamsConversation.conversation_id == HUMAN_CHAT)
            ).all()
            == []
        )
    teams.deliver()
    [post] = teams.cards_to(GENERAL)
    assert "thanks for the review" in card_text(post)


def test_in_a_group_chat_people_are_found_in_it_and_kudos_posted_there(teams: TeamsHarness) -> None:
    group = "19:group0000@thread.v2"
    teams.connector.add_conversation(group, [GIA, ANA, BEN])

    def in_the_group(name: str, data: dict[str, Any] | None = None) -> Answer:
        activity = teams.base("invoke")
        activity["from"]["aadObjectId"] = aad(GIA)
        activity["conversation"] = {
            "id": group,
            "conversationType": "groupChat",
            "tenantId": TENANT,
            "isGroup": True,
        }
        activity["name"] = name
        activity["value"] = {"commandId": GIVE_KUDOS_ACTION, "messagePayload": message_payload(BEN)}
        if data is not None:
            activity["value"]["data"] = data
        return teams.post(activity)

    card = dialog_card(in_the_group("composeExtension/fetchTask"))
    data = {"form": form_id(card), "people": aad(BEN), "message": "thanks for the notes"}
    assert in_the_group("composeExtension/submitAction", data).body == {}

    assert member_lookups(teams) == [f"/v3/conversations/{group}/members/{aad(BEN)}"]
    teams.deliver()
    [post] = teams.cards_to(group)
    assert "gave kudos to <at>Ben Berg</at>" in card_text(post) and "thanks for the notes" in card_text(post)


def test_an_action_on_a_bots_message_suggests_nobody(teams: TeamsHarness) -> None:
    card = dialog_card(fetch(teams, GIVE_KUDOS_ACTION, payload=message_payload(None)))
    assert inputs(card)["people"]["choices"] == []


def test_names_and_words_from_the_message_are_never_read_as_markup(teams: TeamsHarness) -> None:
    hostile = message_payload(
        ANA,
        name="Ana <at>Ben Berg</at> **boss** [x](https://evil.example)",
        content='<p>see <a href="https://evil.example">[here](https://evil.example)</a> <at>Ben</at> **now**</p>'
        "<script>alert(1)</script>",
        link="javascript:alert(1)",
    )
    card = dialog_card(fetch(teams, GIVE_KUDOS_ACTION, payload=hostile))

    # The link is not one we show; the words are a TextRun (shown as typed); the name is a choice's
    # title (plain text).
    assert "javascript" not in str(card)
    quoted = [element for element in card["body"] if element["type"] == "Container"]
    assert quoted[0]["items"][0]["inlines"][0] == {
        "type": "TextRun",
        "text": "see [here](https://evil.example) Ben **now** alert(1)",
        "italic": True,
    }
    blocks = [element["text"] for element in card["body"] if element["type"] == "TextBlock"]
    assert not any("evil" in block or "boss" in block for block in blocks)
    assert (
        inputs(card)["people"]["choices"][0]["title"]
        == "Ana <at>Ben Berg</at> **boss** [x](https://evil.example)"
    )
    # Without a link to point at, the kudos needs words.
    assert inputs(card)["message"]["isRequired"] is True


# Promise a follow-up


def test_promise_a_follow_up_opens_a_form_due_tomorrow_in_the_promisers_time(teams: TeamsHarness) -> None:
    card = dialog_card(fetch(teams, PROMISE_ACTION, user_id=BEN))

    fields = inputs(card)
    assert fields["people"]["choices"] == [{"title": "Ana Ames", "value": aad(ANA)}]
    assert fields["what"]["isRequired"] is True and fields["what"]["value"] == ""
    # 15:00 UTC on Wednesday is midnight in Tokyo: tomorrow, at that hour of Ben's day.
    assert (fields["day"]["value"], fields["time"]["value"]) == ("2026-11-20", "00:00")
    assert card_text(card).startswith(f"About [this message]({LINK})")
    assert teams.connector.calls == [] and promise_rows(teams) == []


def test_sending_the_promise_form_makes_the_promise_once(teams: TeamsHarness) -> None:
    card = dialog_card(fetch(teams, PROMISE_ACTION))
    data = {
        "form": form_id(card),
        "people": f"{aad(ANA)},{aad(BEN)}",
        "what": "the pricing deck",
        "day": "2026-11-20",
        "time": "15:30",
    }

    answer = submit(teams, PROMISE_ACTION, data)

    assert (answer.status, answer.body) == (200, {})
    assert member_lookups(teams) == [
        f"/v3/conversations/{GENERAL}/members/{aad(ANA)}",
        f"/v3/conversations/{GENERAL}/members/{aad(BEN)}",
    ]
    [promise] = promise_rows(teams)
    assert (promise.promiser_id, promise.what, promise.context_link) == (GIA, "the pricing deck", LINK)
    # Gia's 15:30 (London, GMT in November), whatever the zones of the people waiting.
    assert promise.due_at.astimezone(UTC) == datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    assert (promise.origin_channel_id, promise.origin_ts) == (GENERAL, MESSAGE_ID)
    assert promise.dedupe_key == f"teams-form:{form_id(card)}"
    with teams.app.sessions() as session:
        keys = sorted(
            (row.dedupe_key.split(":", 2)[2], row.recipient_id)
            for row in session.scalars(select(OutboxMessage).where(OutboxMessage.team_id == TEAM))
        )
    # The people waiting hear they were heard; Gia gets her confirmation and her reminders.
    assert (f"heard:{ANA}", ANA) in keys and (f"heard:{BEN}", BEN) in keys and ("made", GIA) in keys
    assert any(key.endswith("due") and user == GIA for key, user in keys)

    assert submit(teams, PROMISE_ACTION, data).body == {}
    assert len(promise_rows(teams)) == 1


@pytest.mark.parametrize(
    ("day", "time", "reason"),
    [
        ("2026-11-18", "14:00", "That time (Wed 18 Nov 14:00, your time) has already passed."),
        ("", "15:00", "Pick a date and a time."),
        ("2026-02-30", "15:00", "Pick a date and a time."),
        ("2026-11-20", "25:00", "Pick a date and a time."),
    ],
)
def test_a_due_time_that_will_not_do_keeps_the_form_open(
    teams: TeamsHarness, day: str, time: str, reason: str
) -> None:
    card = dialog_card(fetch(teams, PROMISE_ACTION))
    data = {"form": form_id(card), "people": aad(ANA), "what": "the deck", "day": day, "time": time}

    again = dialog_card(submit(teams, PROMISE_ACTION, data))

    assert error_line(again).startswith(reason)
    assert inputs(again)["what"]["value"] == "the deck"
    assert inputs(again)["people"]["choices"] == [{"title": "Ana Ames", "value": aad(ANA)}]
    assert promise_rows(teams) == []


def test_a_promise_to_yourself_is_refused_in_the_form(teams: TeamsHarness) -> None:
    card = dialog_card(fetch(teams, PROMISE_ACTION, payload=message_payload(GIA)))
    assert inputs(card)["people"]["choices"] == []
    data = {"form": form_id(card), "people": aad(GIA), "what": "x", "day": "2026-11-20", "time": "10:00"}
    again = dialog_card(submit(teams, PROMISE_ACTION, data, payload=message_payload(GIA)))
    assert error_line(again) == "A promise to yourself is a to-do. Who's waiting on you?"
    assert promise_rows(teams) == []


# Anything else


def test_an_unknown_command_or_invoke_changes_nothing(teams: TeamsHarness) -> None:
    answer = fetch(teams, "somethingElse")
    assert answer.status == 200 and answer.body["task"]["type"] == "message"
    assert "Give kudos or Promise a follow-up" in answer.body["task"]["value"]
    assert invoke(teams, "composeExtension/query", GIVE_KUDOS_ACTION).status == 501
    assert kudos_rows(teams) == [] and promise_rows(teams) == [] and teams.connector.calls == []


@pytest.mark.parametrize(
    "value",
    [
        None,
        "a string",
        [],
        {"commandId": 5},
        {"commandId": GIVE_KUDOS_ACTION, "messagePayload": "x", "data": []},
    ],
)
def test_an_invoke_value_of_the_wrong_shape_is_answered_not_crashed(teams: TeamsHarness, value: Any) -> None:
    for name in ("composeExtension/fetchTask", "composeExtension/submitAction"):
        activity = teams.base("invoke", channel=GENERAL)
        activity["name"] = name
        activity["value"] = value
        answer = teams.post(activity)
        assert answer.status == 200, answer.body
        assert answer.body["task"]["type"] in ("message", "continue")
    assert kudos_rows(teams) == [] and teams.connector.calls == []
