"""Exports for admins: kudos, promises and check-ins of a date range as CSV files, sent to their DM.

Asking is recorded as an outbox row before the acknowledgement; the files are written when it is sent,
so an export survives a restart like any message. Times are ISO 8601 with their offset (UTC); people
are their platform ids with the names the people cache knows; forgotten people stay anonymous.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services import keys
from bot.services.administration import AdministrationService, NotAnAdmin
from bot.services.delivery import DeliveryService, Outbound
from storage import outbox as outbox_store
from storage import people as people_store
from storage import recaps as recap_store
from storage.db import SessionFactory, unit_of_work

FILES = "export.files"
FORMER = "a former colleague"


@dataclass(frozen=True)
class ExportFile:
    filename: str
    title: str
    content: bytes


@dataclass(frozen=True)
class ExportFiles:
    """CSV files for one person's DM."""

    recipient_id: str
    first_day: datetime
    last_day: datetime  # inclusive
    files: tuple[ExportFile, ...]


class ExportService:
    def __init__(
        self, *, sessions: SessionFactory, clock: Clock, administration: AdministrationService
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._administration = administration

    def register(self, delivery: DeliveryService) -> None:
        delivery.register(FILES, self.compose)

    def request(self, *, team_id: str, admin_id: str, since: datetime, until: datetime, token: str) -> None:
        """Records the export, to be sent as soon as possible. Raises NotAnAdmin."""
        if not self._administration.is_admin(team_id=team_id, user_id=admin_id):
            raise NotAnAdmin()
        now = self._clock.now()
        with unit_of_work(self._sessions) as session:
            outbox_store.enqueue(
                session,
                team_id=team_id,
                dedupe_key=keys.export(admin_id, token),
                kind=FILES,
                recipient_id=admin_id,
                payload={"since": since.isoformat(), "until": until.isoformat()},
                deliver_after=now,
                created_at=now,
            )

    def compose(self, message: Outbound) -> ExportFiles | None:
        since = datetime.fromisoformat(str(message.payload["since"]))
        until = datetime.fromisoformat(str(message.payload["until"]))
        team_id = message.team_id
        with unit_of_work(self._sessions) as session:
            kudos = recap_store.kudos_between(session, team_id=team_id, since=since, until=until)
            promises = recap_store.promises_made(session, team_id=team_id, since=since, until=until)
            checkins = recap_store.checkins_made(session, team_id=team_id, since=since, until=until)
            people = {k.giver_id for k in kudos} | {r.user_id for k in kudos for r in k.recipients}
            people |= {p.promiser_id for p in promises} | {e.user_id for p in promises for e in p.promisees}
            people |= {c.requester_id for c in checkins} | {c.contact_user_id for c in checkins}
            names = people_store.names(session, team_id=team_id, user_ids={u for u in people if u})

            def who(user_ids: list[str | None]) -> tuple[str, str]:
                return (
                    " ".join(u or "" for u in user_ids),
                    "; ".join((names.get(u, u) if u else FORMER) for u in user_ids),
                )

            kudos_rows = [
                [
                    k.id,
                    k.created_at.isoformat(),
                    *who([k.giver_id]),
                    *who([r.user_id for r in k.recipients]),
                    k.message,
                    " ".join(v.value for v in k.values),
                    k.source,
                    k.permalink or "",
                ]
                for k in kudos
            ]
            promise_rows = [
                [
                    p.id,
                    p.created_at.isoformat(),
                    *who([p.promiser_id]),
                    *who([e.user_id for e in p.promisees]),
                    p.contact_name or "",
                    p.what,
                    p.due_at.isoformat(),
                    p.status,
                    p.closed_at.isoformat() if p.closed_at else "",
                    "" if p.closed_at is None or p.status != "done" else str(p.closed_at <= p.due_at).lower(),
                ]
                for p in promises
            ]
            checkin_rows = [
                [
                    c.id,
                    c.created_at.isoformat(),
                    *who([c.requester_id]),
                    *(who([c.contact_user_id]) if c.contact_user_id else ("", "")),
                    c.contact_name or "",
                    f"{c.every_count} {c.every_unit}{'s' if c.every_count != 1 else ''}",
                    c.note or "",
                    c.status,
                    c.last_done_at.isoformat() if c.last_done_at else "",
                ]
                for c in checkins
            ]
        last_day = until - timedelta(days=1)  # `until` is the midnight after the last day asked for
        label = f"{since:%Y-%m-%d} to {last_day:%Y-%m-%d}"
        return ExportFiles(
            recipient_id=message.recipient_id,
            first_day=since,
            last_day=last_day,
            files=(
                _csv(
                    f"kudos-{label.replace(' to ', '-to-')}.csv",
                    f"Kudos, {label}",
                    [
                        "id",
                        "given_at",
                        "giver_id",
                        "giver",
                        "recipient_ids",
                        "recipients",
                        "message",
                        "values",
                        "source",
                        "link",
                    ],
                    kudos_rows,
                ),
                _csv(
                    f"promises-{label.replace(' to ', '-to-')}.csv",
                    f"Promises, {label}",
                    [
                        "id",
                        "made_at",
                        "promiser_id",
                        "promiser",
                        "promisee_ids",
                        "promisees",
                        "contact",
                        "what",
                        "due_at",
                        "status",
                        "closed_at",
                        "on_time",
                    ],
                    promise_rows,
                ),
                _csv(
                    f"checkins-{label.replace(' to ', '-to-')}.csv",
                    f"Check-ins, {label}",
                    [
                        "id",
                        "set_up_at",
                        "requester_id",
                        "requester",
                        "contact_id",
                        "contact",
                        "contact_name",
                        "every",
                        "note",
                        "status",
                        "last_done_at",
                    ],
                    checkin_rows,
                ),
            ),
        )


def _csv(filename: str, title: str, header: list[str], rows: list[list[object]]) -> ExportFile:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([[_cell(value) for value in row] for row in rows])
    return ExportFile(filename=filename, title=title, content=buffer.getvalue().encode("utf-8"))


def _cell(value: object) -> object:
    """Text a spreadsheet would run as a formula (`=HYPERLINK(...)` in a kudos) is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
