"""Due dates in words, resolved in the promiser's zone; our rules on top of dateparser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.services.due_dates import AmbiguousDueDate, PastDueDate, UnparseableDueDate, parse_due, split_due

WED_1500_UTC = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("phrase", "tz", "expected_utc", "date_only"),
    [
        ("Friday 3pm", "Europe/London", datetime(2026, 11, 20, 15, 0, tzinfo=UTC), False),
        ("Friday 3pm", "America/New_York", datetime(2026, 11, 20, 20, 0, tzinfo=UTC), False),
        ("Friday 3pm", "Asia/Tokyo", datetime(2026, 11, 20, 6, 0, tzinfo=UTC), False),
        ("tomorrow 10am", "Europe/Berlin", datetime(2026, 11, 19, 9, 0, tzinfo=UTC), False),
        # Date only: 17:00 that day, never midnight.
        ("friday", "Europe/London", datetime(2026, 11, 20, 17, 0, tzinfo=UTC), True),
        ("tomorrow", "America/New_York", datetime(2026, 11, 19, 22, 0, tzinfo=UTC), True),
        ("14 March", "Europe/London", datetime(2027, 3, 14, 17, 0, tzinfo=UTC), True),
        # Our words: end of day, end of week, next <weekday>.
        ("EOD", "Europe/London", datetime(2026, 11, 18, 17, 0, tzinfo=UTC), False),
        ("end of day", "America/Los_Angeles", datetime(2026, 11, 19, 1, 0, tzinfo=UTC), False),
        ("end of week", "Europe/London", datetime(2026, 11, 20, 17, 0, tzinfo=UTC), False),
        ("next friday", "Europe/London", datetime(2026, 11, 27, 17, 0, tzinfo=UTC), True),
        ("next tuesday 11am", "Europe/London", datetime(2026, 11, 24, 11, 0, tzinfo=UTC), False),
        ("by monday morning", "Europe/London", datetime(2026, 11, 23, 9, 0, tzinfo=UTC), False),
        ("in 2 hours", "Asia/Kolkata", datetime(2026, 11, 18, 17, 0, tzinfo=UTC), False),
        ("in an hour", "UTC", datetime(2026, 11, 18, 16, 0, tzinfo=UTC), False),
        ("2026-12-01 09:30", "Europe/Paris", datetime(2026, 12, 1, 8, 30, tzinfo=UTC), False),
        ("13/12", "Europe/London", datetime(2026, 12, 13, 17, 0, tzinfo=UTC), True),
    ],
)
def test_parse_due(phrase: str, tz: str, expected_utc: datetime, date_only: bool) -> None:
    due = parse_due(phrase, now=WED_1500_UTC, tz=tz)
    assert (due.at, due.date_only) == (expected_utc, date_only)


def test_across_a_dst_change_the_wall_clock_time_is_kept() -> None:
    # London leaves summer time on Sunday 25 October 2026: 9am before is 08:00 UTC, after is 09:00 UTC.
    friday = datetime(2026, 10, 23, 12, 0, tzinfo=UTC)
    assert parse_due("tomorrow 9am", now=friday, tz="Europe/London").at == datetime(
        2026, 10, 24, 8, 0, tzinfo=UTC
    )
    assert parse_due("monday 9am", now=friday, tz="Europe/London").at == datetime(
        2026, 10, 26, 9, 0, tzinfo=UTC
    )
    # New York springs forward on 8 March 2026: 2:30am does not exist that day and moves on with the clock.
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    assert parse_due("tomorrow 3pm", now=saturday, tz="America/New_York").at == datetime(
        2026, 3, 8, 19, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("phrase", "error"),
    [
        ("yesterday", PastDueDate),
        ("EOD", PastDueDate),  # 20:30 in Kolkata: the working day is over
        ("3/4", AmbiguousDueDate),
        ("04.03", AmbiguousDueDate),
        ("someday soon", UnparseableDueDate),
        ("", UnparseableDueDate),
        ("by", UnparseableDueDate),
    ],
)
def test_refused(phrase: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_due(phrase, now=WED_1500_UTC, tz="Asia/Kolkata")


@pytest.mark.parametrize(
    ("text", "what", "at"),
    [
        (
            "send the pricing deck by Friday 3pm",
            "send the pricing deck",
            datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
        ),
        (
            "call back with pricing tomorrow 10am",
            "call back with pricing",
            datetime(2026, 11, 19, 10, 0, tzinfo=UTC),
        ),
        ("the deck EOD", "the deck", datetime(2026, 11, 18, 17, 0, tzinfo=UTC)),
        (
            "review the may release notes by friday",
            "review the may release notes",
            datetime(2026, 11, 20, 17, 0, tzinfo=UTC),
        ),
        ("by Friday", "", datetime(2026, 11, 20, 17, 0, tzinfo=UTC)),
        ("call 2 clients tomorrow 10am", "call 2 clients", datetime(2026, 11, 19, 10, 0, tzinfo=UTC)),
        ("send 3 decks 3 pm tomorrow", "send 3 decks", datetime(2026, 11, 19, 15, 0, tzinfo=UTC)),
        ("plan the may offsite 14 March", "plan the may offsite", datetime(2027, 3, 14, 17, 0, tzinfo=UTC)),
    ],
)
def test_split_due(text: str, what: str, at: datetime) -> None:
    head, due = split_due(text, now=WED_1500_UTC, tz="Europe/London")
    assert (head, due.at) == (what, at)


def test_split_due_without_a_date() -> None:
    with pytest.raises(UnparseableDueDate):
        split_due("send the pricing deck", now=WED_1500_UTC, tz="Europe/London")


@pytest.mark.parametrize("tz", ["America", "Etc", "x" * 300, "Nowhere/Else"])
def test_a_zone_that_is_no_zone_reads_as_utc(tz: str) -> None:
    # "America" is a directory of zones and a long name no file: neither may raise.
    due = parse_due("tomorrow 10am", now=WED_1500_UTC, tz=tz)
    assert due.at == datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
