"""Respecting attention, where every message is sent: a person who is away hears nothing until they
are back, nobody hears from ExtraMile outside their working hours unless they chose the time, and a
person who asked for a digest gets the messages that can wait as one DM at the start of their day.

Each kind of outbox message says how it treats attention when it is registered (`Attention` in
bot.services.delivery):
- "now": a reply to what the person has just done, a channel post, a welcome as they arrive;
- "exact": a time the person chose (a promise's due time, "remind me in an hour"): kept, working
  hours or not, but held while they are away;
- "waits": held while they are away and outside their working hours (a celebration DM planned at
  the channel's hour for someone whose day starts later, a word about a promise they wait on);
- "digest": as "waits", and folded into the day's digest for those who asked for one (nudges,
  heads-ups, kudos notices).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services import keys
from bot.services.delivery import DIGEST, Attention, Folded, Held, Outbound
from bot.services.people import PeopleService
from bot.services.platforms import is_person
from storage import outbox as outbox_store
from storage.db import SessionFactory, unit_of_work

# A message that comes due this long after someone's working day started still makes that day's digest.
DIGEST_GRACE = timedelta(minutes=15)
# The digest itself goes a minute after the day starts: what comes due at the start has folded by then.
DIGEST_DELAY = timedelta(minutes=1)
# Written on a row held for the start of its person's working hours.
HELD_HOURS = "outside working hours"


class Attentive:
    """The delivery engine's AttentionRouter: people's absences and digests, from their preferences."""

    def __init__(self, *, sessions: SessionFactory, clock: Clock, people: PeopleService) -> None:
        self._sessions = sessions
        self._clock = clock
        self._people = people

    def route(self, message: Outbound, attention: Attention, owner: str) -> Held | Folded | None:
        """Held until the person is back or their working hours, folded into their digest (written
        now, with the digest's row), or None: send it now."""
        if attention == "now" or not is_person(message.recipient_id):
            return None
        now = message.as_of or self._clock.now()
        schedule = self._people.schedule(message.team_id, message.recipient_id)
        if schedule.is_away(now):
            return Held(until=schedule.back_and_working(now))
        if attention == "exact" or message.reclaimed:
            # A time they chose is kept; a row that may already have gone out is sent as it is,
            # after its sender looks for it.
            return None
        if (
            attention != "digest"
            or not self._people.preferences(message.team_id, message.recipient_id).digest
        ):
            if schedule.is_open(now):
                return None
            return Held(until=schedule.next_open(now), why=HELD_HOURS)
        local = now.astimezone(schedule.zone)
        day_starts = datetime.combine(local.date(), schedule.hours.start, schedule.zone)
        if local.weekday() in schedule.hours.weekdays and day_starts <= now < day_starts + DIGEST_GRACE:
            at = day_starts  # today's digest is going out about now
        else:
            at = schedule.next_open(now)
            if at <= now:  # in the middle of the working day: tomorrow's digest
                at = schedule.next_morning(now)
        with unit_of_work(self._sessions) as session:
            for _ in range(7):
                day = at.astimezone(schedule.zone).date().isoformat()
                digest_key = keys.digest(message.recipient_id, day)
                # Written first (the transaction's first write takes the lock), then read locked: a
                # digest already claimed by a sender is closed to new items, which go to the next one.
                outbox_store.enqueue(
                    session,
                    team_id=message.team_id,
                    dedupe_key=digest_key,
                    kind=DIGEST,
                    recipient_id=message.recipient_id,
                    payload={"day": day},
                    deliver_after=at + DIGEST_DELAY,
                    created_at=now,
                )
                status = outbox_store.status_of(
                    session, team_id=message.team_id, dedupe_key=digest_key, for_update=True
                )
                if status == outbox_store.PENDING:
                    break
                at = schedule.next_morning(at)  # that day's digest already went: the next one
            else:
                return None  # a week of digests gone already: no fold, it goes as it is
            if not outbox_store.fold(session, row_id=message.id, owner=owner, digest_key=digest_key):
                return None  # not ours any more (the lease ran out): whoever has it decides
        return Folded(digest_key=digest_key)
