"""Each person's working days and hours, absences and the daily digest, honoured wherever a message is
timed or sent."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select

from bot.services.people import Preferences
from bot.services.promises import PromiseRequest
from storage.models import OutboxMessage
from tests.conftest import ANA, GIVER, TEAM, Harness, texts
from tests.e2e.test_promises import dms, tick


def prefer(h: Harness, user_id: str, **changes: object) -> None:
    h.app.services.people.save_preferences(TEAM, user_id, Preferences.model_validate(changes))


def promise_to(h: Harness, n: int, due: str) -> int:
    made = h.app.services.promises.make(
        PromiseRequest(
            team_id=TEAM,
            promiser_id=GIVER,
            dedupe_key=f"attention:{n}",
            contact_name=f"Client {n}",
            text=f"call {due}",
        )
    )
    return made.promise.id


def birthday_celebrated(h: Harness, day: str) -> None:
    """Gia shares her birthday, in a workspace with a celebrations channel (#celebrations, C0PARTY)."""
    h.fake.add_channel("C0PARTY", "celebrations")
    h.configure(celebrations_channel_id="C0PARTY")
    h.command(day, name="/birthday")


def test_a_nudge_waits_for_the_promisers_own_working_days(harness: Harness) -> None:
    h = harness
    # Gia (London) works Monday to Thursday, 10:00 to 16:00.
    prefer(h, GIVER, work_days=[0, 1, 2, 3], work_start=time(10), work_end=time(16))
    promise_to(h, 1, "by Thursday 3pm")

    tick(h, datetime(2026, 11, 19, 15, 0, tzinfo=UTC))  # 13:00 the heads-up, 15:00 the time she chose
    assert len(dms(h, GIVER)) == 2
    tick(h, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))  # Friday morning: not one of her days
    tick(h, datetime(2026, 11, 23, 9, 59, tzinfo=UTC))
    assert len(dms(h, GIVER)) == 2
    tick(h, datetime(2026, 11, 23, 10, 0, tzinfo=UTC))  # Monday, when her day starts
    [_, _, nudge] = dms(h, GIVER)
    assert "No rush." in texts(nudge["blocks"])


def test_nothing_reaches_someone_away_until_they_are_back(harness: Harness) -> None:
    h = harness
    prefer(h, ANA, away_until=date(2026, 11, 20))  # Ana (New York) is back on Monday

    h.command(f"<@{ANA}|ana> thanks for the fix")
    h.command(f"<@{ANA}|ana> the deck by Friday 3pm", name="/promise")
    tick(h, datetime(2026, 11, 20, 16, 0, tzinfo=UTC))  # Friday, 11:00 in New York

    assert dms(h, ANA) == []
    with h.session() as session:
        waiting = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_id == ANA)).all()
        assert {(row.status, row.deliver_after) for row in waiting} == {
            ("pending", datetime(2026, 11, 23, 14, 0, tzinfo=UTC))  # Monday 09:00 in New York
        }
    tick(h, datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    assert len(dms(h, ANA)) == 2


def test_the_people_waiting_hear_that_the_promiser_is_away(harness: Harness) -> None:
    h = harness
    prefer(h, GIVER, away_until=date(2026, 11, 27))

    h.command(f"<@{ANA}|ana> the deck by 4 December 3pm", name="/promise")

    [heard] = dms(h, ANA)
    assert "<@U0GIVER> is away until Fri 27 Nov, so an answer may take a little longer." in texts(
        heard["blocks"]
    )


def test_a_digest_turns_five_nudges_into_one_dm(harness: Harness) -> None:
    h = harness
    prefer(h, GIVER, digest=True)
    for n in range(5):
        promise_to(h, n, "by Thursday 3pm")
    tick(h, datetime(2026, 11, 19, 15, 0, tzinfo=UTC))  # heads-ups and due times: never folded
    assert len(dms(h, GIVER)) == 10

    tick(h, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))  # Friday morning: five nudges are due
    assert len(dms(h, GIVER)) == 10
    tick(h, datetime(2026, 11, 20, 9, 1, tzinfo=UTC))  # the digest, once they have all folded

    [digest] = dms(h, GIVER)[10:]
    shown = texts(digest["blocks"])
    assert shown.startswith("Good morning! 5 things from ExtraMile for today:")
    assert all(f"Client {n} is waiting on *call*" in shown for n in range(5))
    buttons = [e["action_id"] for b in digest["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons.count("promise_done") == 5  # every item keeps its buttons
    with h.session() as session:
        nudges = session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("%nudge%"))).all()
        assert {(row.status, row.digest_key) for row in nudges} == {("sent", f"digest:{GIVER}:2026-11-20")}


