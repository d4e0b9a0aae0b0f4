"""Humane time: when a message may land in a person's day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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

    def last_window_before(self, at: datetime, tz: str) -> tuple[datetime, datetime]:
        """The start and end (UTC) of the last working day's hours that ended by `at`."""
        zone = zone_of(tz)
        local = at.astimezone(zone)
        for day in range(9):
            candidate_day = (local - timedelta(days=day)).date()
            if candidate_day.weekday() not in self.weekdays:
                continue
            closes = datetime.combine(candidate_day, self.end, zone)
            if closes <= local:
                return datetime.combine(candidate_day, self.start, zone).astimezone(UTC), closes.astimezone(
                    UTC
                )
        raise ValueError("no working day in a week")  # pragma: no cover - weekdays is never empty

    def after_working(self, start: datetime, duration: timedelta, tz: str) -> datetime:
        """The moment `duration` of working time has passed since `start` (UTC): only the hours inside
        working days count, so "4 working hours" asked on Friday at 17:00 ends on Monday at 12:00."""
        zone = zone_of(tz)
        left = duration
        at = self.next_open(start, tz)
        for _ in range(800):  # at most about a hundred working weeks of duration
            local = at.astimezone(zone)
            closes = datetime.combine(local.date(), self.end, zone)
            if closes - local >= left:
                return (local + left).astimezone(UTC)
            left -= closes - local
            at = self.next_open(closes, tz)
        raise ValueError("too long a duration")  # pragma: no cover - callers ask for hours

    def next_morning(self, after: datetime, tz: str) -> datetime:
        """The start of the first working day strictly after the local day of `after` (UTC)."""
        zone = zone_of(tz)
        local_day = after.astimezone(zone).date()
        for day in range(1, 9):
            candidate = local_day + timedelta(days=day)
            if candidate.weekday() in self.weekdays:
                return datetime.combine(candidate, self.start, zone).astimezone(UTC)
        raise ValueError("no working day in a week")  # pragma: no cover


@dataclass(frozen=True)
class Schedule:
    """One person's time: their zone, their working days and hours, and an absence. Every message
    that can wait for a person is timed by it."""

    tz: str = "UTC"
    hours: WorkingHours = WorkingHours()
    away_until: date | None = None

    @property
    def zone(self) -> ZoneInfo:
        return zone_of(self.tz)

    def back_at(self) -> datetime | None:
        """When an absence ends (the start of the day after it), or None without one."""
        if self.away_until is None:
            return None
        return datetime.combine(self.away_until + timedelta(days=1), time(0), self.zone).astimezone(UTC)

    def next_open(self, at: datetime) -> datetime:
        """`at` if it falls in their working hours; else the next start of them. (An absence is not
        planned around: what comes due while they are away waits, at delivery, until they are back, so
        coming back early brings it at once.)"""
        return self.hours.next_open(at, self.tz)

    def next_morning(self, after: datetime) -> datetime:
        """The start of their first working day after the local day of `after`."""
        return self.hours.next_morning(after, self.tz)

    def after_working(self, start: datetime, duration: timedelta) -> datetime:
        """When `duration` of their working time has passed since `start`."""
        return self.hours.after_working(start, duration, self.tz)

    def last_window_before(self, at: datetime) -> tuple[datetime, datetime]:
        """The start and end of their last working day's hours that ended by `at`."""
        return self.hours.last_window_before(at, self.tz)

    def is_open(self, at: datetime) -> bool:
        """Whether `at` falls in their working hours (an absence aside)."""
        return self.hours.next_open(at, self.tz) == at.astimezone(UTC)

    def is_away(self, at: datetime) -> bool:
        back = self.back_at()
        return back is not None and at < back

    def back_and_working(self, at: datetime) -> datetime:
        """The first moment in their working hours once they are back (`at` when they are not away)."""
        back = self.back_at()
        return self.hours.next_open(max(at, back) if back else at, self.tz)


def zone_of(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    # OSError: "America" names a directory of zones, and a very long name is too long for a file.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")
