"""Kudos in Microsoft Teams: typed to the bot, recorded before Teams hears back, posted as a card that
@mentions people, DM'd to the recipient (in a chat the bot opens) and confirmed to the giver."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Kudos, KudosRecipient
from tests.teams.conftest import ANA, BEN, GENERAL, GIA, TEAM, TeamsHarness, card_text


def _kudos(teams: TeamsHarness) -> list[Kudos]:
    with teams.app.sessions() as session:
        return list(session.scalars(select(Kudos).where(Kudos.team_id == TEAM)))


def test_kudos_in_a_channel_is_posted_dmd_and_confirmed(teams: TeamsHarness) -> None:
    answer = teams.message("kudos @Ana thanks for the demo #teamwork", channel=GENERAL, mentions=(ANA,))
    assert answer.status in (200, 202)
    # Recorded before the answer: the row is there whatever happens next.
    [kudos] = _kudos(teams)
    assert kudos.giver_id == GIA and kudos.message == "thanks for the demo"
    with teams.app.sessions() as session:
        assert session.scalars(
            select(KudosRecipient.user_id).where(KudosRecipient.kudos_id == kudos.id)
        ).all() == [ANA]

    teams.deliver()
    [post] = teams.cards_to(GENERAL)
    assert "gave kudos to <at>Ana Ames</at>" in card_text(post)
    assert "thanks for the demo" in card_text(post) and "#teamwork" in card_text(post)
    mentioned = {entity["mentioned"]["id"] for entity in post["msteams"]["entities"]}
    assert mentioned == {GIA, ANA}
    # Ana had never talked to ExtraMile: a 1:1 chat was opened for her through the connector.
    [created] = teams.connector.conversations_created()
    assert created.member_ids == (ANA,)
    [dm] = teams.cards_to(created.id)
    assert "**Gia Giver** gave you kudos" in card_text(dm)
    assert "thanks for the demo" in card_text(dm)
    # Gia sees her kudos where she typed it: nothing more to tell her (as in Slack).
    assert teams.chat_of(GIA) is None


def test_kudos_typed_in_a_chat_go_to_the_kudos_channel_and_the_giver_hears_where(teams: TeamsHarness) -> None:
    teams.message("kudos top", channel=GENERAL, user_id=BEN)  # ExtraMile now knows the channel
    teams.app.services.workspaces.save(
        teams.app.services.workspaces.get(TEAM).model_copy(update={"kudos_channel_id": GENERAL})
    )
    teams.message("kudos @Ana thanks for the review", mentions=(ANA,))
    teams.deliver()
    teams.deliver()  # the confirmation is written once the post is out
    [post] = teams.cards_to(GENERAL)
    assert "thanks for the review" in card_text(post)
    [confirmation] = teams.cards_to(teams.chat_of(GIA) or "")
    assert card_text(confirmation).startswith(
        "Sent! Your kudos to **Ana Ames** is [in the channel](https://teams.microsoft.com/l/message/"
    )


def test_the_same_activity_twice_gives_kudos_once(teams: TeamsHarness) -> None:
    for _ in range(2):
        teams.message("kudos @Ana thanks!", channel=GENERAL, mentions=(ANA,), activity_id="1700000000123")
    assert len(_kudos(teams)) == 1
    teams.deliver()
    teams.deliver()
    assert len(teams.cards_to(GENERAL)) == 1


def test_self_kudos_is_refused_in_slacks_words_and_nothing_is_recorded(teams: TeamsHarness) -> None:
    teams.message("kudos @Gia well done me", channel=GENERAL, mentions=(GIA,))
    assert _kudos(teams) == []
    [reply] = [sent for sent in teams.connector.sent() if sent.reply_to_id]
    [attachment] = reply.activity["attachments"]
    assert card_text(attachment["content"]) == (
        "Kudos are for thanking others, so you can't give them to yourself. Who helped you out today?"
    )


def test_kudos_without_anyone_says_how(teams: TeamsHarness) -> None:
    teams.message("kudos thanks everyone", channel=GENERAL)
    assert _kudos(teams) == []
    [reply] = teams.connector.sent()
    assert "Who is it for? Mention them first: `kudos @Ana thanks for the late-night fix`." in card_text(
        reply.activity["attachments"][0]["content"]
    )


def test_kudos_in_a_1to1_chat_without_a_kudos_channel_asks_for_one(teams: TeamsHarness) -> None:
    teams.message("kudos @Ben thanks", mentions=(BEN,))
    assert _kudos(teams) == []
    [reply] = teams.connector.sent()
    assert "they need a channel" in card_text(reply.activity["attachments"][0]["content"])


def test_kudos_top_lists_people_by_name(teams: TeamsHarness) -> None:
    teams.message("kudos @Ana thanks for the demo", channel=GENERAL, mentions=(ANA,))
    teams.message("kudos top", channel=GENERAL, user_id=BEN)
    reply = [sent for sent in teams.connector.sent() if sent.reply_to_id][-1]
    words = card_text(reply.activity["attachments"][0]["content"])
    assert "Kudos this week" in words and "1. Ana Ames 1" in words and "1. Gia Giver 1" in words


def test_the_senders_zone_comes_from_the_activity(teams: TeamsHarness) -> None:
    teams.message("help", user_id=BEN)
    assert teams.app.services.people.get(TEAM, BEN).tz == "Asia/Tokyo"
    assert teams.app.services.people.get(TEAM, BEN).display_name == "Ben Berg"
