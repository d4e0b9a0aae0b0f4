"""/checkin end to end: recurring nudges in the requester's working hours, across DST, with buttons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from storage.models import Checkin
from tests.conftest import ANA, GIVER, Harness, texts
from tests.e2e.test_promises import button, dms, tick


def cmd(h: Harness, text: str, **kwargs: Any) -> Any:
    return h.command(text, name="/checkin", **kwargs)


def checkins(h: Harness) -> list[Checkin]:
    with h.session() as session:
        return list(session.scalars(select(Checkin).order_by(Checkin.id)))


def test_every_two_weeks_with_done_snooze_skip_and_stop(harness: Harness) -> None:
    h = harness
    reply = cmd(h, "<@U0ANA|ana> every 2 weeks catch up on the roadmap")
    assert (
        "I'll nudge you to check in with <@U0ANA> every 2 weeks, starting Wed 2 Dec 09:00 (your time)."
        in texts(reply["blocks"])
    )
    assert cmd(h, "<@U0ANA|ana> every 2 weeks catch up on the roadmap", trigger_id="same") is not None
    assert cmd(h, "<@U0ANA|ana> every 2 weeks catch up on the roadmap", trigger_id="same") is not None
    assert len(checkins(h)) == 2  # one from the first command, one from the redelivered pair

    tick(h, datetime(2026, 12, 2, 8, 59, tzinfo=UTC))
    assert dms(h, GIVER) == []
    tick(h, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    tick(h, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    first = dms(h, GIVER)
    assert len(first) == 2  # one per check-in, each once
    shown = texts(first[0]["blocks"])
    assert (
        "Time to check in with <@U0ANA>." in shown
        and ">catch up on the roadmap" in shown
        and "every 2 weeks" in shown
    )
    assert [e["action_id"] for b in first[0]["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
        "checkin_done",
        "checkin_snooze",
        "checkin_skip",
    ]

    h.clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    button(h, first[0], "checkin_done", tag="done")
    [done] = [r for r in h.responses(GIVER) if r["tag"].endswith("/done")]
    assert "that's the loop closed. Next check-in with <@U0ANA>: Wed 16 Dec 09:00." in done["text"]
    assert checkins(h)[0].last_done_at == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)

    button(h, first[1], "checkin_snooze", tag="snooze")
    tick(h, datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    assert "(snoozed from yesterday)" in texts(dms(h, GIVER)[2]["blocks"])
    reply = cmd(h, "stop <@U0ANA|ana>")
    assert "Stopped: no more check-in reminders for <@U0ANA>." in reply["text"]
    assert {c.status for c in checkins(h)} == {"stopped"}

    tick(h, datetime(2026, 12, 16, 9, 0, tzinfo=UTC))
    assert len(dms(h, GIVER)) == 3


def test_recurrence_keeps_the_local_time_across_dst(harness: Harness) -> None:
    h = harness
    h.clock.set(datetime(2027, 3, 10, 12, 0, tzinfo=UTC))
    cmd(h, '"Jane at ACME" every 2 weeks')

    tick(h, datetime(2027, 3, 24, 9, 0, tzinfo=UTC))  # 09:00 GMT
    assert len(dms(h, GIVER)) == 1
    tick(h, datetime(2027, 4, 7, 7, 59, tzinfo=UTC))
    assert len(dms(h, GIVER)) == 1
    tick(h, datetime(2027, 4, 7, 8, 0, tzinfo=UTC))  # 09:00 BST: the clocks went forward on 28 March
    assert len(dms(h, GIVER)) == 2
    assert "Time to check in with Jane at ACME." in texts(dms(h, GIVER)[1]["blocks"])


def test_weekends_move_to_monday_and_an_outage_sends_one_catch_up(harness: Harness) -> None:
    h = harness
    h.clock.set(datetime(2026, 11, 21, 12, 0, tzinfo=UTC))  # a Saturday
    cmd(h, "<@U0ANA|ana> every week")

    tick(h, datetime(2026, 11, 28, 12, 0, tzinfo=UTC))  # the next Saturday: not at the weekend
    assert dms(h, GIVER) == []
    tick(h, datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # Monday morning
    assert len(dms(h, GIVER)) == 1

    tick(h, datetime(2027, 1, 4, 9, 0, tzinfo=UTC))  # five weeks of silence (an outage)
    assert len(dms(h, GIVER)) == 2


def test_list_help_and_refusals(harness: Harness) -> None:
    h = harness
    cmd(h, '"Jane at ACME" every 6 months send something useful')
    cmd(h, "<@U0ANA|ana> every quarter")

    listing = texts(cmd(h, "list")["blocks"])
    assert "Jane at ACME, every 6 months. Next: Tue 18 May 09:00" in listing
    assert "<@U0ANA>, every 3 months. Next: Thu 18 Feb 09:00" in listing

    assert "/checkin @dan every 2 weeks" in texts(cmd(h, "help")["blocks"])
    cases = {
        "<@U0ANA|ana> sometimes": "How often?",
        "<@U0ANA|ana> every 0 weeks": "How often?",
        "<@U0ANA|ana> every 400 days": "How often?",
        "every week": "Who would you like to keep in touch with?",
        "<@U0GIVER|gia> every week": "Checking in with yourself",
    }
    for text, expected in cases.items():
        assert expected in cmd(h, text)["text"], text
    assert len(checkins(h)) == 2

    other = cmd(h, "stop", user_id=ANA)
    assert "None yet." in texts(other["blocks"])
    picker = cmd(h, "stop")
    assert [b["accessory"]["action_id"] for b in picker["blocks"] if "accessory" in b] == [
        "checkin_stop",
        "checkin_stop",
    ]
    button(h, picker, "checkin_stop", tag="stop1")
    assert [c.status for c in checkins(h)] == ["stopped", "active"]
    button(h, picker, "checkin_stop", tag="stop2")
    [again] = [r for r in h.responses(GIVER) if r["tag"].endswith("stop2")]
    assert "already stopped" in again["text"]
