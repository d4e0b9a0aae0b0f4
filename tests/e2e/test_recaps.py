"""The weekly recap: a seeded week counted exactly, once per channel per week, with its chart."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_app
from bot.services.checkins import CheckinRequest
from storage.models import Checkin, OutboxMessage, Promise
from tests.conftest import ANA, BEN, GIVER, TEAM, Harness, make_settings, texts
from tests.e2e.test_people import joined

TEAM_CHANNEL, COMPANY = "C0TEAM", "C0ALL"
CAL, NEW = "U0CAL", "U0NEW"
# Monday 23 November 2026, 09:00 in London (GMT): the recap of Monday 16 to Sunday 22.
RECAP_TIME = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(h: Harness, *when: int) -> None:
    h.clock.set(datetime(*when, tzinfo=UTC))  # type: ignore[misc]


@pytest.fixture
def week(harness: Harness) -> Harness:
    """Gia, Ana and Nora are in #team; Ben and Cal are elsewhere. A week of kudos, promises and more."""
    h = harness
    h.fake.add_user(CAL, "cal", tz="Europe/Berlin")
    h.fake.add_user(NEW, "nora", tz="Europe/London")
    h.fake.add_channel(TEAM_CHANNEL, "team", members=[GIVER, ANA, NEW])
    h.fake.add_channel(COMPANY, "everyone", members=[GIVER, ANA, BEN, CAL, NEW])
    h.configure(
        timezone="Europe/London",
        daily_allowance=0,
        recaps={
            TEAM_CHANNEL: {"weekday": 0, "hour": 9},
            COMPANY: {"weekday": 0, "hour": 9, "scope": "workspace"},
        },
    )
    # The week before: one kudos, on Tuesday.
    at(h, 2026, 11, 10, 12)
    h.command(f"<@{ANA}|ana> for last week's help")
    # Monday 16: Gia thanks Ana; Tuesday: Ana thanks Ben; Wednesday: Ben thanks Cal (outside #team);
    # Thursday: Gia thanks Ana and Ben.
    at(h, 2026, 11, 16, 10)
    h.command(f"<@{ANA}|ana> thanks for the late-night fix #ownership")
    at(h, 2026, 11, 17, 11)
    h.command(f"<@{BEN}|ben> great review #craft", user_id=ANA)
    joined(h, NEW, event_id="EvRecapJoin")
    at(h, 2026, 11, 18, 12)
    h.command(f"<@{CAL}|cal> nice", user_id=BEN)
    at(h, 2026, 11, 19, 14)
    h.command(f"<@{ANA}|ana> <@{BEN}|ben> the launch went so smoothly #ownership")
    # Promises: Gia keeps hers on time, Ana hers late; Gia's second and Ben's are still open past due.
    at(h, 2026, 11, 16, 9)
    h.command(f"<@{ANA}|ana> send the deck by Thursday 10am", name="/promise")
    h.command(f"<@{GIVER}|gia> the numbers by Tuesday 10am", name="/promise", user_id=ANA)
    h.command(f"<@{ANA}|ana> the contract by Friday 9am", name="/promise")
    h.command(f"<@{GIVER}|gia> the review by Wednesday 9am", name="/promise", user_id=BEN)
    with h.session() as session:
        promises = {p.what: p.id for p in session.scalars(select(Promise))}
    at(h, 2026, 11, 18, 16)
    h.app.services.promises.done(team_id=TEAM, promise_id=promises["send the deck"], actor_id=GIVER)
    at(h, 2026, 11, 19, 9)
    h.app.services.promises.done(team_id=TEAM, promise_id=promises["the numbers"], actor_id=ANA)
    # A check-in Gia marked done on Friday.
    made = h.app.services.checkins.make(
        CheckinRequest(
            team_id=TEAM,
            requester_id=GIVER,
            dedupe_key="recap-checkin",
            contact_name="Jane",
            text="every week",
        )
    )
    at(h, 2026, 11, 20, 10)
    h.app.services.checkins.done(team_id=TEAM, checkin_id=made.checkin.id, actor_id=GIVER)
    # Ana's birthday is on Wednesday 25 November, next week.
    h.command("25 November", name="/birthday", user_id=ANA)
    h.settle()
    h.fake.clear_calls()
    return h


def recap_post(h: Harness, channel: str) -> dict[str, Any]:
    [post] = [
        c.params for c in h.fake.calls_to("chat.postMessage") if c.ok and c.params["channel"] == channel
    ]
    return post


