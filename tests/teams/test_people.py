"""People in Microsoft Teams: ExtraMile's hello when added, newcomers welcomed on conversationUpdate
(once, however often Teams says so), waves, shared dates, and celebrations at each person's morning."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.workspaces import WorkspaceSettings
from handlers.teams.people_cards import SAVE_DATES, WAVE
from storage.models import ChannelMember, OutboxMessage, PersonDates
from tests.teams.conftest import (
    ANA,
    BEN,
    BOT,
    GENERAL,
    GIA,
    TEAM,
    TENANT,
    Answer,
    TeamsHarness,
    card_text,
)

NORA = "29:1nora-new"
CHAT = "19:chat0000@thread.v2"


def configure(teams: TeamsHarness, **changes: Any) -> None:
    workspaces = teams.app.services.workspaces
    workspaces.save(WorkspaceSettings.model_validate({**workspaces.get(TEAM).model_dump(), **changes}))


def added(
    teams: TeamsHarness,
    *user_ids: str,
    activity_id: str = "f:added-1",
    chat: str | None = None,
    names: dict[str, str] | None = None,
    removed: bool = False,
) -> Answer:
    """A conversationUpdate as Teams sends it when people (or ExtraMile) are added to the team, or to
    a group chat: ids and AAD ids only, rarely a name, never a zone. `removed`: taken out instead."""
    activity = teams.base("conversationUpdate", channel=None if chat else GENERAL)
    for key in ("localTimezone", "entities"):
        activity.pop(key, None)
    activity["id"] = activity_id
    if chat:
        activity["conversation"] = {
            "id": chat,
            "conversationType": "groupChat",
            "tenantId": TENANT,
            "isGroup": True,
        }
    else:
        activity["channelData"].pop("channel")  # Teams leaves it out for the General channel
        activity["channelData"]["eventType"] = "teamMemberRemoved" if removed else "teamMemberAdded"
    activity["membersRemoved" if removed else "membersAdded"] = [
        {"id": user_id, "aadObjectId": str(uuid.uuid5(uuid.NAMESPACE_URL, user_id))}
        | ({"name": (names or {})[user_id]} if user_id in (names or {}) else {})
        for user_id in user_ids
    ]
    return teams.post(activity)


def press_as(teams: TeamsHarness, user_id: str, name: str, verb: str, data: dict[str, Any]) -> Answer:
    """A button pressed by somebody outside the conftest's cast (their own name on the activity)."""
    activity = teams.base("invoke", user_id=user_id, zone="Europe/Paris")
    activity["from"]["name"] = name
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {"type": "Action.Execute", "verb": verb, "data": data},
        "trigger": "manual",
    }
    return teams.post(activity)


def replies(teams: TeamsHarness) -> list[str]:
    """The words of every card ExtraMile answered somebody with, in order."""
    return [
        card_text(attachment["content"])
        for sent in teams.connector.sent()
        if sent.reply_to_id
        for attachment in sent.activity.get("attachments") or []
    ]


def toast(answer: Answer) -> str:
    assert answer.status == 200 and answer.body["type"] == "application/vnd.microsoft.activity.message"
    return str(answer.body["value"])


def welcome_rows(teams: TeamsHarness) -> list[tuple[str, str]]:
    with teams.app.sessions() as session:
        rows = session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.recipient_id).where(
                OutboxMessage.kind == "welcome.notice"
            )
        )
        return sorted((key, recipient) for key, recipient in rows)


@pytest.fixture
def nora(teams: TeamsHarness) -> TeamsHarness:
    """Nora is in the tenant and was just added to the team (Teams knows her name; we don't yet)."""
    teams.connector.add_member(NORA, "Nora New", tenant_id=TENANT)
    teams.connector.add_conversation(GENERAL, [GIA, ANA, BEN, NORA])
    return teams


