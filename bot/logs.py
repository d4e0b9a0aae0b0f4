"""Log lines as LOG_LEVEL and LOG_FORMAT ask, each tagged with the request or outbox row it is about,
and never a secret.

`text` is for people (one readable line), `json` for collectors (one object per line). Our own loggers
(`bot`, `handlers`, `storage`) follow LOG_LEVEL; libraries stay at WARNING unless LOG_LEVEL asks for
more, and the ones that write request bodies, headers or SQL parameters never go below INFO or WARNING:
their DEBUG output holds tokens and the text of private messages.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Literal

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.settings import Settings

Level = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
Format = Literal["text", "json"]

# Set while Slack's endpoint handles a request, and while an outbox row is delivered; copied into the
# threads that carry the work on (see bot.workers).
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
outbox_id: ContextVar[int | None] = ContextVar("outbox_id", default=None)

OURS = ("bot", "handlers", "storage")
# The lowest level each of these may log at, whatever LOG_LEVEL says: slack_sdk and slack_bolt log
# request bodies and headers (Authorization: Bearer xoxb-...) at DEBUG, urllib3 the URLs it calls,
# SQLAlchemy every statement with its parameters at INFO.
FLOORS: dict[str, int] = {
    "slack_sdk": logging.INFO,
    "slack_bolt": logging.INFO,
    "urllib3": logging.INFO,
    "sqlalchemy": logging.WARNING,
}
# Libraries that may have set their own level (uvicorn does, when given a log_level): set again.
LIBRARIES = ("alembic", "apscheduler", "uvicorn", "uvicorn.access", "uvicorn.error")

# Slack tokens: bot, user, refresh, configuration (xox?-), rotated (xoxe.xoxb-), app-level (xapp-).
TOKEN = re.compile(r"(?:xox[a-z]|xapp)(?:\.xox[a-z])?-[A-Za-z0-9-]+")
MASK = "[redacted]"
# Shorter values are not real secrets (tests use "x"), and masking them would mangle every line.
MIN_SECRET_LENGTH = 8


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


@contextmanager
def delivering(row_id: int) -> Iterator[None]:
    """Lines logged inside carry `outbox_id`."""
    token = outbox_id.set(row_id)
    try:
        yield
    finally:
        outbox_id.reset(token)


def context_ids() -> dict[str, str | int]:
    """The ids of what is being handled in this thread right now (none outside a request or a send)."""
    ids: dict[str, str | int] = {}
    if (request := request_id.get()) is not None:
        ids["request_id"] = request
    if (row := outbox_id.get()) is not None:
        ids["outbox_id"] = row
    return ids


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **context_ids(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        ids = context_ids()
        if not ids:
            return line
        tags = " ".join(f"{name}={value}" for name, value in ids.items())
        return f"{line} [{tags}]"


class Redacting(logging.Formatter):
    """Masks token-shaped strings and the configured secrets in the finished line, traceback included:
    a second line of defence behind the levels above and our own care."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._inner = inner
        known = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._secrets = re.compile("|".join(re.escape(s) for s in known)) if known else None

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(self._inner.format(record))

    def redact(self, line: str) -> str:
        if self._secrets is not None:
            line = self._secrets.sub(MASK, line)
        return TOKEN.sub(MASK, line)


def formatter(log_format: Format) -> logging.Formatter:
    """The line format alone, without redaction (the log-capture test checks what reaches it)."""
    return JsonFormatter() if log_format == "json" else TextFormatter()


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings hold, to be masked wherever it appears."""
    values = [
        secret.get_secret_value()
        for secret in (
            settings.SLACK_BOT_TOKEN,
            settings.SLACK_SIGNING_SECRET,
            settings.SLACK_APP_TOKEN,
            settings.SLACK_CLIENT_SECRET,
        )
        if secret is not None
    ]
    try:
        password = make_url(settings.DATABASE_URL).password
    except ArgumentError:
        password = None
    if password:
        values.append(str(password))
    return values


def set_levels(level: Level) -> None:
    """Our loggers at `level`; libraries at WARNING, or INFO when `level` is DEBUG, never below FLOORS."""
    ours = logging.getLevelNamesMapping()[level]
    libraries = max(ours, logging.WARNING) if ours > logging.DEBUG else logging.INFO
    logging.getLogger().setLevel(libraries)
    for name in OURS:
        logging.getLogger(name).setLevel(ours)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(libraries)
    for name, floor in FLOORS.items():
        logging.getLogger(name).setLevel(max(libraries, floor))
    # Libraries may give their own child loggers a level (Bolt does, for each app's logger): those
    # would escape the rules above, so they go back to inheriting them.
    configured = {*OURS, *LIBRARIES, *FLOORS}
    for name, child in list(logging.root.manager.loggerDict.items()):
        if (
            isinstance(child, logging.Logger)
            and name not in configured
            and any(name.startswith(parent + ".") for parent in (*LIBRARIES, *FLOORS))
        ):
            child.setLevel(logging.NOTSET)


class _Handler(logging.StreamHandler[IO[str]]):
    """Ours, so configuring again replaces it and leaves anybody else's handlers alone."""


def configure(
    *, level: Level, log_format: Format, secrets: Iterable[str] = (), stream: IO[str] | None = None
) -> logging.Handler:
    """Sends every log line to `stream` (stderr by default), one line each, redacted."""
    set_levels(level)
    root = logging.getLogger()
    for existing in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(existing)
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.setFormatter(Redacting(formatter(log_format), secrets))
    root.addHandler(handler)
    return handler


def configure_from(settings: Settings, *, stream: IO[str] | None = None) -> logging.Handler:
    return configure(
        level=settings.LOG_LEVEL,
        log_format=settings.LOG_FORMAT,
        secrets=secrets_of(settings),
        stream=stream,
    )
