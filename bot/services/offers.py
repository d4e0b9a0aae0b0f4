"""Promise spotting: "I'll get back to you by Friday", noticed as it is written and offered to its author,
privately, as a promise to track in one click.

Precision before recall (a false offer is noise): the detector (bot.services.spotting) offers only a
plain first-person commitment with a time. At most one offer per message (its outbox key), never on a
message older than FRESH_FOR (a replay, a backfill), never after "Don't ask me".

What is kept: ids only. The offer's outbox row names the message (channel, ts), not its words; when
the offer is shown, the message is read again from the platform (so an edited message is offered as it
reads now, and a deleted one not at all) and the words travel in the offer's own buttons. Only a
tracked promise keeps a title, the one its author confirmed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services import keys
from bot.services.delivery import DeliveryService, Outbound
from bot.services.due_dates import Due
from bot.services.people import PeopleService
from bot.services.ports import DeliveryError, Messenger, PrivateReply
from bot.services.promises import MadePromise, PromiseRequest, PromiseService
from bot.services.spotting import could_be_a_promise, spot_promise
from bot.services.workspaces import WorkspaceService
from storage import outbox as outbox_store
from storage.db import SessionFactory, unit_of_work

log = logging.getLogger(__name__)

OFFER = "promise.offer"
# A message older than this is a replay or a backfill, not something just said.
FRESH_FOR = timedelta(minutes=5)
# An offer that could not be shown by then would arrive out of place: it is dropped.
SHOW_WITHIN = timedelta(minutes=10)
# What one message may name as the people waiting (the promise form takes ten).
MAX_PROMISEES = 10


@dataclass(frozen=True)
class ChatMessage:
    """A message a person wrote where the bot can read it, as the platform adapter understood it."""

    team_id: str
    channel_id: str
    user_id: str
    ts: str
    text: str
    # When it was written (the platform's own stamp, aware UTC).
    written_at: datetime
    # The thread it was written in (None at the top of a channel), and who started that thread.
    thread_ts: str | None = None
    parent_user_id: str | None = None
    # The people it @mentions, in order.
    mentioned_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class PromiseOffer:
    """An offer to track a message as a promise, shown to its author alone."""

    team_id: str
    author_id: str
    channel_id: str
    message_ts: str
    # Empty when it is unclear who is waiting: the author picks in the form.
    promisee_ids: tuple[str, ...]
    title: str
    due: Due
    author_tz: str
    link: str | None
    reply: PrivateReply


@dataclass(frozen=True)
class OfferChoice:
    """What the author confirmed: Track as offered, or the form's edited version."""

    team_id: str
    author_id: str
    channel_id: str
    message_ts: str
    promisee_ids: tuple[str, ...]
    title: str
    due_at: datetime
    date_only: bool
    link: str | None


def permalink_of(
    messenger: Messenger, team_id: str, channel_id: str, ts: str, *, wait_if_busy: bool = True
) -> str | None:
    """A link to a message, or None when it cannot be had (gone, hidden). A rate limit is raised when
    `wait_if_busy`: a row being sent waits for Retry-After and then comes with its link."""
    try:
        return messenger.permalink(team_id, channel_id, ts)
    except DeliveryError as error:
        if error.reason == "ratelimited" and wait_if_busy:
            raise
        return None