def test_a_channel_recap_counts_its_members_week_exactly(week: Harness) -> None:
    h = week
    h.clock.set(RECAP_TIME)
    h.app.services.delivery.tick()

    shown = texts(recap_post(h, TEAM_CHANNEL)["blocks"])
    assert "This week at a glance" in shown
    assert "Mon 16 Nov to Sun 22 Nov · about this channel's members" in shown
    assert ":clap: *3 kudos*, thanking *2 people*. Most mentioned: `#ownership` (2), `#craft` (1)" in shown
    assert "*2 promises kept*, 50% on time; *1 check-in* done." in shown
    assert "1 promise is past their time" in shown  # Gia's contract (Ben is not in #team); no names
    assert f"Say hi to <@{NEW}>, who joined this week." in shown
    assert f"Coming up: <@{ANA}>'s birthday (Wed 25 Nov)." in shown
    # The highlights: the kudos to two people first, then the latest.
    assert f"<@{GIVER}> → <@{ANA}> and <@{BEN}>: “the launch went so smoothly”" in shown
    assert "for last week's help" not in shown


def test_a_company_recap_counts_everybody_and_names_only_when_allowed(week: Harness) -> None:
    h = week
    h.configure(recap_names=True)
    h.clock.set(RECAP_TIME)
    h.app.services.delivery.tick()

    shown = texts(recap_post(h, COMPANY)["blocks"])
    assert "about everyone" in shown
    assert ":clap: *4 kudos*, thanking *3 people*." in shown
    # One each, so by id: Ben's review, Gia's contract.
    assert f"Still open past their time: <@{BEN}>, <@{GIVER}>." in shown


def test_the_chart_is_uploaded_into_the_channel_after_the_post(week: Harness) -> None:
    h = week
    h.clock.set(RECAP_TIME)
    h.app.services.delivery.tick()

    methods = [c.method for c in h.fake.calls if c.method != "conversations.members"]
    post_at = methods.index("chat.postMessage")
    assert methods[post_at:].count("files.getUploadURLExternal") == 2
    assert {f["title"] for f in h.fake.files()} == {"Kudos, week of 16 Nov"}
    shared = {channel for f in h.fake.files() for channel in f["shared_to"]}
    assert shared == {TEAM_CHANNEL, COMPANY}
    assert all(f["data"].startswith(b"\x89PNG\r\n\x1a\n") for f in h.fake.files())


def test_a_failed_upload_leaves_the_post_standing(week: Harness) -> None:
    h = week
    h.fake.fail_next_upload(times=2)
    h.clock.set(RECAP_TIME)
    h.app.services.delivery.tick()

    assert recap_post(h, TEAM_CHANNEL) and recap_post(h, COMPANY)
    assert [f["shared_to"] for f in h.fake.files()] == [[], []]
    with h.session() as session:
        charts = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "recap.chart")).all()
    # The charts try again; the posts are done.
    assert [(row.status, row.attempts) for row in charts] == [("pending", 1), ("pending", 1)]
    h.clock.set(RECAP_TIME.replace(minute=1))
    h.app.services.delivery.tick()
    assert sorted(c for f in h.fake.files() for c in f["shared_to"]) == [COMPANY, TEAM_CHANNEL]


def test_one_recap_per_channel_per_week_however_often_and_wherever_it_is_ticked(week: Harness) -> None:
    h = week
    h.clock.set(RECAP_TIME)
    replica = build_app(make_settings(h.app.settings.DATABASE_URL, h.fake.url), clock=h.clock)
    workers = [h.app.services.delivery, replica.services.delivery]

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: workers[n % 2].tick(), range(8)))
    replica.workers.shutdown()
    replica.engine.dispose()
    h.app.services.delivery.tick()
    h.clock.set(RECAP_TIME.replace(hour=17))
    h.app.services.delivery.tick()

    posts = [c for c in h.fake.calls_to("chat.postMessage") if c.ok and c.params["channel"][0] == "C"]
    assert sorted(c.params["channel"] for c in posts) == [COMPANY, TEAM_CHANNEL]
    assert len(h.fake.files()) == 2
    with h.session() as session:
        keys = sorted(
            session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "recap.post"))
        )
    assert keys == [f"recap:{COMPANY}:2026-W48", f"recap:{TEAM_CHANNEL}:2026-W48"]


def test_a_recap_that_missed_its_day_is_dropped(week: Harness) -> None:
    h = week
    h.clock.set(datetime(2026, 11, 24, 0, 30, tzinfo=UTC))  # Tuesday: Monday's recap would be news no more

    h.app.services.delivery.tick()

    assert [c for c in h.fake.calls_to("chat.postMessage") if c.params["channel"][0] == "C"] == []


