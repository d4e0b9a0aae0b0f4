"""Proactive Teams messages through the outbox: conversation references from the database (so a new
process can send them), each person's own regional service address, and the outbox's retry rules for
the connector's 429s, 5xx and refusals."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app import build_app
from handlers.slack.fake_api import FakeSlack
from handlers.teams.fake_connector import FakeConnector
from storage.models import OutboxMessage
from tests.teams.conftest import ANA, GENERAL, NAMES, TENANT, TeamsHarness, card_text, teams_settings


def _rows(teams: TeamsHarness) -> list[OutboxMessage]:
    with teams.app.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _give(teams: TeamsHarness, words: str = "thanks for the demo") -> None:
    teams.message(f"kudos @Ana {words}", channel=GENERAL, mentions=(ANA,))


def test_a_throttled_post_waits_as_long_as_teams_asks_and_goes_out_once(teams: TeamsHarness) -> None:
    teams.connector.fail_next("send", 429, retry_after=20, conversation_id=GENERAL)
    _give(teams)
    teams.deliver()
    post = _rows(teams)[0]
    assert post.kind == "kudos.post" and post.status == "pending"
    assert post.deliver_after >= teams.clock.now() + timedelta(seconds=20)
    assert teams.cards_to(GENERAL) == []

    teams.clock.advance(timedelta(seconds=21))
    teams.deliver()
    teams.deliver()
    assert len(teams.cards_to(GENERAL)) == 1
    assert _rows(teams)[0].status == "sent"


def test_a_server_error_is_tried_again_later(teams: TeamsHarness) -> None:
    teams.connector.fail_next("send", 502, conversation_id=GENERAL)
    _give(teams)
    teams.deliver()
    post = _rows(teams)[0]
    assert post.status == "pending" and post.attempts == 1 and "http_502" in (post.last_error or "")
    teams.clock.advance(timedelta(minutes=5))
    teams.deliver()
    assert _rows(teams)[0].status == "sent" and len(teams.cards_to(GENERAL)) == 1


def test_someone_who_removed_the_app_is_not_tried_again(teams: TeamsHarness) -> None:
    teams.connector.set_installed(ANA, False)  # Teams refuses to open a chat with her
    _give(teams)
    teams.clock.advance(timedelta(hours=20))  # Ana's DM waits for her working hours
    teams.deliver()
    dm = next(row for row in _rows(teams) if row.kind == "kudos.dm")
    assert dm.status == "dead" and dm.last_error == "forbidden"
    assert len(teams.cards_to(GENERAL)) == 1  # the post is not held back by it


def test_a_new_process_reaches_people_at_their_own_regional_address(
    teams: TeamsHarness, database_url: str, fake_slack: FakeSlack
) -> None:
    # Ana's Teams is served from another region: her activities come with that service address.
    with FakeConnector(tenant_id=TENANT) as americas:
        americas.add_member(ANA, NAMES[ANA], tenant_id=TENANT)
        activity = teams.base("message", user_id=ANA)
        activity |= {"serviceUrl": americas.url + "/", "text": "help"}
        teams.post(activity)
        americas.clear_calls()
        _give(teams, "for the late fix")
        # Another replica, started afresh: it knows nothing but what is in the database.
        other = build_app(teams_settings(database_url, fake_slack.url), clock=teams.clock)
        try:
            teams.clock.advance(timedelta(hours=20))
            other.services.delivery.deliver_due()
        finally:
            other.workers.shutdown()
            other.engine.dispose()
        [dm] = [sent for sent in americas.sent() if not sent.reply_to_id]
        assert dm.conversation_id == f"a:1chat-{ANA}"
        assert "for the late fix" in card_text(dm.activity["attachments"][0]["content"])
        # The channel post went to the channel's own service address, not Ana's.
        assert [sent.conversation_id for sent in teams.connector.sent() if not sent.reply_to_id] == [GENERAL]
        assert teams.connector.conversations_created() == []
