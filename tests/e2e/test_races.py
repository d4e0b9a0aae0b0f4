"""Rules that count hold under any concurrency, on both databases, across replicas."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import ExtraMile, build_app
from bot.server import RunningServer
from handlers.slack.signed_requests import SignedSender
from storage.models import PersonDates
from tests.conftest import (
    ANA,
    BEN,
    GENERAL,
    GIVER,
    SIGNING_SECRET,
    TEAM,
    Harness,
    make_settings,
    payload,
    texts,
)
from tests.e2e.test_kudos_command import kudos_rows


@pytest.fixture
def replica(harness: Harness) -> Iterator[tuple[ExtraMile, SignedSender]]:
    """A second `extramile run` on the same database and the same Slack: another replica."""
    app = build_app(make_settings(harness.app.settings.DATABASE_URL, harness.fake.url), clock=harness.clock)
    server = RunningServer(app.web)
    try:
        yield app, SignedSender(server.url, SIGNING_SECRET)
    finally:
        server.stop()
        app.workers.shutdown()
        app.engine.dispose()


def _kudos_form(h: Harness, n: int) -> dict[str, str]:
    form = payload("slash_command", text=f"<@{ANA}|ana> <@{BEN}|ben> thanks, part {n}")
    form["trigger_id"] = f"trigger-{n}-{uuid.uuid4().hex[:6]}"
    form["response_url"] = h.fake.response_url(f"{GIVER}/{form['trigger_id']}")
    return form


def test_the_daily_allowance_holds_under_a_burst_across_two_replicas(
    harness: Harness, replica: tuple[ExtraMile, SignedSender]
) -> None:
    h = harness
    h.configure(daily_allowance=6)  # three kudos of two people each
    other_app, other_sender = replica
    senders = [h.sender, other_sender]

    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda n: senders[n % 2].command(_kudos_form(h, n)), range(30)))
    h.settle()
    other_app.workers.wait_idle(10)
    h.app.services.delivery.tick()

    assert {reply.status for reply in replies} == {200}
    refused = [reply.json()["text"] for reply in replies if reply.body]
    accepted = [kudos for kudos in kudos_rows(h) if kudos.status in ("pending", "posted")]
    assert len(accepted) == 3 and len(refused) == 27
    assert all("all 6 of today's kudos" in text or "You have 0" in text for text in refused), refused[:3]
    assert len(h.posts(GENERAL)) == 3


def test_a_refused_kudos_over_the_allowance_writes_nothing(harness: Harness) -> None:
    h = harness
    h.configure(daily_allowance=1)
    assert h.command(f"<@{ANA}|ana> thanks") is None

    reply = h.command(f"<@{BEN}|ben> thanks too")

    assert "all 1 of today's kudos" in reply["text"]
    assert [kudos.status for kudos in kudos_rows(h)] == ["posted"]
    assert len(h.posts(GENERAL)) == 1


def test_a_retried_kudos_that_used_the_last_of_the_day_is_not_refused(harness: Harness) -> None:
    h = harness
    h.configure(daily_allowance=1)
    form = _kudos_form(h, 1)
    form["text"] = f"<@{ANA}|ana> thanks"

    first = h.sender.command(form)
    again = h.sender.command(form)  # Slack sends the same command again: the same trigger id
    h.settle()

    assert (first.status, first.body) == (200, "")
    assert (again.status, again.body) == (200, ""), "a redelivery must not be told the day is used up"
    assert len(h.posts(GENERAL)) == 1 and len(kudos_rows(h)) == 1


def test_two_birthdays_saved_at_once_are_one_row(harness: Harness) -> None:
    h = harness

    def share(text: str) -> Any:
        form = payload("slash_command", text=text, command="/birthday")
        form["trigger_id"] = uuid.uuid4().hex
        return h.sender.command(form)

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(share, ["14 March", "15 March"] * 4))

    assert {reply.status for reply in replies} == {200}
    assert all("Saved" in texts(reply.json()["blocks"]) for reply in replies)
    with h.session() as session:
        [row] = session.scalars(select(PersonDates)).all()
        assert (row.team_id, row.user_id, row.birthday_month) == (TEAM, GIVER, 3)
        assert row.birthday_day in (14, 15)
