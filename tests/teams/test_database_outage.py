"""The database away: a Teams message is answered "try again in a moment", a card press or a
conversation update gets a 500 (so Teams sends it again) rather than a 202 for something not recorded,
and all of it works again once the database is back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.app import build_app
from bot.clock import FrozenClock
from bot.server import RunningServer
from handlers.slack.fake_api import FakeSlack
from handlers.teams.fake_connector import FakeConnector
from storage.models import Kudos
from tests.e2e.test_database_outage import FlakyProxy
from tests.teams.conftest import ANA, GENERAL, TeamsHarness, card_text, teams_settings

pytestmark = pytest.mark.postgres


@pytest.fixture
def flaky(
    database_url: str, fake_slack: FakeSlack, connector: FakeConnector, clock: FrozenClock
) -> Iterator[tuple[TeamsHarness, FlakyProxy]]:
    url = make_url(database_url)
    proxy = FlakyProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    app = build_app(teams_settings(proxied, fake_slack.url), clock=clock)
    server = RunningServer(app.web)
    try:
        yield TeamsHarness(app=app, connector=connector, clock=clock, url=server.url), proxy
    finally:
        server.stop()
        app.workers.shutdown()
        app.engine.dispose()
        proxy.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_an_outage_asks_to_try_again_and_nothing_is_acknowledged_unrecorded(
    flaky: tuple[TeamsHarness, FlakyProxy],
) -> None:
    teams, proxy = flaky
    proxy.down()
    during = teams.message("kudos @Ana during the outage", channel=GENERAL, mentions=(ANA,))
    pressed = teams.press("settings.save", {"kudos_channel_id": GENERAL})
    update = teams.base("conversationUpdate", channel=GENERAL)
    update["membersAdded"] = [{"id": ANA, "name": "Ana Ames"}]
    updated = teams.post(update)

    assert during.status in (200, 202)
    [reply] = teams.connector.sent()
    assert "try again in a moment" in card_text(reply.activity["attachments"][0]["content"])
    assert pressed.status == 500 and updated.status == 500

    proxy.up()
    after = teams.message("kudos @Ana after the outage", channel=GENERAL, mentions=(ANA,))
    assert after.status in (200, 202)
    with teams.app.sessions() as session:
        assert session.scalars(select(Kudos.message)).all() == ["after the outage"]