class OfferService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Clock,
        people: PeopleService,
        workspaces: WorkspaceService,
        messenger: Messenger,
        promises: PromiseService,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._people = people
        self._workspaces = workspaces
        self._messenger = messenger
        self._promises = promises

    def register(self, delivery: DeliveryService) -> None:
        # An offer is about something just said: shown now or not at all, never folded into a digest.
        delivery.register(OFFER, self.compose)

    def notice(self, message: ChatMessage) -> bool:
        """Records an offer to show when `message` is a promise its author may want tracked. Reads the
        database only (it runs before the platform hears "200"). True when an offer was recorded."""
        now = self._clock.now()
        written_at = message.written_at
        if abs(now - written_at) > FRESH_FOR:
            return False
        if not self._workspaces.get(message.team_id).spot_promises or not could_be_a_promise(message.text):
            return False
        if not self._people.preferences(message.team_id, message.user_id).promise_offers:
            return False
        # Whether it is an offer hardly depends on the zone; the due time is worked out again when shown.
        tz = (
            self._people.known_tz(message.team_id, message.user_id)
            or self._workspaces.get(message.team_id).zone
        )
        if spot_promise(message.text, now=written_at, tz=tz) is None:
            return False
        with unit_of_work(self._sessions) as session:
            added = outbox_store.enqueue(
                session,
                team_id=message.team_id,
                dedupe_key=keys.promise_offer(message.channel_id, message.ts),
                kind=OFFER,
                recipient_id=message.user_id,
                payload={
                    "channel_id": message.channel_id,
                    "message_ts": message.ts,
                    "thread_ts": message.thread_ts,
                    "parent_user_id": message.parent_user_id,
                    "mentioned_ids": list(message.mentioned_ids[:MAX_PROMISEES]),
                    "written_at": written_at.isoformat(),
                },
                deliver_after=now,
                created_at=now,
                expires_at=written_at + SHOW_WITHIN,
            )
        if added:
            log.debug("promise offer recorded for %s in %s", message.user_id, message.channel_id)
        return added

    def compose(self, message: Outbound) -> PromiseOffer | None:
        """The offer as of now: none when they said "Don't ask me" meanwhile, when the message is gone,
        or when it no longer reads as a promise with a time still ahead."""
        team_id, author_id = message.team_id, message.recipient_id
        payload = message.payload
        channel_id, message_ts = str(payload["channel_id"]), str(payload["message_ts"])
        thread_ts = payload.get("thread_ts")
        written_at = datetime.fromisoformat(str(payload["written_at"]))
        if not self._people.preferences(team_id, author_id).promise_offers:
            return None
        text = self._messenger.message_text(team_id, channel_id, message_ts, thread_ts=thread_ts)
        if text is None:
            return None
        tz = self._people.tz(team_id, author_id)
        spotted = spot_promise(text, now=written_at, tz=tz)
        if spotted is None or spotted.due.at <= (message.as_of or self._clock.now()):
            return None
        return PromiseOffer(
            team_id=team_id,
            author_id=author_id,
            channel_id=channel_id,
            message_ts=message_ts,
            promisee_ids=self._waiting(team_id, author_id, payload),
            title=spotted.title,
            due=spotted.due,
            author_tz=tz,
            link=permalink_of(self._messenger, team_id, channel_id, message_ts),
            reply=PrivateReply(
                user_id=author_id,
                channel_id=channel_id,
                # An answer in a thread is offered in that thread.
                thread_ts=str(thread_ts) if thread_ts and thread_ts != message_ts else None,
            ),
        )

    def _waiting(self, team_id: str, author_id: str, payload: dict[str, object]) -> tuple[str, ...]:
        """Who the promise is to: the people it mentions, else whoever started the thread it answers.
        Bots and people who left are not waiting for anything; a hiccup asking about them is retried."""
        mentioned = payload.get("mentioned_ids")
        candidates = [str(user_id) for user_id in mentioned] if isinstance(mentioned, list) else []
        parent = payload.get("parent_user_id")
        if not candidates and isinstance(parent, str) and parent:
            candidates = [parent]
        people = tuple(dict.fromkeys(user_id for user_id in candidates if user_id != author_id))
        if not people:
            return ()
        bots, gone = self._people.sort_out(team_id, people)
        return tuple(user_id for user_id in people if user_id not in bots and user_id not in gone)

    def track(self, choice: OfferChoice) -> MadePromise:
        """The offer taken: an ordinary promise from here on, once per message and author. Raises
        PromiseRefused (nobody picked, a time already past, ...) with nothing recorded."""
        return self._promises.make(
            PromiseRequest(
                team_id=choice.team_id,
                promiser_id=choice.author_id,
                dedupe_key=keys.promise_from_offer(choice.channel_id, choice.message_ts, choice.author_id),
                promisee_ids=choice.promisee_ids,
                what=choice.title,
                due_at=choice.due_at,
                date_only=choice.date_only,
                channel_id=choice.channel_id,
                origin_ts=choice.message_ts,
                context_link=choice.link,
            )
        )

    def stop_offering(self, team_id: str, user_id: str) -> None:
        """ "Don't ask me": no more offers to this person (their Home's settings turn them back on)."""
        preferences = self._people.preferences(team_id, user_id)
        if preferences.promise_offers:
            self._people.save_preferences(
                team_id, user_id, preferences.model_copy(update={"promise_offers": False})
            )
