"""Humane time: when a message may land in a person's day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MORNING = time(9, 0)
END_OF_DAY = time(17, 0)


@dataclass(frozen=True)
class WorkingHours:
    start: time = MORNING
    end: time = time(18, 0)
    weekdays: frozenset[int] = frozenset(range(5))  # Monday to Friday

    def next_open(self, at: datetime, tz: str) -> datetime:
        """`at` if it falls in working hours in `tz`, else the next start of working hours (UTC)."""
        zone = zone_of(tz)
        local = at.astimezone(zone)
        for day in range(8):
            candidate_day = (local + timedelta(days=day)).date()
            if candidate_day.weekday() not in self.weekdays:
                continue
            opens = datetime.combine(candidate_day, self.start, zone)
            closes = datetime.combine(candidate_day, self.end, zone)
            if day == 0 and opens <= local < closes:
                return at.astimezone(UTC)
            if local < opens:
                return opens.astimezone(UTC)
        raise ValueError("no working day in a week")  # pragma: no cover - weekdays is never empty

    def next_morning(self, after: datetime, tz: str) -> datetime:
        """The start of the first working day strictly after the local day of `after` (UTC)."""
        zone = zone_of(tz)
        local_day = after.astimezone(zone).date()
        for day in range(1, 9):
            candidate = local_day + timedelta(days=day)
            if candidate.weekday() in self.weekdays:
                return datetime.combine(candidate, self.start, zone).astimezone(UTC)
        raise ValueError("no working day in a week")  # pragma: no cover


def zone_of(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