def test_added_to_a_team_extramile_says_hello_once_with_the_line_admins_type(teams: TeamsHarness) -> None:
    for _ in range(2):  # Teams redelivers
        assert added(teams, BOT).status in (200, 202)
    added(teams, BOT, activity_id="f:added-again")
    teams.deliver()
    teams.deliver()

    [hello] = teams.cards_to(GENERAL)
    words = card_text(hello)
    assert words.startswith("👋 Hi everyone, I'm ExtraMile.")
    assert f"`extramile workspace teams:{TENANT} --kudos-channel {GENERAL}`" in words
    assert [call.conversation_id for call in teams.connector.calls_of("send")] == [GENERAL]
    # Its address is known, under the name an admin will recognise.
    [known] = teams.app.teams.book.channels(TEAM) if teams.app.teams else []
    assert (known.address, known.name) == (GENERAL, "Engineering / General")


def test_added_to_a_group_chat_extramile_says_hello_there_and_welcomes_nobody(teams: TeamsHarness) -> None:
    added(teams, GIA, ANA, BOT, chat=CHAT)

    teams.deliver()

    [hello] = teams.cards_to(CHAT)
    assert "Hi everyone, I'm ExtraMile" in card_text(hello)
    assert welcome_rows(teams) == []
    assert teams.connector.conversations_created() == []


def test_a_newcomer_is_welcomed_once_and_the_team_waves(nora: TeamsHarness) -> None:
    teams = nora
    configure(teams, welcome_channel_id=GENERAL, timezone="Europe/Paris")

    added(teams, NORA)
    added(teams, NORA)  # redelivered
    added(teams, NORA, activity_id="f:added-2")  # the same addition reported again
    teams.deliver()

    assert welcome_rows(teams) == [(f"welcome:{NORA}:channel", GENERAL), (f"welcome:{NORA}:dm", NORA)]
    # Her name came from the team's roster; her zone is the workspace's until she writes to us.
    person = teams.app.services.people.get(TEAM, NORA)
    assert (person.display_name, person.tz, person.is_guest) == ("Nora New", "Europe/Paris", False)
    # A 1:1 chat was opened for her, and the welcome went there.
    [created] = teams.connector.conversations_created()
    assert created.member_ids == (NORA,)
    [welcome] = teams.cards_to(created.id)
    assert card_text(welcome).startswith("Welcome aboard, Nora New! 👋 We're really glad you're here.")
    [share] = welcome["actions"]
    assert (share["type"], share["title"]) == ("Action.ShowCard", "Share my birthday and start date")
    assert share["card"]["actions"][0]["verb"] == SAVE_DATES
    # The team is invited to say hi, with Nora @mentioned.
    [hello] = teams.cards_to(GENERAL)
    assert card_text(hello) == (
        "👋 Please welcome <at>Nora New</at>, who just joined! Say hi, or send a wave.\n[Wave 👋]"
    )
    assert hello["msteams"]["entities"][0]["mentioned"] == {"id": NORA, "name": "Nora New"}
    assert [call.conversation_id for call in teams.connector.calls_of("send")] == [created.id, GENERAL]

    [wave_button] = hello["actions"]
    assert toast(teams.press(WAVE, wave_button["data"], user_id=ANA)) == "Wave sent to Nora New 👋"
    assert toast(teams.press(WAVE, wave_button["data"], user_id=ANA)) == (
        "You already waved at Nora New. Maybe say hi in the thread?"
    )
    teams.press(WAVE, wave_button["data"], user_id=BEN)
    assert toast(press_as(teams, NORA, "Nora New", WAVE, wave_button["data"])) == (
        "That's you! Everyone else can wave at you, though."
    )
    teams.deliver()
    waves = [card_text(card) for card in teams.cards_to(created.id)[1:]]
    assert waves == ["<at>Ana Ames</at> waved at you 👋", "<at>Ben Berg</at> waved at you 👋"]