def test_recap_preview_shows_the_week_so_far_to_the_caller_alone(week: Harness) -> None:
    h = week
    h.clock.set(datetime(2026, 11, 20, 17, 0, tzinfo=UTC))  # Friday: Monday's recap is still to come

    reply = h.command("preview", name="/recap", channel_id=TEAM_CHANNEL)

    shown = texts(reply["blocks"])
    assert "This week so far" in shown and ":clap: *3 kudos*" in shown
    assert h.fake.calls_to("chat.postMessage") == []
    assert "/recap preview" in texts(h.command("help", name="/recap")["blocks"])


def test_a_quiet_week_gets_a_friendly_line_not_zeros(harness: Harness) -> None:
    h = harness
    h.fake.add_channel(TEAM_CHANNEL, "team", members=[GIVER, ANA])
    h.configure(recaps={TEAM_CHANNEL: {"weekday": 0, "hour": 9}})
    h.clock.set(RECAP_TIME)

    h.app.services.delivery.tick()

    shown = texts(recap_post(h, TEAM_CHANNEL)["blocks"])
    assert "A quiet week." in shown and "0 kudos" not in shown
    assert h.fake.files() == []  # nothing to draw


def test_recaps_are_set_from_the_command_line() -> None:
    from bot.cli import _recaps

    recaps = _recaps({}, ["C0TEAM", "C0ALL=fri@16:workspace"])
    assert recaps == {"C0TEAM": {}, "C0ALL": {"weekday": 4, "hour": 16, "scope": "workspace"}}
    assert _recaps(recaps, ["C0TEAM=off"]) == {"C0ALL": {"weekday": 4, "hour": 16, "scope": "workspace"}}
    with pytest.raises(ValueError, match="not a day of the week"):
        _recaps({}, ["C0TEAM=someday@9"])


def test_the_readme_chart_is_one_the_tests_drew(week: Harness) -> None:
    """docs/recap-chart.png is this seeded week's chart; EXTRAMILE_WRITE_DOCS=1 draws it again."""
    import os
    from pathlib import Path

    h = week
    h.clock.set(RECAP_TIME)
    h.app.services.delivery.tick()
    [drawn] = [f["data"] for f in h.fake.files() if TEAM_CHANNEL in f["shared_to"]]
    picture = Path(__file__).resolve().parents[2] / "docs" / "recap-chart.png"
    if os.environ.get("EXTRAMILE_WRITE_DOCS") == "1":
        picture.write_bytes(drawn)
    committed = picture.read_bytes()
    assert committed.startswith(b"\x89PNG\r\n\x1a\n")
    # The same picture size (900 x 374 pixels): the README shows what a recap looks like today.
    assert committed[16:24] == drawn[16:24]


def test_a_preview_on_recap_day_before_its_hour_shows_the_week_about_to_be_told(week: Harness) -> None:
    h = week
    h.clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # Monday, an hour before the recap
    h.command(f"<@{ANA}|ana> an early one", user_id=GIVER)  # Monday's: next week's recap

    shown = texts(h.command("preview", name="/recap", channel_id=TEAM_CHANNEL)["blocks"])

    assert "This week at a glance" in shown and "Mon 16 Nov to Sun 22 Nov" in shown
    assert ":clap: *3 kudos*" in shown


