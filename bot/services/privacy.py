"""Forget me: a person's dates, preferences and reminders go; what they wrote for others stays,
attributed to "a former colleague"."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.services import keys
from storage import channels as channels_store
from storage import checkins as checkin_store
from storage import dates as dates_store
from storage import kudos as kudos_store
from storage import outbox as outbox_store
from storage import people as people_store
from storage import promises as promise_store
from storage.db import SessionFactory, unit_of_work


@dataclass(frozen=True)
class Forgotten:
    kudos_anonymised: int
    promises_anonymised: int
    checkins_deleted: int
    messages_cancelled: int


@dataclass(frozen=True)
class PrivacyService:
    sessions: SessionFactory
    clock: Clock

    def forget(self, *, team_id: str, user_id: str) -> Forgotten:
        """One transaction: either all of it is forgotten, or nothing is."""
        with unit_of_work(self.sessions) as session:
            dates_store.forget(session, team_id=team_id, user_id=user_id)
            channels_store.forget(session, team_id=team_id, user_id=user_id)
            messages = outbox_store.cancel_for_recipient(
                session, team_id=team_id, recipient_id=user_id, reason="forgotten"
            )
            for promise_id in promise_store.ids_by_promiser(session, team_id=team_id, user_id=user_id):
                messages += outbox_store.cancel_pending(
                    session, team_id=team_id, key_prefix=keys.promise(promise_id), reason="forgotten"
                )
            kudos = kudos_store.anonymise_giver(session, team_id=team_id, giver_id=user_id)
            promises = promise_store.forget_promiser(
                session, team_id=team_id, user_id=user_id, at=self.clock.now()
            )
            checkins = checkin_store.forget_requester(session, team_id=team_id, user_id=user_id)
            people_store.forget(session, team_id=team_id, user_id=user_id)
        return Forgotten(
            kudos_anonymised=kudos,
            promises_anonymised=promises,
            checkins_deleted=checkins,
            messages_cancelled=messages,
        )