def test_the_welcome_form_shares_dates(nora: TeamsHarness) -> None:
    teams = nora
    added(teams, NORA)
    teams.deliver()

    bad = press_as(teams, NORA, "Nora New", SAVE_DATES, {"birthday": "sometime", "start": ""})
    assert toast(bad) == "Birthday: Write the day and the month, like `14 March` (no year needed)."
    with teams.app.sessions() as session:
        assert session.scalars(select(PersonDates)).all() == []

    for _ in range(2):  # pressed twice: the same dates, nothing more
        good = press_as(teams, NORA, "Nora New", SAVE_DATES, {"birthday": "2 July", "start": "2026-11-16"})
        assert toast(good) == (
            "Thanks! ✨ Saved. I have: birthday 2 July, start date 2026-11-16. Change them any time, "
            "or `birthday clear`."
        )
    with teams.app.sessions() as session:
        [row] = session.scalars(select(PersonDates)).all()
        assert (row.user_id, row.birthday_month, row.birthday_day, row.start_date) == (
            NORA,
            7,
            2,
            date(2026, 11, 16),
        )


def test_guests_bots_and_people_we_already_know_are_not_welcomed_unless_guests_are_wanted(
    teams: TeamsHarness,
) -> None:
    teams.connector.add_member("29:1gus-guest", "Gus Guest", tenant_id=TENANT, role="guest")
    teams.connector.add_member("29:1gwen-guest", "Gwen Guest", tenant_id=TENANT, role="guest")
    teams.connector.add_conversation(GENERAL, [GIA, ANA, BEN, "29:1gus-guest", "29:1gwen-guest"])
    teams.message("help", user_id=BEN)  # Ben has used ExtraMile: he is not new here

    added(teams, "29:1gus-guest", "28:other-bot", BEN)
    assert welcome_rows(teams) == []
    assert teams.app.services.people.get(TEAM, "29:1gus-guest").is_guest is True

    configure(teams, welcome_guests=True, welcome_text="Hi {name}, ping {mention} anytime!")
    added(teams, "29:1gwen-guest", activity_id="f:added-gwen")
    teams.deliver()
    [created] = teams.connector.conversations_created()
    [welcome] = teams.cards_to(created.id)
    assert card_text(welcome).startswith("Hi Gwen Guest, ping <at>Gwen Guest</at> anytime!")
    assert welcome["msteams"]["entities"][0]["mentioned"]["id"] == "29:1gwen-guest"


def test_a_newcomer_teams_cannot_tell_us_about_is_still_welcomed(teams: TeamsHarness) -> None:
    teams.connector.add_member(NORA, "Nora New", tenant_id=TENANT)  # but not in the team's roster yet
    added(teams, NORA)
    teams.deliver()
    [created] = teams.connector.conversations_created()
    [welcome] = teams.cards_to(created.id)
    assert card_text(welcome).startswith("Welcome aboard, friend! 👋")


def test_channel_greetings_go_to_the_newcomer_privately(nora: TeamsHarness) -> None:
    teams = nora
    configure(
        teams, channel_welcomes={GENERAL: "Welcome to {channel}, {mention}! The pinned post has the FAQ."}
    )
    added(teams, NORA)
    added(teams, NORA)
    teams.deliver()
    chat = teams.chat_of(NORA) or ""
    greetings = [card_text(card) for card in teams.cards_to(chat)]
    assert "Welcome to the channel, <at>Nora New</at>! The pinned post has the FAQ." in greetings
    assert len(greetings) == 2  # the welcome and the greeting, once each


def test_joining_the_team_is_joining_its_celebrations_channel_and_leaving_it_leaves(
    nora: TeamsHarness,
) -> None:
    teams = nora
    party = "19:party0000@thread.tacv2"
    teams.message("help", channel=party)  # a channel of the same team that ExtraMile is in
    configure(teams, celebrations_channel_id=party)

    def members() -> list[tuple[str, str]]:
        with teams.app.sessions() as session:
            rows = session.execute(select(ChannelMember.channel_id, ChannelMember.user_id))
            return sorted((channel, user) for channel, user in rows)

    added(teams, NORA)
    assert members() == [(party, NORA)]
    added(teams, NORA, removed=True, activity_id="f:removed-1")
    assert members() == []


