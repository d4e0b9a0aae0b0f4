"""People: welcomes, waves, channel greetings, shared dates, celebrations, deactivation, forget-me."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage.models import Kudos, OutboxMessage, Person, PersonDates, Promise
from tests.conftest import ANA, BEN, GENERAL, GIVER, TEAM, Harness, payload, texts
from tests.e2e.test_promises import button, submit, tick

CELEBRATIONS = "C0PARTY"
ROOT = Path(__file__).resolve().parent.parent.parent


def joined(
    h: Harness, user_id: str, *, event_id: str = "EvJ1", retry: int | None = None, **user: Any
) -> None:
    envelope = payload("team_join", event_id=event_id)
    envelope["event"]["user"] = {**envelope["event"]["user"], "id": user_id, "name": user_id.lower(), **user}
    envelope["event"]["user"]["profile"] = {
        **envelope["event"]["user"]["profile"],
        "display_name": user_id.lower(),
    }
    h.event(envelope, retry_num=retry)


def changed(h: Harness, user_id: str, **user: Any) -> None:
    envelope = payload("user_change", event_id=f"EvU{user_id}{len(h.fake.calls)}")
    envelope["event"]["user"] = {**envelope["event"]["user"], "id": user_id, **user}
    h.event(envelope)


def cmd(h: Harness, name: str, text: str, **kwargs: Any) -> Any:
    return h.command(text, name=name, **kwargs)


def shared_dates(h: Harness) -> list[PersonDates]:
    with h.session() as session:
        return list(session.scalars(select(PersonDates).order_by(PersonDates.user_id)))


def test_a_newcomer_is_welcomed_once_and_the_team_waves(harness: Harness) -> None:
    h = harness
    h.fake.add_channel("C0HELLO", "say-hello")
    h.configure(welcome_channel_id="C0HELLO")
    h.fake.add_user("U0NEW", "nora", tz="Europe/Paris")

    joined(h, "U0NEW", event_id="EvJ1")
    joined(h, "U0NEW", event_id="EvJ1", retry=1)
    joined(h, "U0NEW", event_id="EvJ2")  # the same join reported again

    [welcome] = h.posts("U0NEW")
    assert "Welcome aboard, u0new!" in texts(welcome["blocks"])
    assert [e["action_id"] for b in welcome["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
        "welcome_share_dates"
    ]
    [hello] = h.posts("C0HELLO")
    assert "Please welcome <@U0NEW>, who just joined!" in texts(hello["blocks"])

    button(h, hello, "welcome_wave", user_id=ANA, tag="w1")
    button(h, hello, "welcome_wave", user_id=ANA, tag="w2")
    button(h, hello, "welcome_wave", user_id=BEN, tag="w3")
    waves = [texts(m["blocks"]) for m in h.posts("U0NEW")[1:]]
    assert waves == [f"<@{ANA}> waved at you 👋", f"<@{BEN}> waved at you 👋"]
    assert "You already waved" in next(r for r in h.responses(ANA) if r["tag"].endswith("w2"))["text"]


def test_bots_guests_and_deactivated_people_are_not_welcomed_unless_guests_are_wanted(
    harness: Harness,
) -> None:
    h = harness
    joined(h, "U0BOTTY", is_bot=True)
    joined(h, "U0GUEST", is_restricted=True, event_id="EvG")
    joined(h, "U0GONE", deleted=True, event_id="EvD")
    assert h.fake.calls_to("chat.postMessage") == []

    h.fake.add_user("U0GUEST2", "guest2")
    h.configure(
        welcome_guests=True,
        welcome_text="Hi {name}, welcome to the {channel}project! Ping {mention} anytime.",
    )
    joined(h, "U0GUEST2", is_ultra_restricted=True, event_id="EvG2")
    [welcome] = h.posts("U0GUEST2")
    assert "Hi u0guest2, welcome to the project! Ping <@U0GUEST2> anytime." in texts(welcome["blocks"])


def test_channel_greetings_only_in_configured_channels(harness: Harness) -> None:
    h = harness
    h.configure(channel_welcomes={GENERAL: "Welcome to {channel}, {mention}! The pinned post has the FAQ."})
    envelope = payload("member_joined_channel")
    envelope["event"] = {**envelope["event"], "user": BEN, "channel": GENERAL}
    h.event(envelope)
    h.event(envelope, retry_num=1)
    other = payload("member_joined_channel", event_id="EvOther")
    other["event"] = {**other["event"], "user": BEN, "channel": "C0RANDOM"}
    h.event(other)

    [greeting] = h.posts(BEN)
    assert texts(greeting["blocks"]) == f"Welcome to <#{GENERAL}>, <@{BEN}>! The pinned post has the FAQ."


def test_sharing_dates_keeps_no_year(harness: Harness) -> None:
    h = harness
    assert "Saved." in cmd(h, "/birthday", "14 March 1990")["text"]
    assert "Saved." in cmd(h, "/anniversary", "2021-04-12")["text"]
    [row] = shared_dates(h)
    assert (row.birthday_month, row.birthday_day, row.start_date, row.source) == (
        3,
        14,
        date(2021, 4, 12),
        "self",
    )
    assert not hasattr(row, "birthday_year")

    for name, text, expected in [
        ("/birthday", "the ides of march", "like `14 March`"),
        ("/birthday", "31 February", "isn't a day of the year"),
        ("/anniversary", "2030-01-01", "That's in the future"),
        ("/anniversary", "last spring", "like `2021-04-12`"),
    ]:
        assert expected in cmd(h, name, text)["text"], text
    [row] = shared_dates(h)
    assert (row.birthday_month, row.birthday_day, row.start_date) == (3, 14, date(2021, 4, 12))

    cmd(h, "/birthday", "clear")
    cmd(h, "/anniversary", "clear")
    assert shared_dates(h) == []


def test_the_welcome_form_shares_dates(harness: Harness) -> None:
    h = harness
    h.fake.add_user("U0NEW", "nora")
    joined(h, "U0NEW")
    [welcome] = h.posts("U0NEW")
    button(h, welcome, "welcome_share_dates", user_id="U0NEW", tag="dates")
    view = h.fake.calls_to("views.open")[0].params["view"]
    view = {**view, "private_metadata": view.get("private_metadata", "")}

    bad = submit(
        h,
        view,
        {"dates_birthday": {"birthday": {"type": "plain_text_input", "value": "sometime"}}},
        view_id="VD1",
        user_id="U0NEW",
    )
    assert bad["response_action"] == "errors" and "dates_birthday" in bad["errors"]
    assert shared_dates(h) == []
    values = {
        "dates_birthday": {"birthday": {"type": "plain_text_input", "value": "2 July"}},
        "dates_start": {"start": {"type": "datepicker", "selected_date": "2026-11-16"}},
    }
    assert submit(h, view, values, view_id="VD2", user_id="U0NEW") is None
    [row] = shared_dates(h)
    assert (row.user_id, row.birthday_month, row.birthday_day, row.start_date) == (
        "U0NEW",
        7,
        2,
        date(2026, 11, 16),
    )


def test_celebrations_land_at_nine_in_each_persons_zone(harness: Harness) -> None:
    h = harness
    h.fake.add_channel(CELEBRATIONS, "celebrations")
    h.configure(celebrations_channel_id=CELEBRATIONS)
    h.fake.add_user("U0LDN2", "lee", tz="Europe/London")
    for user_id in (GIVER, ANA, BEN, "U0LDN2"):
        cmd(h, "/birthday", "19 November", user_id=user_id)
    cmd(h, "/anniversary", "2023-11-19", user_id="U0LDN2")

    moments = {
        datetime(2026, 11, 18, 23, 59, tzinfo=UTC): 0,
        datetime(2026, 11, 19, 0, 0, tzinfo=UTC): 1,  # 09:00 in Tokyo
        datetime(2026, 11, 19, 8, 59, tzinfo=UTC): 1,
        datetime(2026, 11, 19, 9, 0, tzinfo=UTC): 2,  # 09:00 in London: Gia and Lee share one post
        datetime(2026, 11, 19, 14, 0, tzinfo=UTC): 3,  # 09:00 in New York
    }
    for at, posts in moments.items():
        tick(h, at)
        assert len(h.posts(CELEBRATIONS)) == posts, at
    tokyo, london, new_york = (texts(p["blocks"]) for p in h.posts(CELEBRATIONS))
    assert f"Happy birthday, <@{BEN}>!" in tokyo
    assert f"Happy birthday, <@{GIVER}>!" in london and "Happy birthday, <@U0LDN2>!" in london
    assert "<@U0LDN2>: 3 years with us!" in london
    assert f"Happy birthday, <@{ANA}>!" in new_york
    for text in (tokyo, london, new_york):
        assert "19" not in text.replace("19 N", "") and "age" not in text  # never an age or a year
    assert "Happy birthday!" in texts(h.posts(BEN)[0]["blocks"])
    assert len(h.posts("U0LDN2")) == 2  # a birthday DM and an anniversary DM


def test_weekends_are_celebrated_on_the_friday_before_and_29_february_on_the_28th(harness: Harness) -> None:
    h = harness
    h.fake.add_channel(CELEBRATIONS, "celebrations")
    h.configure(celebrations_channel_id=CELEBRATIONS)
    cmd(h, "/birthday", "21 November")  # a Saturday in 2026
    h.clock.set(datetime(2027, 2, 20, 12, 0, tzinfo=UTC))
    cmd(h, "/birthday", "29 February", user_id=ANA)  # Sunday 28 February in 2027

    h.clock.set(datetime(2026, 11, 18, 15, 0, tzinfo=UTC))
    tick(h, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    [friday] = h.posts(CELEBRATIONS)
    assert f"Happy birthday, <@{GIVER}>! (for Saturday, 21 November)" in texts(friday["blocks"])
    assert "We're celebrating early: the day itself is Saturday." in texts(h.posts(GIVER)[0]["blocks"])
    tick(h, datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    assert len(h.posts(CELEBRATIONS)) == 1

    tick(h, datetime(2027, 2, 26, 14, 0, tzinfo=UTC))  # Friday 26 February, 09:00 in New York
    assert f"Happy birthday, <@{ANA}>! (for Sunday, 28 February)" in texts(h.posts(CELEBRATIONS)[1]["blocks"])

    h.configure(weekend_rule="same_day")
    tick(h, datetime(2027, 11, 21, 9, 0, tzinfo=UTC))  # Sunday 21 November 2027, on the day itself
    assert texts(h.posts(CELEBRATIONS)[2]["blocks"]).startswith(f":birthday: Happy birthday, <@{GIVER}>!")


def test_a_celebration_is_not_posted_late_in_the_day(harness: Harness) -> None:
    h = harness
    h.fake.add_channel(CELEBRATIONS, "celebrations")
    h.configure(celebrations_channel_id=CELEBRATIONS)
    cmd(h, "/birthday", "19 November")
    tick(h, datetime(2026, 11, 18, 20, 0, tzinfo=UTC))  # planned the evening before
    tick(h, datetime(2026, 11, 19, 23, 0, tzinfo=UTC))  # the bot was down all day
    assert h.posts(CELEBRATIONS) == []
    with h.session() as session:
        statuses = {row.kind: (row.status, row.last_error) for row in session.scalars(select(OutboxMessage))}
    assert statuses["celebration.post"] == ("cancelled", "too late to be worth sending")


def test_birthday_list_shows_the_next_30_days(harness: Harness) -> None:
    h = harness
    cmd(h, "/birthday", "25 November", user_id=ANA)
    cmd(h, "/anniversary", "2020-12-01", user_id=BEN)
    cmd(h, "/birthday", "1 February", user_id=GIVER)

    listing = texts(cmd(h, "/birthday", "list")["blocks"])

    assert f"Wed 25 Nov: <@{ANA}>, birthday" in listing
    assert f"Tue 1 Dec: <@{BEN}>, 6 years with us" in listing
    assert GIVER not in listing


def test_deactivation_cancels_pending_messages_and_stops_celebrations(harness: Harness) -> None:
    h = harness
    h.fake.add_channel(CELEBRATIONS, "celebrations")
    h.configure(celebrations_channel_id=CELEBRATIONS)
    cmd(h, "/birthday", "20 November", user_id=BEN)
    h.command("<@U0BEN|ben> thanks!")  # midnight in Tokyo: the DM waits for Ben's morning
    h.command("<@U0BEN|ben> the report tomorrow 10am", name="/promise", user_id=ANA)

    changed(h, BEN, deleted=True, tz="Asia/Tokyo")
    with h.session() as session:
        to_ben = {
            row.kind: row.status
            for row in session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_id == BEN))
        }
        assert session.get(Person, (TEAM, BEN)).is_deleted is True
    assert to_ben == {"kudos.dm": "cancelled", "promise.notice": "cancelled"}
    tick(h, datetime(2026, 11, 20, 0, 0, tzinfo=UTC))
    assert h.posts(CELEBRATIONS) == [] and h.posts(BEN) == []

    changed(h, BEN, deleted=False, tz="Asia/Tokyo")  # back again: celebrated next year
    tick(h, datetime(2027, 11, 19, 0, 0, tzinfo=UTC))
    assert len(h.posts(CELEBRATIONS)) == 1


def test_a_timezone_change_moves_what_comes_next(harness: Harness) -> None:
    h = harness
    h.fake.add_channel(CELEBRATIONS, "celebrations")
    h.configure(celebrations_channel_id=CELEBRATIONS)
    cmd(h, "/birthday", "20 November", user_id=ANA)
    changed(h, ANA, tz="Asia/Tokyo")  # Ana moved to Tokyo
    tick(h, datetime(2026, 11, 20, 0, 0, tzinfo=UTC))
    assert len(h.posts(CELEBRATIONS)) == 1


def test_import_from_csv_reports_each_row(harness: Harness, tmp_path: Path) -> None:
    h = harness
    h.fake.add_user("U0EMAIL", "eve", email="eve@acme.example")
    good = tmp_path / "people.csv"
    good.write_text(
        "user,birthday,start_date\n"
        "U0ANA,14 March,2021-04-12\n"
        "eve@acme.example,2 July,\n"
        "nobody@acme.example,1 May,\n"
        "U0BEN,31 February,\n"
        ",1 May,\n"
        "U0GIVER,,\n"
    )
    env = {
        "DATABASE_URL": h.app.settings.DATABASE_URL,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": h.fake.url,
        "PATH": "",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "people", "import", str(good)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "2 imported, 4 skipped" in result.stdout
    assert (
        "skipped   line 4: nobody@acme.example: no Slack user with that email (users_not_found)"
        in result.stdout
    )
    assert "skipped   line 5: U0BEN: `31 February` isn't a day of the year" in result.stdout
    rows = {(r.user_id, r.birthday_month, r.birthday_day, r.start_date, r.source) for r in shared_dates(h)}
    assert rows == {(ANA, 3, 14, date(2021, 4, 12), "import"), ("U0EMAIL", 7, 2, None, "import")}

    broken = tmp_path / "broken.csv"
    broken.write_text("name;date\nana;14 March\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "people", "import", str(broken)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "nothing imported" in result.stderr
    assert len(shared_dates(h)) == 2


def test_forget_me_leaves_no_personal_date(harness: Harness) -> None:
    h = harness
    cmd(h, "/birthday", "14 March")
    cmd(h, "/anniversary", "2021-04-12")
    h.command("<@U0ANA|ana> thanks for the fix")
    h.command("<@U0ANA|ana> the deck by Friday 3pm", name="/promise")
    h.command("<@U0ANA|ana> every 2 weeks", name="/checkin")

    reply = cmd(h, "/extramile", "forget-me")
    assert "*Forget me?*" in texts(reply["blocks"])
    confirm = {"blocks": reply["blocks"]}
    button(h, confirm, "forget_me_confirm", tag="forget")
    button(h, confirm, "forget_me_confirm", tag="forget-again")

    [done] = [r for r in h.responses(GIVER) if r["tag"].endswith("/forget")]
    assert done["replace_original"] is True and "Your dates and preferences are gone" in done["text"]
    assert shared_dates(h) == []
    with h.session() as session:
        assert session.get(Person, (TEAM, GIVER)) is None
        assert [k.giver_id for k in session.scalars(select(Kudos))] == [None]
        assert [(p.promiser_id, p.status) for p in session.scalars(select(Promise))] == [(None, "cancelled")]
        pending = [
            r
            for r in session.scalars(select(OutboxMessage))
            if r.status == "pending" and r.recipient_id == GIVER
        ]
        assert pending == []
    # The kudos Ana received stays hers, from "a former colleague".
    board = h.command("top")
    assert f"1. <@{ANA}> · 1" in " ".join(f["text"] for b in board["blocks"] for f in b.get("fields", []))
    tick(h, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    tick(h, datetime(2026, 11, 20, 15, 0, tzinfo=UTC) + timedelta(days=30))
    assert h.posts(GIVER) == []


def test_channel_greetings_can_be_ephemeral_in_the_channel(harness: Harness) -> None:
    h = harness
    h.configure(
        channel_welcomes={GENERAL: "Hi {mention}, welcome to {channel}!"}, channel_welcome_mode="ephemeral"
    )
    envelope = payload("member_joined_channel")
    envelope["event"] = {**envelope["event"], "user": BEN, "channel": GENERAL}

    h.event(envelope)
    h.event(envelope, retry_num=1)

    assert h.posts(BEN) == []
    [greeting] = h.fake.calls_to("chat.postEphemeral")
    assert (greeting.params["channel"], greeting.params["user"]) == (GENERAL, BEN)
    assert greeting.params["text"] == f"Hi <@{BEN}>, welcome to <#{GENERAL}>!"


def test_the_optional_heads_up_reaches_teammates_the_day_before(harness: Harness, tmp_path: Path) -> None:
    h = harness
    h.fake.add_user("U0LEE", "lee", tz="Europe/London")
    h.fake.add_user("U0BOT", "deploybot", is_bot=True)
    h.fake.add_channel(CELEBRATIONS, "celebrations", members=[GIVER, ANA, "U0BOT"])
    h.configure(celebrations_channel_id=CELEBRATIONS)
    cmd(h, "/birthday", "20 November", user_id=ANA)
    tick(h, datetime(2026, 11, 19, 14, 0, tzinfo=UTC))
    assert h.posts(GIVER) == []  # off by default

    env = {
        "DATABASE_URL": h.app.settings.DATABASE_URL,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": h.fake.url,
        "PATH": "",
        "PYTHONPATH": str(ROOT),
    }
    turned_on = subprocess.run(
        [sys.executable, "-m", "bot.cli", "workspace", TEAM, "--celebration-heads-up", "yes"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert turned_on.returncode == 0, turned_on.stderr
    assert "2 members of the celebrations channel will get the heads-up" in turned_on.stdout  # not the bot
    joined_channel = payload("member_joined_channel", event_id="EvLee")
    joined_channel["event"] = {**joined_channel["event"], "user": "U0LEE", "channel": CELEBRATIONS}
    h.event(joined_channel)
    left = payload("member_joined_channel", event_id="EvGiaLeft")
    left["event"] = {**left["event"], "type": "member_left_channel", "user": GIVER, "channel": CELEBRATIONS}
    h.event(left)

    tick(h, datetime(2026, 11, 19, 14, 0, tzinfo=UTC))  # 09:00 in New York, the day before
    tick(h, datetime(2026, 11, 19, 15, 0, tzinfo=UTC))
    [heads_up] = h.posts("U0LEE")
    assert texts(heads_up["blocks"]) == (
        f"Heads-up: tomorrow we celebrate <@{ANA}>'s birthday :birthday:. A note in <#{CELEBRATIONS}> would make their day."
    )
    assert h.posts(GIVER) == [] and h.posts(ANA) == [] and h.posts("U0BOT") == []


def test_the_monday_rule_celebrates_a_little_late(harness: Harness) -> None:
    h = harness
    h.fake.add_channel(CELEBRATIONS, "celebrations")
    h.configure(celebrations_channel_id=CELEBRATIONS, weekend_rule="monday")
    cmd(h, "/birthday", "21 November")  # Saturday

    tick(h, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    assert h.posts(CELEBRATIONS) == []
    tick(h, datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert f"Happy birthday, <@{GIVER}>! (for Saturday, 21 November)" in texts(
        h.posts(CELEBRATIONS)[0]["blocks"]
    )
    assert "A little late: the day itself was Saturday." in texts(h.posts(GIVER)[0]["blocks"])


def test_a_newcomer_deactivated_before_the_welcome_post_goes_out_is_not_announced(harness: Harness) -> None:
    h = harness
    h.fake.add_channel("C0HELLO", "say-hello")
    h.configure(welcome_channel_id="C0HELLO")
    h.fake.add_user("U0NEW", "nora", tz="Europe/Paris")
    h.fake.fail_next("chat.postMessage", "ratelimited", channel="C0HELLO")  # the post has to wait a moment

    joined(h, "U0NEW")
    assert h.posts("C0HELLO") == [] and len(h.posts("U0NEW")) == 1
    changed(h, "U0NEW", deleted=True)  # gone before the post's second try
    tick(h, h.clock.now() + timedelta(minutes=1))

    assert h.posts("C0HELLO") == []
    with h.session() as session:
        [post] = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_id == "C0HELLO")).all()
        assert post.status == "cancelled"