def test_a_kudos_notice_in_the_middle_of_the_day_waits_for_tomorrows_digest(harness: Harness) -> None:
    h = harness
    prefer(h, ANA, digest=True)

    h.command(f"<@{ANA}|ana> thanks for the fix")  # 10:00 in New York, Wednesday

    assert dms(h, ANA) == []
    tick(h, datetime(2026, 11, 19, 13, 59, tzinfo=UTC))
    assert dms(h, ANA) == []
    tick(h, datetime(2026, 11, 19, 14, 1, tzinfo=UTC))  # Thursday 09:01 in New York
    [digest] = dms(h, ANA)
    assert "gave you kudos" in texts(digest["blocks"])


def test_a_digest_with_nothing_left_to_say_is_not_sent(harness: Harness) -> None:
    h = harness
    prefer(h, GIVER, digest=True)
    promise_id = promise_to(h, 1, "by Thursday 3pm")
    tick(h, datetime(2026, 11, 19, 15, 0, tzinfo=UTC))
    tick(h, datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
    h.clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    h.app.services.delivery.plan()
    # The nudge is folded as it comes due, then the promise is kept before the digest goes out.
    h.app.services.delivery.deliver_due(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    sent_before = len(dms(h, GIVER))
    h.app.services.promises.done(team_id=TEAM, promise_id=promise_id, actor_id=GIVER)
    tick(h, datetime(2026, 11, 20, 9, 5, tzinfo=UTC))

    assert len(dms(h, GIVER)) == sent_before


def _folded_digest(h: Harness) -> None:
    """Gia, in digest mode, has two nudges waiting in Friday's digest."""
    prefer(h, GIVER, digest=True)
    for n in range(2):
        promise_to(h, n, "by Thursday 3pm")
    tick(h, datetime(2026, 11, 19, 15, 0, tzinfo=UTC))
    tick(h, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))


def test_every_block_of_a_digest_has_its_own_id_and_a_button_there_leaves_the_rest(harness: Harness) -> None:
    from tests.e2e.test_promises import button

    h = harness
    _folded_digest(h)
    tick(h, datetime(2026, 11, 20, 9, 1, tzinfo=UTC))
    [digest] = dms(h, GIVER)[4:]
    ids = [b["block_id"] for b in digest["blocks"] if "block_id" in b]
    assert len(ids) == len(set(ids))

    button(h, digest, "promise_done", tag="from-digest")

    [answer] = [r for r in h.responses(GIVER) if r["tag"].endswith("from-digest")]
    assert answer["replace_original"] is False  # the digest's other item keeps its buttons


def test_a_digest_that_cannot_be_sent_takes_its_items_with_it(harness: Harness) -> None:
    h = harness
    _folded_digest(h)
    h.fake.fail_next("chat.postMessage", "account_inactive", channel=GIVER)

    tick(h, datetime(2026, 11, 20, 9, 1, tzinfo=UTC))

    with h.session() as session:
        statuses = {
            row.dedupe_key.split(":")[-2]: row.status
            for row in session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_id == GIVER))
            if "nudge" in row.dedupe_key
        }
        assert set(statuses.values()) == {"dead"}


def test_a_digest_waits_while_its_person_is_away(harness: Harness) -> None:
    h = harness
    _folded_digest(h)
    prefer(h, GIVER, digest=True, away_until=date(2026, 11, 24))

    tick(h, datetime(2026, 11, 20, 9, 1, tzinfo=UTC))
    assert len(dms(h, GIVER)) == 4

    tick(h, datetime(2026, 11, 25, 9, 1, tzinfo=UTC))  # back on Wednesday
    assert "2 things from ExtraMile" in texts(dms(h, GIVER)[4]["blocks"])


