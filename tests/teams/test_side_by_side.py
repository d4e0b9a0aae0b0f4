"""One database serves a Slack workspace and a Teams tenant side by side: each sees only its own rows,
each platform's messages go to its own service, and Slack's rows from before Teams survive the upgrade."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from bot.services.platforms import platform_of
from handlers.slack.fake_api import FakeSlack
from storage.db import alembic_config, create_db_engine, upgrade
from tests.conftest import ANA as SLACK_ANA
from tests.conftest import GENERAL as SLACK_GENERAL
from tests.conftest import GIVER as SLACK_GIVER
from tests.conftest import SIGNING_SECRET, SignedSender, payload
from tests.conftest import TEAM as SLACK_TEAM
from tests.teams.conftest import ANA, BEN, GENERAL, GIA, TEAM, TeamsHarness, card_text


def test_a_slack_workspace_and_a_teams_tenant_never_see_each_others_rows(
    teams: TeamsHarness, fake_slack: FakeSlack
) -> None:
    slack = SignedSender(teams.url, SIGNING_SECRET)
    form = payload(
        "slash_command",
        text=f"<@{SLACK_ANA}> thanks from Slack",
        user_id=SLACK_GIVER,
        channel_id=SLACK_GENERAL,
        command="/kudos",
    )
    form["trigger_id"] = "trigger-side-by-side"
    form["response_url"] = fake_slack.response_url("side")
    assert slack.command(form).status == 200
    teams.settle()
    teams.message("kudos @Ana thanks from Teams", channel=GENERAL, mentions=(ANA,))
    teams.message("kudos @Ben thanks again", channel=GENERAL, mentions=(BEN,))
    teams.deliver()

    kudos = teams.app.services.kudos
    slack_board = kudos.leaderboard(team_id=SLACK_TEAM, viewer_id=SLACK_GIVER, period="all")
    teams_board = kudos.leaderboard(team_id=TEAM, viewer_id=GIA, period="all")
    assert slack_board.received == [(SLACK_ANA, 1)]
    assert sorted(teams_board.received) == sorted([(ANA, 1), (BEN, 1)])
    assert teams_board.given == [(GIA, 2)]
    # Each platform's messages went to its own service, and only there.
    [slack_post] = [
        c.params for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == SLACK_GENERAL
    ]
    assert "thanks from Slack" in str(slack_post["blocks"])
    assert all("Teams" not in str(c.params) for c in fake_slack.calls_to("chat.postMessage"))
    posts = [card_text(card) for card in teams.cards_to(GENERAL)]
    assert len(posts) == 2 and all("Slack" not in words for words in posts)
    with teams.app.sessions() as session:
        teams_ids = set(session.scalars(text("SELECT DISTINCT team_id FROM outbox")))
    assert teams_ids == {SLACK_TEAM, TEAM}
    assert {platform_of(team_id) for team_id in teams_ids} == {"slack", "teams"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'before.db'}"
    url: str = request.getfixturevalue("empty_postgres_database")
    return url


PERSON = (
    "INSERT INTO person (team_id, user_id, display_name, tz, is_bot, is_deleted, is_guest, is_admin, refreshed_at)"
    " VALUES (:team, :user, :name, :tz, false, false, false, false, '2026-11-01 09:00:00')"
)


def test_slack_rows_from_before_teams_survive_the_upgrade(empty_database: str) -> None:
    engine = create_db_engine(empty_database)
    command.upgrade(alembic_config(engine), "0015")
    with engine.begin() as connection:
        connection.execute(
            text(PERSON), {"team": "T0001", "user": "U0ANA", "name": "Ana", "tz": "Europe/Paris"}
        )
    upgrade(engine)
    # A Teams id is longer than any Slack id: the upgraded columns take it, on PostgreSQL too.
    long_id = "29:" + "x" * 120
    with engine.begin() as connection:
        connection.execute(text(PERSON), {"team": TEAM, "user": long_id, "name": "Ana", "tz": "UTC"})
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT team_id, user_id, display_name, tz FROM person ORDER BY team_id")
        ).all()
    assert [tuple(row) for row in rows] == [
        ("T0001", "U0ANA", "Ana", "Europe/Paris"),
        (TEAM, long_id, "Ana", "UTC"),
    ]
    engine.dispose()