def test_kudos_given_in_a_private_channel_count_but_are_not_quoted_elsewhere(week: Harness) -> None:
    h = week
    h.fake.add_channel("G0SECRET", "secret", is_private=True, members=[GIVER, ANA])
    h.clock.set(datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    h.command(f"<@{ANA}|ana> <@{BEN}|ben> <@{CAL}|cal> the secret project is saved", channel_id="G0SECRET")
    h.clock.set(RECAP_TIME)

    h.app.services.delivery.tick()

    shown = texts(recap_post(h, COMPANY)["blocks"])
    assert ":clap: *5 kudos*" in shown  # it counts
    assert "secret project" not in shown  # its words stay in the private channel


def test_every_time_a_check_in_is_done_counts(week: Harness) -> None:
    h = week
    with h.session() as session:
        [checkin_id] = session.scalars(select(Checkin.id)).all()
    h.clock.set(datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    h.app.services.checkins.done(team_id=TEAM, checkin_id=checkin_id, actor_id=GIVER, token="click-1")
    h.app.services.checkins.done(
        team_id=TEAM, checkin_id=checkin_id, actor_id=GIVER, token="click-1"
    )  # again
    h.clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # done once more, next week's
    h.app.services.checkins.done(team_id=TEAM, checkin_id=checkin_id, actor_id=GIVER, token="click-2")
    h.clock.set(RECAP_TIME)

    h.app.services.delivery.tick()

    assert "*2 check-ins* done" in texts(recap_post(h, TEAM_CHANNEL)["blocks"])


def test_a_schedule_moved_during_the_week_is_followed(week: Harness) -> None:
    h = week
    h.clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    h.app.services.delivery.tick()  # Monday's recap planned for 09:00
    h.configure(recaps={TEAM_CHANNEL: {"weekday": 0, "hour": 11}})

    h.clock.set(RECAP_TIME)
    h.app.services.delivery.tick()
    assert [c for c in h.fake.calls_to("chat.postMessage") if c.params["channel"] == TEAM_CHANNEL] == []
    h.clock.set(RECAP_TIME.replace(hour=11))
    h.app.services.delivery.tick()
    assert recap_post(h, TEAM_CHANNEL)


def test_extramile_workspace_and_tick_post_the_recap_once(week: Harness, tmp_path: Path) -> None:
    """The commands an operator runs: move #team's recap to Tuesday 10:00, stop the company one, tick."""
    from tests.test_cli import clean_env, extramile

    h = week
    env = clean_env(
        tmp_path,
        DATABASE_URL=h.app.settings.DATABASE_URL,
        SLACK_BOT_TOKEN="xoxb-cli",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=h.fake.url,
    )
    moved = extramile(
        "workspace",
        TEAM,
        "--recap",
        f"{TEAM_CHANNEL}=tuesday@10",
        "--recap",
        f"{COMPANY}=off",
        env=env,
        cwd=tmp_path,
    )
    assert moved.returncode == 0, moved.stderr

    monday = extramile("tick", "--at", RECAP_TIME.isoformat(), env=env, cwd=tmp_path)
    assert monday.returncode == 0, monday.stderr
    assert [c for c in h.fake.calls_to("chat.postMessage") if c.params["channel"][0] == "C"] == []

    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=UTC).isoformat()
    for _ in range(2):
        ticked = extramile("tick", "--at", tuesday, env=env, cwd=tmp_path)
        assert ticked.returncode == 0, ticked.stderr

    shown = texts(recap_post(h, TEAM_CHANNEL)["blocks"])
    # A Tuesday recap tells the seven days before it: Monday 16's kudos is last week's news.
    assert "Tue 17 Nov to Mon 23 Nov" in shown and ":clap: *2 kudos*, thanking *2 people*." in shown
    assert [f["shared_to"] for f in h.fake.files()] == [[TEAM_CHANNEL]]
    # Every Web API call carried the operator's token; the bytes go to the upload URL, which takes none.
    assert {c.method for c in h.fake.calls if c.token != "xoxb-cli"} == {"upload"}


def test_an_idle_server_loads_no_heavy_library_until_it_needs_it(tmp_path: Path) -> None:
    """Charts (matplotlib), date parsing (dateparser) and Microsoft's SDK are imported when first needed,
    so an idle Slack-only server's memory does not carry them (issue #12, benchmark 4)."""
    import subprocess
    import sys

    from tests.test_cli import ROOT, clean_env

    script = f"""
import sys
from datetime import UTC, datetime
from bot.app import build_app
from bot.services.charts import recap_chart
from bot.services.due_dates import parse_due
from handlers.slack.fake_api import FakeSlack
from storage.db import create_db_engine, upgrade
from tests.conftest import make_settings

def loaded():
    return [name in sys.modules for name in ("matplotlib", "dateparser", "microsoft_agents")]

with FakeSlack(team_id="{TEAM}") as fake:
    engine = create_db_engine("sqlite:///{tmp_path / "idle.db"}")
    upgrade(engine)
    app = build_app(make_settings("sqlite:///{tmp_path / "idle.db"}", fake.url), engine=engine)
    app.services.delivery.tick()
    print("after start and a tick:", loaded())
    recap_chart(day_labels=["Mon"], this_week=[1], last_week=[0], values=[])
    print("after a chart:", loaded())
    parse_due("14 March", now=datetime(2026, 11, 18, tzinfo=UTC), tz="UTC")
    print("after a date in words:", loaded())
    app.workers.shutdown()
"""
    ran = subprocess.run(
        [sys.executable, "-c", script],
        env=clean_env(tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        "after start and a tick: [False, False, False]",
        "after a chart: [True, False, False]",
        "after a date in words: [True, True, False]",
    ]
