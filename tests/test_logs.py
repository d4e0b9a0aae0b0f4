"""Log lines: JSON or text as LOG_FORMAT says, tagged with the request or outbox row, never a secret."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot import logs
from storage.models import OutboxMessage
from tests.conftest import (
    ANA,
    GIVER,
    LOG_CAPTURE,
    SIGNING_SECRET,
    TEAM,
    Harness,
    leaked,
    texts,
)


@pytest.fixture
def suite_levels() -> Iterator[None]:
    """Whatever a test sets, the run's own levels (LOG_LEVEL=DEBUG's) come back after it."""
    yield
    logs.set_levels("DEBUG")


def _record(message: str, *args: object, exc_info: Any = None) -> logging.LogRecord:
    return logging.LogRecord("bot.test", logging.WARNING, __file__, 1, message, args, exc_info)


def test_tokens_and_configured_secrets_are_masked_in_the_message_and_the_traceback() -> None:
    redacting = logs.Redacting(logs.formatter("json"), ["a-signing-secret-value", "short"])
    try:
        raise ValueError("auth failed for xoxe.xoxb-1-rotated and xapp-1-A0-123")
    except ValueError as error:
        line = redacting.format(
            _record(
                "tokens %s %s %s, secret %s",
                "xoxb-123-456-abc",
                "xoxp-9-user",
                "xoxe-1-refresh",
                "a-signing-secret-value",
                exc_info=(type(error), error, error.__traceback__),
            )
        )

    data = json.loads(line)
    assert data["message"] == "tokens [redacted] [redacted] [redacted], secret [redacted]"
    assert "ValueError: auth failed for [redacted] and [redacted]" in data["exception"]
    assert leaked([line], ("a-signing-secret-value",)) == []
    # A value too short to be a real secret is left alone rather than masked in every word.
    assert redacting.format(_record("a short word")).endswith('"message": "a short word"}')


def test_the_leak_check_sees_tokens_and_secrets() -> None:
    lines = ["fine", "Bearer xoxb-1-2", f"secret {SIGNING_SECRET}", "xoxe.xoxp-1-x", "set it to xoxb-..."]

    assert leaked(lines) == ["Bearer xoxb-1-2", f"secret {SIGNING_SECRET}", "xoxe.xoxp-1-x"]


@pytest.mark.usefixtures("suite_levels")
def test_libraries_stay_quiet_unless_log_level_asks_and_never_log_bodies() -> None:
    def level(name: str) -> str:
        return logging.getLevelName(logging.getLogger(name).getEffectiveLevel())

    logs.set_levels("INFO")
    assert [level(n) for n in ("bot.cli", "handlers.slack", "storage.db")] == ["INFO"] * 3
    assert [level(n) for n in ("alembic.runtime.plugins", "apscheduler", "uvicorn.access")] == ["WARNING"] * 3
    assert [level(n) for n in ("slack_sdk.web", "slack_bolt.App", "urllib3", "sqlalchemy.engine")] == [
        "WARNING"
    ] * 4

    logs.set_levels("DEBUG")
    assert [level(n) for n in ("bot.cli", "handlers.slack", "storage.db")] == ["DEBUG"] * 3
    assert [level(n) for n in ("alembic", "apscheduler", "uvicorn.error", "some.library")] == ["INFO"] * 4
    # Request bodies and headers at DEBUG, statements with their parameters at INFO: never.
    assert [level(n) for n in ("slack_sdk.web.base_client", "slack_bolt.App", "urllib3")] == ["INFO"] * 3
    assert level("sqlalchemy.engine.Engine") == "WARNING"

    logs.set_levels("ERROR")
    assert {level(n) for n in ("bot", "alembic", "slack_sdk", "sqlalchemy")} == {"ERROR"}


def test_the_text_format_is_one_readable_line_with_the_ids() -> None:
    text = logs.TextFormatter()
    token = logs.request_id.set("req42")
    try:
        with logs.delivering(7):
            line = text.format(_record("outbox row %s is dead: %s", 7, "account_inactive"))
    finally:
        logs.request_id.reset(token)

    assert line.endswith(
        "WARNING bot.test: outbox row 7 is dead: account_inactive [request_id=req42 outbox_id=7]"
    )
    assert text.format(_record("no ids here")).endswith("WARNING bot.test: no ids here")


def test_the_suite_log_capture_records_our_debug_lines(request: pytest.FixtureRequest) -> None:
    """The check on the whole run's logs (tests/conftest.py) sees what our code logs at DEBUG."""
    marker = uuid.uuid4().hex
    logging.getLogger("bot.test").debug("capture check %s", marker)

    handler, path = request.config.stash[LOG_CAPTURE]
    handler.flush()
    [line] = [line for line in path.read_text(encoding="utf-8").splitlines() if marker in line]
    assert json.loads(line)["level"] == "DEBUG"


