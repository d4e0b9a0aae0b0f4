"""/extramile export: admins get CSV files of kudos, promises and check-ins in their DM, which parse back
into what the database holds."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from storage.models import Checkin, Kudos, OutboxMessage, Promise
from tests.conftest import ANA, BEN, GIVER, Harness

ADMIN = "U0BOSS"


def export(h: Harness, text: str, user_id: str = ADMIN) -> Any:
    return h.command(f"export {text}".strip(), name="/extramile", user_id=user_id)


def files_by_name(h: Harness) -> dict[str, list[dict[str, str]]]:
    return {
        f["name"].split("-")[0]: list(csv.DictReader(io.StringIO(f["data"].decode("utf-8"))))
        for f in h.fake.files()
        if f["data"] is not None
    }


def test_an_admin_gets_three_csv_files_that_match_the_database(harness: Harness) -> None:
    h = harness
    h.fake.add_user(ADMIN, "boss", real_name="Bo Boss", tz="Europe/London", is_admin=True)
    h.command(f"<@{ANA}|ana> <@{BEN}|ben> thanks for the launch #ownership")
    h.command(f'<@{GIVER}|gia> =HYPERLINK("https://evil.example") nice', user_id=ANA)
    h.command(f"<@{ANA}|ana> send the deck by Friday 3pm", name="/promise")
    h.command('"Jane at ACME" every 6 months send something useful', name="/checkin", user_id=BEN)
    h.clock.set(datetime(2026, 11, 20, 10, tzinfo=UTC))

    reply = export(h, "2026-11-01 2026-11-30")
    assert "On it: kudos, promises and check-ins from 2026-11-01 to 2026-11-30" in reply["text"]

    [shared] = {c for f in h.fake.files() for c in f["shared_to"]}
    assert shared == "D" + ADMIN
    assert {f["name"] for f in h.fake.files()} == {
        f"{kind}-2026-11-01-to-2026-11-30.csv" for kind in ("kudos", "promises", "checkins")
    }
    [comment] = [m["text"] for m in h.fake.messages("D" + ADMIN) if m.get("files")]
    assert "Sun 1 Nov 2026 to Mon 30 Nov 2026" in comment
    tables = files_by_name(h)
    assert set(tables) == {"kudos", "promises", "checkins"}
    with h.session() as session:
        kudos = session.scalars(select(Kudos).order_by(Kudos.id)).all()
        promises = session.scalars(select(Promise)).all()
        checkins = session.scalars(select(Checkin)).all()
        assert [int(row["id"]) for row in tables["kudos"]] == [k.id for k in kudos]
        assert [row["given_at"] for row in tables["kudos"]] == [k.created_at.isoformat() for k in kudos]
        assert tables["kudos"][0]["recipient_ids"] == f"{ANA} {BEN}"
        assert tables["kudos"][0]["recipients"] == "ana; ben" and tables["kudos"][0]["values"] == "ownership"
        assert tables["kudos"][1]["message"].startswith("'=HYPERLINK")  # a spreadsheet shows it, runs nothing
        assert [(row["what"], row["due_at"], row["status"]) for row in tables["promises"]] == [
            (p.what, p.due_at.isoformat(), p.status) for p in promises
        ]
        assert tables["promises"][0]["due_at"].endswith("+00:00")
        assert [(row["contact_name"], row["every"], row["note"]) for row in tables["checkins"]] == [
            (c.contact_name, "6 months", c.note) for c in checkins
        ]
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "export.files")).all()
        assert row.status == "sent"


def test_forgotten_people_stay_anonymous_in_an_export(harness: Harness) -> None:
    h = harness
    h.fake.add_user(ADMIN, "boss", is_admin=True)
    h.command(f"<@{ANA}|ana> thanks a lot", user_id=BEN)
    h.app.services.privacy.forget(team_id="T0001", user_id=BEN)

    export(h, "")

    [row] = files_by_name(h)["kudos"]
    assert (row["giver_id"], row["giver"]) == ("", "a former colleague")


def test_exports_are_for_admins_and_dates_must_make_sense(harness: Harness) -> None:
    h = harness
    h.fake.add_user(ADMIN, "boss", is_admin=True)

    assert "Exports are for workspace admins" in export(h, "", user_id=GIVER)["text"]
    assert "/extramile export 2026-09-01 2026-11-30" in export(h, "last month")["text"]
    assert "comes after" in export(h, "2026-11-30 2026-11-01")["text"]
    assert "/extramile export 2026-09-01" in export(h, "2026-01-01 9999-12-31")["text"]
    with h.session() as session:
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "export.files")).all() == []