def test_sharing_dates_keeps_no_year_and_says_how(teams: TeamsHarness) -> None:
    teams.message("birthday 14 March 1990")
    teams.message("anniversary 2021-04-12")
    for typed in ("birthday the ides of march", "birthday 31 February", "anniversary 2030-01-01"):
        teams.message(typed)
    teams.message("birthday")
    teams.message("birthday clear")

    saved, saved_too, vague, no_day, future, usage, cleared = replies(teams)
    assert saved == (
        "Thanks! ✨ Saved. I have: birthday 14 March. Change them any time, or `birthday clear`."
    )
    assert saved_too.startswith("Thanks! ✨ Saved. I have: birthday 14 March, start date 2021-04-12.")
    assert vague == "Write the day and the month, like `14 March` (no year needed)."
    assert no_day == "`31 February` isn't a day of the year. Try `14 March`."
    assert future == "That's in the future. Share your start date once you've started!"
    assert "`birthday 14 March` (no year: we never show an age)" in usage
    assert cleared.startswith("Cleared. Now I have: start date 2021-04-12.")
    with teams.app.sessions() as session:
        [row] = session.scalars(select(PersonDates)).all()
        assert (row.user_id, row.birthday_month, row.start_date) == (GIA, None, date(2021, 4, 12))


def test_birthday_list_shows_the_next_30_days_by_name(teams: TeamsHarness) -> None:
    teams.message("birthday 25 November", user_id=ANA)
    teams.message("anniversary 2020-12-01", user_id=BEN)
    teams.message("birthday 1 February")
    teams.message("birthday list")
    listing = replies(teams)[-1]
    assert "Wed 25 Nov Ana Ames, birthday" in listing
    assert "Tue 1 Dec Ben Berg, 6 years with us" in listing
    assert "Gia" not in listing


def test_birthdays_are_celebrated_at_nine_in_each_persons_zone(teams: TeamsHarness) -> None:
    teams.message("help", channel=GENERAL)  # ExtraMile knows the channel
    configure(teams, celebrations_channel_id=GENERAL)
    for user_id in (GIA, ANA, BEN):  # London, New York, Tokyo
        teams.message("birthday 19 November", user_id=user_id)

    moments = {
        datetime(2026, 11, 18, 23, 59, tzinfo=UTC): 0,
        datetime(2026, 11, 19, 0, 0, tzinfo=UTC): 1,  # 09:00 in Tokyo
        datetime(2026, 11, 19, 8, 59, tzinfo=UTC): 1,
        datetime(2026, 11, 19, 9, 0, tzinfo=UTC): 2,  # 09:00 in London
        datetime(2026, 11, 19, 14, 0, tzinfo=UTC): 3,  # 09:00 in New York
        datetime(2026, 11, 19, 16, 0, tzinfo=UTC): 3,
    }
    for at, posts in moments.items():
        teams.clock.set(at)
        teams.app.services.delivery.tick()
        teams.settle()
        assert len(teams.cards_to(GENERAL)) == posts, at

    tokyo, london, new_york = teams.cards_to(GENERAL)
    assert card_text(tokyo) == "🎂 Happy birthday, <at>Ben Berg</at>!\nDrop a note in the thread ✨"
    assert card_text(london).startswith("🎂 Happy birthday, <at>Gia Giver</at>!")
    assert card_text(new_york).startswith("🎂 Happy birthday, <at>Ana Ames</at>!")
    assert [e["mentioned"]["id"] for e in tokyo["msteams"]["entities"]] == [BEN]
    [ben_dm] = teams.cards_to(teams.chat_of(BEN) or "")
    assert card_text(ben_dm) == "Happy birthday! 🎂 Have a lovely day, from all of us."
    for post in (tokyo, london, new_york):
        assert "2026" not in card_text(post) and "age" not in card_text(post)