@pytest.fixture
def json_logs(harness: Harness) -> Iterator[io.StringIO]:
    """The process's logging as `extramile` sets it up with LOG_LEVEL=DEBUG and LOG_FORMAT=json."""
    stream = io.StringIO()
    settings = harness.app.settings.model_copy(update={"LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json"})
    handler = logs.configure_from(settings, stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)
    logs.set_levels("DEBUG")


KUDOS_TEXT = "thanks for untangling the zebra-striped quokka migration"
PROMISE_TEXT = "send the periwinkle pangolin deck"


def test_json_debug_logs_name_the_request_and_the_outbox_row_and_hold_no_secret(
    harness: Harness, json_logs: io.StringIO
) -> None:
    h = harness
    h.command(f"<@{ANA}|ana> {KUDOS_TEXT}")
    h.command(f"<@{ANA}|ana> {PROMISE_TEXT} by Friday 3pm", name="/promise")
    # Friday 13:00 UTC: Gia's two-hour reminder.
    h.clock.set(datetime(2026, 11, 20, 13, 0, tzinfo=UTC))
    h.app.services.delivery.tick()
    h.settle()

    # What the logs must keep quiet about really was sent: the DM text, the reminder, with the token.
    [dm] = [c for c in h.fake.calls_to("chat.postMessage") if c.params["channel"] == ANA and c.ok][:1]
    assert KUDOS_TEXT in texts(dm.params["blocks"]) and dm.token == "xoxb-test"
    assert any(PROMISE_TEXT in texts(c.params["blocks"]) for c in h.fake.calls_to("chat.postMessage"))
    output = json_logs.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line)
        assert datetime.fromisoformat(line["time"]).utcoffset() is not None
    for secret in ("xoxb-test", SIGNING_SECRET, KUDOS_TEXT, PROMISE_TEXT, "zebra", "pangolin"):
        assert secret not in output
    assert logs.MASK not in output  # nothing even needed masking

    def ours(logger: str, starts: str) -> list[dict[str, Any]]:
        return [x for x in lines if x["logger"] == logger and x["message"].startswith(starts)]

    # Each request has its id, on the lines of the thread that took it and of the listener after it.
    [kudos_request] = ours("handlers.slack.listeners", "slack command /kudos")
    [promise_request] = ours("handlers.slack.listeners", "slack command /promise")
    assert kudos_request["message"] == f"slack command /kudos from {GIVER} in {TEAM}"
    [recorded] = ours("bot.services.kudos", "kudos ")
    [promised] = ours("bot.services.promises", "promise ")
    assert recorded["request_id"] == kudos_request["request_id"]
    assert promised["request_id"] == promise_request["request_id"]
    assert kudos_request["request_id"] != promise_request["request_id"]

    # Each row sent is named on its line, by the pass that sent it, not by a request.
    sent = ours("bot.services.delivery", "outbox row")
    with h.session() as session:
        rows = session.execute(select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.status)).all()
    sent_rows = {(row_id, kind) for row_id, kind, status in rows if status == "sent"}
    assert {"kudos.post", "kudos.dm", "promise.notice"} <= {kind for _, kind in sent_rows}
    assert {(x["outbox_id"], x["message"]) for x in sent if x["message"].endswith(" sent")} == {
        (row_id, f"outbox row {row_id} ({kind}) sent") for row_id, kind in sent_rows
    }
    assert all("request_id" not in x for x in sent)
    assert all("outbox_id" not in x for x in lines if x["logger"] == "handlers.slack.listeners")
