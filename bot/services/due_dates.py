"""Due dates in words ("Friday 3pm", "EOD", "next Tuesday") resolved in the promiser's own timezone.

dateparser does the heavy lifting; our rules on top (PLATFORM_NOTES.md, "Due dates in words"):
- "EOD" / "end of day" / "COB" is 17:00 today; "end of week" / "EOW" is Friday 17:00.
- "next <weekday>" is that weekday of next week (dateparser would give this week's).
- A date without a time is due at 17:00 that day (`date_only`): never midnight.
- "in 2 hours" is plain arithmetic on now.
- 3/4 and 4/3 are refused as ambiguous unless day and month are equal or one is over 12.
- A due time in the past is refused, and so is one more than MAX_AHEAD away (or past what a date holds).
- Only the last MAX_DUE_WORDS words are tried as the due phrase: the cost of reading a promise does not
  grow with its length.
dateparser never attaches a timezone here: we parse against the naive local now, then attach the zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from bot.services.hours import END_OF_DAY, zone_of

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_EOD = re.compile(r"^(?:eod|cob|end of (?:the )?(?:day|business)|close of business)$")
_EOW = re.compile(r"^(?:eow|end of (?:the )?week)$")
_NEXT_WEEKDAY = re.compile(r"^next (" + "|".join(_WEEKDAYS) + r")\b(.*)$")
_THIS_WEEKDAY = re.compile(r"^(?:this )?(" + "|".join(_WEEKDAYS) + r")$")
_RELATIVE = re.compile(r"^in (\d+|an?|one|two|three) (minute|min|hour|hr|day|week)s?$")
_HAS_TIME = re.compile(
    r"\d{1,2}:\d{2}|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.|h)\b|\bnoon\b|\bmidnight\b|\bmorning\b|\bafternoon\b|\bevening\b|\btonight\b"
)
_SLASH_DATE = re.compile(r"\b(\d{1,2})[/.](\d{1,2})(?:[/.]\d{2,4})?\b")
_LEADING_WORDS = re.compile(r"^(?:by|before|on|until|till|due|at)\s+")
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}
_UNITS = {"minute": 60, "min": 60, "hour": 3600, "hr": 3600, "day": 86400, "week": 604800}

# "by next Tuesday at 3pm" is five words; "on the 14th of March at 10:30am" seven.
MAX_DUE_WORDS = 8
MAX_AHEAD = timedelta(days=5 * 366)

EXAMPLES = "`by Friday 3pm`, `tomorrow 10am`, `EOD`, `next Tuesday`, `in 2 hours`, `2026-12-01 09:30`"


class DueDateError(Exception):
    pass


class UnparseableDueDate(DueDateError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class AmbiguousDueDate(DueDateError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class TooFarAhead(DueDateError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class PastDueDate(DueDateError):
    def __init__(self, text: str, at: datetime) -> None:
        super().__init__(text, at)
        self.text = text
        self.at = at


@dataclass(frozen=True)
class Due:
    at: datetime  # aware UTC
    date_only: bool


def parse_due(text: str, *, now: datetime, tz: str) -> Due:
    """Resolves `text` in `tz` as of `now` (aware). Raises a DueDateError subclass."""
    try:
        return _parse_due(text, now=now, tz=tz)
    except (OverflowError, ValueError):
        # A date the calendar cannot hold ("31 December 9999" west of UTC, "in 99999999 weeks").
        raise TooFarAhead(text) from None


def _parse_due(text: str, *, now: datetime, tz: str) -> Due:
    phrase = _LEADING_WORDS.sub("", " ".join(text.lower().split())).strip(" .,!")
    if not phrase:
        raise UnparseableDueDate(text)
    zone = zone_of(tz)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    if relative := _RELATIVE.match(phrase):
        count = _NUMBERS.get(relative.group(1)) or int(relative.group(1))
        return _future(
            text, now + timedelta(seconds=count * _UNITS[relative.group(2)]), date_only=False, now=now
        )
    if _EOD.match(phrase):
        return _future(text, _at(local_now.date(), END_OF_DAY, tz), date_only=False, now=now)
    if _EOW.match(phrase):
        friday = local_now.date() + timedelta(days=(4 - local_now.weekday()) % 7)
        return _future(text, _at(friday, END_OF_DAY, tz), date_only=False, now=now)
    if slash := _SLASH_DATE.search(phrase):
        first, second = int(slash.group(1)), int(slash.group(2))
        if first != second and first <= 12 and second <= 12:
            raise AmbiguousDueDate(text)
    has_time = bool(_HAS_TIME.search(phrase))
    if next_day := _NEXT_WEEKDAY.match(phrase):
        # "next friday" is the Friday of next week, whatever dateparser thinks.
        target = _WEEKDAYS.index(next_day.group(1))
        monday_next_week = local_now.date() + timedelta(days=7 - local_now.weekday())
        day = monday_next_week + timedelta(days=target)
        rest = next_day.group(2).strip()
        clock_time = END_OF_DAY
        if rest:
            parsed_rest = _parse(rest, local_now) if has_time else None
            if parsed_rest is None:
                raise UnparseableDueDate(text)
            clock_time = parsed_rest.time()
        return _future(text, _at(day, clock_time, tz), date_only=not has_time, now=now)
    if this_day := _THIS_WEEKDAY.match(phrase):
        target = _WEEKDAYS.index(this_day.group(1))
        day = local_now.date() + timedelta(days=(target - local_now.weekday()) % 7)
        return _future(text, _at(day, END_OF_DAY, tz), date_only=True, now=now)
    parsed = _parse(phrase, local_now)
    if parsed is None:
        raise UnparseableDueDate(text)
    if not has_time:
        return _future(text, _at(parsed.date(), END_OF_DAY, tz), date_only=True, now=now)
    return _future(text, _at(parsed.date(), parsed.time(), tz), date_only=False, now=now)


def _parse(phrase: str, local_now: datetime) -> datetime | None:
    import dateparser  # imported when first needed (about 10 MiB and 0.15 s): an idle server does without

    settings: dict[str, Any] = {
        "RELATIVE_BASE": local_now,
        "PREFER_DATES_FROM": "future",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "DATE_ORDER": "DMY",
        "PREFER_DAY_OF_MONTH": "first",
    }
    try:
        result: datetime | None = dateparser.parse(phrase, languages=["en"], settings=settings)
    except (OverflowError, ValueError, TypeError, AttributeError):
        return None  # dateparser has its own ways of failing on odd text: all mean "no date here"
    return result


def _at(day: Any, clock_time: time, tz: str) -> datetime:
    # fold=0 picks the first of a repeated hour; a skipped hour moves forward with the zone's offset.
    local = datetime.combine(day, clock_time).replace(tzinfo=zone_of(tz))
    return local.astimezone(UTC)


def _future(text: str, at: datetime, *, date_only: bool, now: datetime) -> Due:
    if at <= now:
        raise PastDueDate(text, at)
    if at - now > MAX_AHEAD:
        raise TooFarAhead(text)
    return Due(at=at.astimezone(UTC), date_only=date_only)


def split_due(text: str, *, now: datetime, tz: str) -> tuple[str, Due]:
    """Splits "send the pricing deck by Friday 3pm" into ("send the pricing deck", Due(...)): the
    longest trailing phrase that parses as a due date."""
    words = text.split()
    last_error: DueDateError | None = None
    for start in range(max(1, len(words) - MAX_DUE_WORDS), len(words)):
        head, tail = " ".join(words[:start]), " ".join(words[start:])
        if not _starts_like_a_date(words[start:]):
            continue
        try:
            due = parse_due(tail, now=now, tz=tz)
        except (AmbiguousDueDate, PastDueDate, TooFarAhead) as error:
            raise error from None
        except UnparseableDueDate as error:
            last_error = error
            continue
        head = re.sub(r"(?:^|\s+)(?:by|before|on|until|till|due|at)$", "", head, flags=re.IGNORECASE).strip()
        return head, due
    raise last_error or UnparseableDueDate(text)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DATE_WORDS = re.compile(
    r"^(?:by|before|on|until|till|due|at|in|next|this|end|eod|cob|eow|today|tonight|tomorrow|noon|midnight"
    r"|"
    + "|".join(_WEEKDAYS)
    + r"|"
    + "|".join(day[:3] for day in _WEEKDAYS)
    + r"|"
    + "|".join(_MONTHS)
    + r")\b"
)
_TIME_OR_DATE = re.compile(
    r"^(?:\d{1,2}(?::\d{2})?(?:am|pm|h)|\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?)$"
)
_DAY_NUMBER = re.compile(r"^\d{1,2}(?:st|nd|rd|th)?$")


def _starts_like_a_date(words: list[str]) -> bool:
    """Whether a due phrase could begin here: "by ...", "Friday ...", "14 March", "3pm", "2026-12-01".
    A bare number ("call 2 clients tomorrow") is not a date on its own."""
    first = words[0].lower().strip(",.")
    if _DATE_WORDS.match(first) or _TIME_OR_DATE.match(first):
        return True
    if _DAY_NUMBER.match(first) and len(words) > 1:
        following = words[1].lower().strip(",.")
        return following.startswith(_MONTHS) or following in ("am", "pm")
    return False


def warm_up() -> None:
    """The first dateparser call loads its language data: benchmarks pay it before they measure."""
    _parse("tomorrow 10am", datetime(2026, 1, 1))
