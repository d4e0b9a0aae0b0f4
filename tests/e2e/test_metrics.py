"""The operator's endpoints over HTTP: /metrics after a known sequence of requests and sends, /readyz
against the migrations, and all three when the database does not answer."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text

from bot.app import ExtraMile, build_app
from bot.clock import FrozenClock
from bot.server import RunningServer, slack_request_kind
from handlers.slack.fake_api import FakeSlack
from handlers.slack.home_blocks import OPEN_PREFERENCES
from storage.db import alembic_config, upgrade
from storage.models import OutboxMessage
from tests.conftest import ANA, Harness, make_settings, payload
from tests.e2e.test_home import open_home, press

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def scrape(url: str) -> Samples:
    status, text = get(url + "/metrics")
    assert status == 200, text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def series(samples: Samples, name: str, *label_names: str) -> dict[tuple[str, ...], float]:
    """Every sample of `name`, keyed by the values of `label_names`."""
    found = {}
    for (sample_name, labels), value in samples.items():
        if sample_name == name:
            as_dict = dict(labels)
            found[tuple(as_dict[label] for label in label_names)] = value
    return found


def nonzero(values: dict[tuple[str, ...], float]) -> dict[tuple[str, ...], float]:
    return {key: value for key, value in values.items() if value}


def outbox_in_database(h: Harness) -> dict[tuple[str, ...], float]:
    with h.session() as session:
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.status, func.count()).group_by(
                OutboxMessage.kind, OutboxMessage.status
            )
        ).all()
    return {(kind, status): float(count) for kind, status, count in rows}


def test_metrics_count_requests_deliveries_rate_limits_and_the_outbox(harness: Harness) -> None:
    h = harness
    start = h.clock.now()
    # Three kudos: the first goes out; the second's post is refused with a 429 (Retry-After 7 s); the
    # third's DM to Ana fails for good. The DM of the second is written once its post is out.
    h.command("<@U0ANA|ana> thanks for the fix")
    h.fake.rate_limit_next("chat.postMessage", retry_after=7)
    h.command("<@U0ANA|ana> thanks for the review")
    h.fake.fail_next("chat.postMessage", "channel_not_found", channel=ANA)
    h.command("<@U0ANA|ana> thanks for the demo")
    # One event, one button, and one request nobody signed.
    home = open_home(h)
    press(h, home, OPEN_PREFERENCES)
    unsigned = h.sender.post(
        urlencode(payload("slash_command")),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Slack-Signature": ""},
    )
    assert unsigned.status == 401

    first = scrape(h.url)

    assert series(first, "extramile_slack_requests_total", "kind", "status") == {
        ("command", "200"): 3,
        ("event", "200"): 1,
        ("block_actions", "200"): 1,
        ("unparsed", "401"): 1,
    }
    assert series(first, "extramile_slack_ack_seconds_count", "kind") == {
        ("command",): 3,
        ("event",): 1,
        ("block_actions",): 1,
        ("unparsed",): 1,
    }
    assert series(first, "extramile_slack_ack_seconds_bucket", "kind", "le")[("command", "+Inf")] == 3
    assert series(first, "extramile_deliveries_total", "kind", "result") == {
        ("kudos.post", "sent"): 2,
        ("kudos.post", "rate_limited"): 1,
        ("kudos.dm", "sent"): 1,
        ("kudos.dm", "dead"): 1,
    }
    assert series(first, "extramile_delivery_rate_limit_wait_seconds_total", "kind") == {("kudos.post",): 7}
    rows = series(first, "extramile_outbox_rows", "kind", "status")
    assert nonzero(rows) == outbox_in_database(h)
    assert nonzero(rows) == {
        ("kudos.post", "pending"): 1,
        ("kudos.post", "sent"): 2,
        ("kudos.dm", "sent"): 1,
        ("kudos.dm", "dead"): 1,
    }
    # Every status of a kind is there, at zero when no row has it.
    assert rows[("kudos.dm", "pending")] == 0 and rows[("kudos.post", "cancelled")] == 0
    assert series(first, "extramile_database_up") == {(): 1}
    # The rate-limited post is due at +7 s: nothing is due yet.
    assert series(first, "extramile_outbox_oldest_due_age_seconds") == {(): 0}

    # Nobody delivers for 10 s: the post has been due for 3.
    h.clock.set(start + timedelta(seconds=10))
    assert series(scrape(h.url), "extramile_outbox_oldest_due_age_seconds") == {(): 3}

    # Refused again, told to wait 30 s more.
    h.fake.rate_limit_next("chat.postMessage", retry_after=30)
    h.app.services.delivery.tick()
    again = scrape(h.url)
    assert series(again, "extramile_deliveries_total", "kind", "result")[("kudos.post", "rate_limited")] == 2
    assert series(again, "extramile_delivery_rate_limit_wait_seconds_total", "kind") == {("kudos.post",): 37}
    assert series(again, "extramile_outbox_oldest_due_age_seconds") == {(): 0}

    h.clock.set(start + timedelta(seconds=100))  # due at +40
    assert series(scrape(h.url), "extramile_outbox_oldest_due_age_seconds") == {(): 60}

    h.app.services.delivery.tick()
    last = scrape(h.url)

    assert series(last, "extramile_deliveries_total", "kind", "result") == {
        ("kudos.post", "sent"): 3,
        ("kudos.post", "rate_limited"): 2,
        ("kudos.dm", "sent"): 2,
        ("kudos.dm", "dead"): 1,
    }
    assert nonzero(series(last, "extramile_outbox_rows", "kind", "status")) == outbox_in_database(h)
    assert outbox_in_database(h) == {
        ("kudos.post", "sent"): 3,
        ("kudos.dm", "sent"): 2,
        ("kudos.dm", "dead"): 1,
    }
    assert series(last, "extramile_outbox_oldest_due_age_seconds") == {(): 0}
    # Scraping and probing are not requests from Slack.
    assert sum(series(last, "extramile_slack_requests_total", "kind", "status").values()) == 6


def code_head(h: Harness) -> str:
    head = ScriptDirectory.from_config(alembic_config(h.app.engine)).get_current_head()
    assert head is not None
    return head


def readiness(h: Harness) -> tuple[int, dict[str, object]]:
    status, body = get(h.url + "/readyz")
    return status, json.loads(body)


def test_ready_only_when_the_database_has_every_migration(harness: Harness) -> None:
    h = harness
    head = code_head(h)
    previous = ScriptDirectory.from_config(alembic_config(h.app.engine)).get_revision(head).down_revision
    assert isinstance(previous, str)

    assert readiness(h) == (200, {"ready": True, "revision": head})

    command.downgrade(alembic_config(h.app.engine), previous)
    try:
        behind = readiness(h)
        alive, _ = get(h.url + "/healthz")
    finally:
        upgrade(h.app.engine)
    assert behind == (
        503,
        {
            "ready": False,
            "reason": f"migrations pending ({head}): run `extramile db upgrade`",
            "revision": previous,
        },
    )
    assert alive == 200  # alive, just not ready

    # Nothing was cached: ready again as soon as the database is.
    assert readiness(h) == (200, {"ready": True, "revision": head})

    # A newer release migrated the database past anything this one knows (a rollback, say).
    with h.app.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    try:
        ahead = readiness(h)
    finally:
        command.stamp(alembic_config(h.app.engine), head, purge=True)
    assert ahead == (
        503,
        {
            "ready": False,
            "reason": "the database is at 9999, which this release does not know (a newer one migrated it)",
            "revision": "9999",
        },
    )
    assert readiness(h)[0] == 200


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def unreachable_database(fake_slack: FakeSlack, clock: FrozenClock) -> Iterator[str]:
    """The real app, serving, with its PostgreSQL nowhere to be found (a port nobody listens on)."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/extramile"
    app: ExtraMile = build_app(make_settings(url, fake_slack.url), clock=clock)
    server = RunningServer(app.web)
    try:
        yield server.url
    finally:
        server.stop()
        app.workers.shutdown()
        app.engine.dispose()


