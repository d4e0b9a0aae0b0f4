"""/kudos over signed HTTP: what Slack receives and what the database holds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from storage.models import Kudos, KudosRecipient, KudosValue, OutboxMessage
from tests.conftest import ANA, BEN, GENERAL, GIVER, TEAM, Harness, payload, texts


def kudos_rows(h: Harness) -> list[Kudos]:
    with h.session() as session:
        return list(session.scalars(select(Kudos).order_by(Kudos.id)))


def test_kudos_posts_publicly_and_dms_the_recipient(harness: Harness) -> None:
    reply = harness.command("<@U0ANA|ana> thanks for the late-night fix #ownership")

    assert reply is None  # posted where it was given: nothing more to say to the giver
    [post] = harness.posts(GENERAL)
    assert f"<@{GIVER}> gave kudos to <@{ANA}>" in texts(post["blocks"])
    assert ">thanks for the late-night fix" in texts(post["blocks"])
    assert "`#ownership`" in texts(post["blocks"])
    assert post["metadata"]["event_type"] == "extramile_outbox"  # found again after a crash mid-send
    [dm] = [
        call.params for call in harness.fake.calls_to("chat.postMessage") if call.params["channel"] == ANA
    ]
    [message] = harness.fake.messages(GENERAL)
    [permalink_call] = harness.fake.calls_to("chat.getPermalink")
    assert permalink_call.params == {"channel": GENERAL, "message_ts": message["ts"]}
    permalink = permalink_call.response["permalink"]
    assert f"<{permalink}|See it in the channel>" in texts(dm["blocks"])
    [kudos] = kudos_rows(harness)
    assert (kudos.team_id, kudos.giver_id, kudos.status, kudos.message) == (
        TEAM,
        GIVER,
        "posted",
        "thanks for the late-night fix",
    )
    assert (kudos.post_channel_id, kudos.post_ts, kudos.permalink) == (GENERAL, message["ts"], permalink)
    with harness.session() as session:
        assert session.scalars(select(KudosValue.value)).all() == ["ownership"]
        [recipient] = session.scalars(select(KudosRecipient)).all()
        assert recipient.user_id == ANA
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(row.kind, row.recipient_id, row.status, row.sent_channel_id) for row in rows] == [
            ("kudos.post", GENERAL, "sent", GENERAL),
            ("kudos.dm", ANA, "sent", "D" + ANA),
        ]
        assert post["metadata"]["event_payload"]["outbox_id"] == rows[0].id


def test_the_same_command_delivered_twice_posts_once(harness: Harness) -> None:
    harness.command("<@U0ANA|ana> thanks for the fix", trigger_id="1111.2222.same")
    harness.command("<@U0ANA|ana> thanks for the fix", trigger_id="1111.2222.same")

    assert len(harness.posts(GENERAL)) == 1
    assert len(harness.posts(ANA)) == 1
    assert len(kudos_rows(harness)) == 1
    assert harness.responses() == []


def test_several_recipients_and_a_user_group(harness: Harness) -> None:
    harness.fake.add_user("U0CAL", "cal", tz="Europe/Berlin")
    harness.fake.add_usergroup("S0DESIGN", "design", [BEN, "U0CAL", GIVER])

    harness.command("<@U0ANA|ana> <!subteam^S0DESIGN|@design> the launch went so smoothly")

    [post] = harness.posts(GENERAL)
    assert f"gave kudos to <@{ANA}>, <@{BEN}> and <@U0CAL>" in texts(post["blocks"])
    # 10:00 in New York and 16:00 in Berlin: told now. Midnight in Tokyo: told at 09:00 there.
    assert (len(harness.posts(ANA)), len(harness.posts(BEN)), len(harness.posts("U0CAL"))) == (1, 0, 1)
    harness.clock.set(datetime(2026, 11, 19, 0, 0, tzinfo=UTC))
    harness.app.services.delivery.tick()
    assert len(harness.posts(BEN)) == 1
    assert harness.posts(GIVER) == []  # the giver is in the group, but does not thank themself
    with harness.session() as session:
        assert sorted(session.scalars(select(KudosRecipient.user_id))) == [ANA, BEN, "U0CAL"]


def test_kudos_channel_receives_the_post_and_the_giver_gets_a_link(harness: Harness) -> None:
    harness.fake.add_channel("C0KUDOS", "kudos")
    harness.configure(kudos_channel_id="C0KUDOS")

    assert harness.command("<@U0ANA|ana> thanks for the fix", trigger_id="1111.2222.kudos-channel") is None
    assert harness.command("<@U0ANA|ana> thanks for the fix", trigger_id="1111.2222.kudos-channel") is None

    assert harness.posts(GENERAL) == []
    assert len(harness.posts("C0KUDOS")) == 1
    [reply] = harness.responses()  # one confirmation, however often Slack sent the command
    assert "<#C0KUDOS>" in reply["text"] and "Sent!" in reply["text"]
    assert (reply["response_type"], reply["replace_original"]) == ("ephemeral", False)


def test_bot_not_in_channel_explains_the_fix_and_counts_nothing(harness: Harness) -> None:
    harness.fake.add_channel("C0QUIET", "quiet", bot_is_member=False)
    harness.configure(daily_allowance=1)

    assert harness.command("<@U0ANA|ana> thanks for the fix", channel_id="C0QUIET") is None

    [reply] = harness.responses()
    assert "/invite @ExtraMile" in reply["text"] and reply["response_type"] == "ephemeral"
    assert [call.response["error"] for call in harness.fake.calls_to("chat.postMessage")] == [
        "not_in_channel"
    ]
    assert harness.posts(ANA) == []
    assert [kudos.status for kudos in kudos_rows(harness)] == ["failed"]
    # It never counted: the day's only kudos is still there to give, and nobody is on the board.
    assert harness.command("<@U0ANA|ana> thanks for the fix") is None
    assert len(harness.posts(GENERAL)) == 1
    board = texts(harness.command("top all")["blocks"])
    assert f"1. <@{ANA}> · 1" in board


def test_private_channel_without_the_bot_is_explained_too(harness: Harness) -> None:
    harness.fake.add_channel("G0PRIVATE", "secret", is_private=True, bot_is_member=False)

    harness.command("<@U0ANA|ana> thanks for the fix", channel_id="G0PRIVATE")

    [reply] = harness.responses()
    assert "/invite @ExtraMile" in reply["text"]
    assert [kudos.status for kudos in kudos_rows(harness)] == ["failed"]


def test_refusals_are_ephemeral_and_change_nothing(harness: Harness) -> None:
    harness.fake.add_user("U0BOT", "deploybot", is_bot=True)
    harness.fake.add_user("U0GONE", "gone", deleted=True)
    harness.configure(kudos_values=("ownership", "craft"))
    cases = {
        "<@U0GIVER|gia> for being me": "can't give them to yourself",
        "<@U0BOT|deploybot> for shipping": "bots don't need kudos",
        "<@U0GONE|gone> thanks": "no longer active",
        "<@U0ANA|ana>": "Add a few words",
        "<@U0ANA|ana> " + "x" * 2001: "2,001 characters; kudos can be up to 2,000",
        "<@U0ANA|ana> thanks #ownrship": "Did you mean `#ownership`?",
        "<@U0NOBODY|who> thanks": "no longer active",
        "thanks everyone for the great week": "Who is it for?",
    }
    for text, expected in cases.items():
        reply = harness.command(text)
        assert expected in reply["text"], (text, reply)
        assert reply.get("response_type", "ephemeral") == "ephemeral"
    assert harness.fake.calls_to("chat.postMessage") == []
    assert kudos_rows(harness) == []


def test_values_match_case_insensitively_in_the_workspace_spelling(harness: Harness) -> None:
    harness.configure(kudos_values=("Ownership", "craft"))

    harness.command("<@U0ANA|ana> thanks for the fix #OWNERSHIP #Craft")

    with harness.session() as session:
        assert sorted(session.scalars(select(KudosValue.value))) == ["Ownership", "craft"]


def test_daily_allowance_counts_the_givers_local_day(harness: Harness) -> None:
    harness.configure(daily_allowance=2)
    # Ana's local day (New York) runs 05:00 to 05:00 UTC in November.
    harness.clock.set(harness.clock.now().replace(hour=23))

    assert harness.command("<@U0BEN|ben> one", user_id=ANA) is None
    reply = harness.command("<@U0GIVER|gia> <@U0BEN|ben> two and three", user_id=ANA)
    assert "You have 1 kudos left today" in reply["text"]
    assert harness.command("<@U0GIVER|gia> two", user_id=ANA) is None
    reply = harness.command("<@U0BEN|ben> three", user_id=ANA)
    assert "You've given all 2 of today's kudos" in reply["text"]

    harness.clock.set(harness.clock.now().replace(hour=4, minute=59).replace(day=19))
    assert "all 2" in harness.command("<@U0BEN|ben> still today in New York", user_id=ANA)["text"]
    harness.clock.set(harness.clock.now().replace(hour=5, minute=0))
    assert harness.command("<@U0BEN|ben> a new day", user_id=ANA) is None
    assert len(kudos_rows(harness)) == 3


def test_zero_allowance_means_unlimited(harness: Harness) -> None:
    from storage.models import KudosAllowance

    harness.configure(daily_allowance=0)
    for n in range(7):
        assert harness.command(f"<@U0ANA|ana> thanks {n}") is None
    assert len(kudos_rows(harness)) == 7
    # Nothing is counted, so a giver's kudos never queue behind one counter row.
    with harness.session() as session:
        assert session.scalars(select(KudosAllowance)).all() == []
    assert {kudos.allowance_day for kudos in kudos_rows(harness)} == {None}


def test_help_and_unknown_subcommands_show_usage(harness: Harness) -> None:
    for text in ("help", "frobnicate"):
        reply = harness.command(text)
        assert "/kudos @ana @ben thanks for the late-night fix #ownership" in texts(reply["blocks"])
    assert harness.fake.calls_to("chat.postMessage") == []


def test_leaderboard_counts_received_and_given(harness: Harness) -> None:
    harness.command("<@U0ANA|ana> <@U0BEN|ben> thanks")
    harness.command("<@U0ANA|ana> thanks again", user_id=BEN)

    reply = harness.command("top")
    board = texts(reply["blocks"]) + " ".join(f["text"] for b in reply["blocks"] for f in b.get("fields", []))
    assert "Kudos this week" in board
    assert f"1. <@{ANA}> · 2" in board and f"2. <@{BEN}> · 1" in board
    assert f"1. <@{GIVER}> · 2" in board and f"2. <@{BEN}> · 1" in board

    reply = harness.command("top fortnight")
    assert "top week" in reply["text"]


def test_leaderboard_week_starts_on_the_viewers_monday(harness: Harness) -> None:
    harness.command("<@U0ANA|ana> thanks")  # Wednesday
    harness.clock.set(harness.clock.now().replace(day=23, hour=9))  # the next Monday, 09:00 London

    week = harness.command("top week")
    month = harness.command("top month")

    assert "Nobody yet." in " ".join(f["text"] for b in week["blocks"] for f in b.get("fields", []))
    assert f"1. <@{ANA}> · 1" in " ".join(f["text"] for b in month["blocks"] for f in b.get("fields", []))


def test_workspaces_do_not_see_each_others_kudos(harness: Harness) -> None:
    harness.command("<@U0ANA|ana> thanks")
    other = payload(
        "slash_command", text="top all", team_id="T0OTHER", user_id="U0OTHER", trigger_id="t-other"
    )
    harness.fake.add_user("U0OTHER", "olga")

    response = harness.sender.command(other)

    fields = " ".join(f["text"] for b in response.json()["blocks"] for f in b.get("fields", []))
    assert ANA not in fields and "Nobody yet." in fields
    with harness.session() as session:
        assert session.scalar(select(func.count()).select_from(Kudos).where(Kudos.team_id == "T0OTHER")) == 0


def test_unsigned_tampered_and_stale_requests_get_401_and_change_nothing(harness: Harness) -> None:
    from urllib.parse import urlencode

    body = urlencode(payload("slash_command"))
    unsigned = harness.sender.post(
        body, content_type="application/x-www-form-urlencoded", headers={"X-Slack-Signature": ""}
    )
    headers = harness.sender.headers(body, content_type="application/x-www-form-urlencoded")
    tampered = harness.sender.post(
        body.replace("late-night", "all-night"),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )
    stale = harness.sender.post(
        body, content_type="application/x-www-form-urlencoded", timestamp=int(time.time()) - 301
    )

    assert (unsigned.status, tampered.status, stale.status) == (401, 401, 401)
    harness.settle()
    assert harness.fake.calls == []
    assert kudos_rows(harness) == []


def test_healthz(harness: Harness) -> None:
    import urllib.request

    with urllib.request.urlopen(harness.url + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert b'"ok":true' in response.read()


def test_a_rate_limited_post_waits_for_retry_after_and_goes_out_once(harness: Harness) -> None:
    harness.fake.rate_limit_next("chat.postMessage", retry_after=7)

    assert harness.command("<@U0ANA|ana> thanks for the fix") is None

    # Acknowledged means recorded: nothing for the giver to do, the post waits its turn.
    assert harness.responses() == [] and harness.posts(GENERAL) == []
    assert [kudos.status for kudos in kudos_rows(harness)] == ["pending"]
    harness.clock.advance(timedelta(seconds=6))
    harness.app.services.delivery.tick()
    assert harness.posts(GENERAL) == []
    harness.clock.advance(timedelta(seconds=1))
    harness.app.services.delivery.tick()
    assert len(harness.posts(GENERAL)) == 1 and len(harness.posts(ANA)) == 1
    assert [kudos.status for kudos in kudos_rows(harness)] == ["posted"]


def test_a_failed_dm_is_retried_and_the_public_kudos_stands(harness: Harness) -> None:
    harness.fake.add_user("U0CAL", "cal")
    harness.fake.fail_next("chat.postMessage", "internal_error", channel=ANA)

    harness.command("<@U0ANA|ana> <@U0CAL|cal> thanks")

    assert len(harness.posts(GENERAL)) == 1
    assert harness.posts(ANA) == [] and len(harness.posts("U0CAL")) == 1
    [kudos] = kudos_rows(harness)
    assert kudos.status == "posted"
    harness.clock.set(harness.clock.now() + timedelta(seconds=30))  # the first retry's backoff
    harness.app.services.delivery.tick()
    assert len(harness.posts(ANA)) == 1


def test_the_same_command_delivered_twice_at_once_posts_once(harness: Harness) -> None:
    from concurrent.futures import ThreadPoolExecutor

    form = payload("slash_command", text="<@U0ANA|ana> thanks", trigger_id="1111.2222.race")
    form["response_url"] = harness.fake.response_url("race")
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: harness.sender.command(form).status, range(4)))
    harness.settle()

    assert statuses == [200, 200, 200, 200]
    assert len(harness.posts(GENERAL)) == 1
    assert len(harness.posts(ANA)) == 1
    assert len(kudos_rows(harness)) == 1


def test_odd_input_never_crashes_and_never_half_records(harness: Harness) -> None:
    odd = [
        "<@U0ANA|ana",
        "<@>",
        "<!subteam^S0NOPE|@ghosts> thanks",
        "<@U0ANA|ana> <script>alert(1)</script> & *bold* _it_",
        "<@U0ANA|ana> 👏👏👏 #🚀 #",
        "<@U0ANA|ana> " + "\\n" * 50,
        "top " + "x" * 500,
        "   ",
    ]
    replies = [harness.command(text) for text in odd]
    assert replies[2] is None  # a group is acknowledged first; the refusal follows privately
    assert any(
        "couldn't read the members of the group you mentioned" in r["text"] for r in harness.responses()
    )
    posted = harness.posts(GENERAL)
    rows = kudos_rows(harness)
    assert len(rows) == len(posted) == 3  # the markup, the emoji and the backslashes are fine messages
    assert all(row.status == "posted" for row in rows)
    assert [call.response["error"] for call in harness.fake.calls_to("usergroups.users.list")] == [
        "no_such_subteam"
    ]


def test_a_rate_limited_directory_is_not_mistaken_for_a_deactivated_person(harness: Harness) -> None:
    harness.fake.rate_limit_next("users.info", retry_after=12)

    reply = harness.command("<@U0ANA|ana> thanks")

    assert "Slack is busy" in reply["text"] and "in 12 seconds" in reply["text"]
    assert "no longer active" not in reply["text"]
    assert kudos_rows(harness) == []
    assert harness.command("<@U0ANA|ana> thanks") is None  # and once Slack answers again, it works
    assert len(kudos_rows(harness)) == 1


def test_a_group_kudos_is_acknowledged_first_and_refused_privately(harness: Harness) -> None:
    harness.fake.add_usergroup("S0ME", "just-me", [GIVER])

    assert harness.command("<!subteam^S0ME|@just-me> thanks team") is None

    [reply] = harness.responses()
    assert "can't give them to yourself" in reply["text"] and reply["response_type"] == "ephemeral"
    assert kudos_rows(harness) == []