def test_coming_back_early_brings_what_waited(harness: Harness) -> None:
    h = harness
    prefer(h, ANA, away_until=date(2026, 12, 31))
    h.command(f"<@{ANA}|ana> thanks for the fix")
    assert dms(h, ANA) == []

    prefer(h, ANA)  # back: no absence any more
    tick(h, datetime(2026, 11, 18, 15, 1, tzinfo=UTC))

    [dm] = dms(h, ANA)
    assert "gave you kudos" in texts(dm["blocks"])


def test_a_celebration_dm_waits_for_the_start_of_the_celebrants_own_day(harness: Harness) -> None:
    h = harness
    prefer(h, GIVER, work_start=time(11), work_end=time(19))  # Gia (London) starts at 11:00
    birthday_celebrated(h, "19 November")

    tick(h, datetime(2026, 11, 19, 9, 0, tzinfo=UTC))  # the channel's hour: the post, not the DM
    assert len(h.posts("C0PARTY")) == 1
    assert dms(h, GIVER) == []
    with h.session() as session:
        held = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_id == GIVER)).one()
        assert (held.status, held.deliver_after, held.last_error) == (
            "pending",
            datetime(2026, 11, 19, 11, 0, tzinfo=UTC),
            "outside working hours",
        )
    tick(h, datetime(2026, 11, 19, 10, 59, tzinfo=UTC))
    assert dms(h, GIVER) == []
    tick(h, datetime(2026, 11, 19, 11, 0, tzinfo=UTC))
    [dm] = dms(h, GIVER)
    assert "Happy birthday!" in texts(dm["blocks"])


def test_a_due_time_they_chose_is_kept_after_hours_with_a_heads_up_before_their_day_ends(
    harness: Harness,
) -> None:
    h = harness
    # Gia (London) works 09:00 to 17:00 and promises something for 20:00.
    prefer(h, GIVER, work_start=time(9), work_end=time(17))
    promise_to(h, 1, "by Thursday 8pm")

    tick(h, datetime(2026, 11, 19, 14, 59, tzinfo=UTC))
    assert dms(h, GIVER) == []
    tick(h, datetime(2026, 11, 19, 15, 0, tzinfo=UTC))  # two hours before her day ends
    [heads_up] = dms(h, GIVER)
    assert "due Thu 19 Nov 20:00" in texts(heads_up["blocks"])
    tick(h, datetime(2026, 11, 19, 19, 59, tzinfo=UTC))
    assert len(dms(h, GIVER)) == 1
    tick(h, datetime(2026, 11, 19, 20, 0, tzinfo=UTC))
    [_, due] = dms(h, GIVER)
    assert "It's time" in texts(due["blocks"]) and "actions" in {block["type"] for block in due["blocks"]}


def test_a_heads_up_for_monday_8am_comes_on_friday_afternoon(harness: Harness) -> None:
    h = harness
    promise_to(h, 1, "by Monday 8am")  # Gia (London) works Monday to Friday, 09:00 to 18:00

    tick(h, datetime(2026, 11, 20, 15, 59, tzinfo=UTC))
    assert dms(h, GIVER) == []
    tick(h, datetime(2026, 11, 20, 16, 0, tzinfo=UTC))
    [heads_up] = dms(h, GIVER)
    assert "due Mon 23 Nov 08:00" in texts(heads_up["blocks"])


def test_no_celebration_dm_on_a_day_the_celebrant_does_not_work(harness: Harness) -> None:
    h = harness
    prefer(h, GIVER, work_days=[0, 1, 2, 3])  # Gia works Monday to Thursday
    birthday_celebrated(h, "20 November")  # a Friday

    tick(h, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))  # the channel celebrates her
    assert len(h.posts("C0PARTY")) == 1
    tick(h, datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # Monday: too late for a birthday DM
    assert dms(h, GIVER) == []
    with h.session() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_id == GIVER)).one()
        assert row.status == "cancelled"