def test_without_a_database_the_probes_say_so_and_metrics_still_answer(unreachable_database: str) -> None:
    health, _ = get(unreachable_database + "/healthz")
    ready, body = get(unreachable_database + "/readyz")

    assert (health, ready) == (503, 503)
    answer = json.loads(body)
    assert answer["ready"] is False
    assert answer["reason"] == "the database did not answer: OperationalError"
    samples = scrape(unreachable_database)
    assert series(samples, "extramile_database_up") == {(): 0}
    assert series(samples, "extramile_outbox_rows", "kind", "status") == {}


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"command": "/kudos", "text": "x"}, "command"),
        ({"type": "event_callback", "event": {"type": "app_mention"}}, "event"),
        ({"type": "url_verification", "challenge": "c"}, "url_verification"),
        ({"type": "block_actions", "actions": []}, "block_actions"),
        ({"type": "view_submission", "view": {}}, "view_submission"),
        ({"type": "view_closed", "view": {}}, "view_closed"),
        ({"type": "shortcut", "callback_id": "k"}, "shortcut"),
        ({"type": "message_action", "callback_id": "k"}, "message_action"),
        ({"type": "block_suggestion", "action_id": "a"}, "options"),
        ({"type": "something_new"}, "other"),
        ({"type": ["not", "a", "string"]}, "other"),
        ({}, "other"),
    ],
)
def test_request_kinds_are_a_fixed_set(body: dict[str, object], kind: str) -> None:
    assert slack_request_kind(body) == kind
