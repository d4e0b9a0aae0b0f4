"""Never leave anyone waiting: a question that @mentions someone and stays unanswered for a few of their
own working hours gets them one private nudge, with "I'm on it: reply by …" and Dismiss.

What is kept: where the question is (channel, ts, thread) and who asked whom, never its words; the nudge
reads the question again from the platform when it is sent (a deleted question gets no nudge).

A reply in the thread, or a reaction to the question, by the person asked answers it. At most one nudge
per question (its status moves once), at most the workspace's cap a person a day (counted in the same
transaction as the nudge), only in the person's working hours, never to the one who asked.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services import keys
from bot.services.delivery import DeliveryService, Outbound
from bot.services.offers import ChatMessage, permalink_of
from bot.services.people import PeopleService, schedule_in
from bot.services.ports import DeliveryError, Messenger
from bot.services.promises import MadePromise, PromiseRefused, PromiseRequest, PromiseService
from bot.services.workspaces import WorkspaceService, WorkspaceSettings
from storage import outbox as outbox_store
from storage import people as people_store
from storage import questions as question_store
from storage import workspaces as workspace_store
from storage.db import SessionFactory, unit_of_work
from storage.models import Question

log = logging.getLogger(__name__)

NUDGE = "question.nudge"
HEARD = "question.heard"
# A question asked longer ago than this, never nudged (a cap every day, a long absence), is let go.
GIVE_UP_AFTER = timedelta(days=3)
# "I'm on it" promises a reply within this much of the person's working time.
REPLY_WITHIN = timedelta(hours=2)
# The time the button showed is kept while at least this far ahead; closer or past, a new one is set.
STILL_AHEAD = timedelta(minutes=30)
PLAN_BATCH = 200
# A message that @mentions more people than this is an announcement, not a question to each of them.
MAX_ASKED = 5
# Asked directly: a question mark, or a sentence that opens by asking someone ("can you…", "any news…").
_QUESTION_MARK = re.compile(r"\?")
_ASKS = re.compile(
    r"^(?:(?:can|could|would|will|do|did|should|have|are)\s+(?:you|u|ya|anyone|anybody|someone|somebody)"
    r"|any\s+(?:news|update|updates|idea|ideas|thoughts|eta|chance)|what\s+do\s+you\s+think)\b",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"<[^<>]*>|```.*?```|`[^`]*`", re.DOTALL)
_QUOTED_LINE = re.compile(r"^\s*(?:>|&gt;).*$", re.MULTILINE)


def is_question(text: str) -> bool:
    """Whether a message asks something: a question mark outside code, quotes and links and mentions, or
    a sentence that opens by asking someone. "will do", "What a launch!" and "Do not merge" are not.
    Reading only, cheap: it runs on every message with a mention."""
    words = _QUOTED_LINE.sub(" ", _MARKUP.sub(" ", text[:4000]))
    if _QUESTION_MARK.search(words):
        return True
    return any(_ASKS.match(sentence.strip(" ,:;-")) for sentence in re.split(r"[.!\n]+", words))


@dataclass(frozen=True)
class QuestionNudge:
    """The one private nudge about a question, for the person asked, in their zone."""

    question_id: int
    team_id: str
    channel_id: str
    asked_id: str
    asker_id: str
    asked_at: datetime
    # The question's words as they read now, in the platform's own markup: shown, never kept.
    text: str
    link: str | None
    reply_by: datetime
    reader_tz: str
    sent_at: datetime


@dataclass(frozen=True)
class QuestionHeard:
    """In the question's thread: the person asked saw it and will reply by then."""

    channel_id: str
    thread_ts: str
    asker_id: str
    asked_id: str
    reply_by: datetime


@dataclass(frozen=True)
class OnIt:
    promise: MadePromise
    reply_by: datetime


class QuestionRefused(Exception):
    """Expected; rendered as a friendly private reply. Nothing was changed."""


class QuestionNotYours(QuestionRefused):
    pass


class QuestionClosed(QuestionRefused):
    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class QuestionService:
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
        # A nudge that could not go (too late in their day, a refusal) ends the question: never two.
        delivery.register(NUDGE, self.compose_nudge, on_dropped=self._nudge_dropped, attention="waits")
        delivery.register(HEARD, self.compose_heard)
        delivery.add_planner(self.plan)

    # ---------------------------------------------------------------- what people write

    def notice(self, message: ChatMessage, *, in_channel: bool) -> int:
        """Before the ack, database only: a question that @mentions people in a channel is kept (one row
        per person asked); a message in a thread answers the questions there that wait on its author.
        How many questions were recorded."""
        written_at = message.written_at
        settings = self._workspaces.get(message.team_id)
        if not settings.question_nudges:
            return 0  # nothing is kept, and nothing waits (the planner lets go of what was kept before)
        thread_ts = message.thread_ts or message.ts
        if message.thread_ts:
            self._answered(message.team_id, message.channel_id, message.thread_ts, message.user_id)
        if not (in_channel and message.mentioned_ids):
            return 0
        if abs(self._clock.now() - written_at) > timedelta(minutes=5) or not is_question(message.text):
            return 0
        with unit_of_work(self._sessions) as session:
            asked = [
                user_id
                for user_id in message.mentioned_ids
                if user_id != message.user_id and not _known_bot(session, message.team_id, user_id)
            ]
            if len(asked) > MAX_ASKED:
                return 0
            return question_store.record(
                session,
                team_id=message.team_id,
                channel_id=message.channel_id,
                message_ts=message.ts,
                thread_ts=thread_ts,
                asker_id=message.user_id,
                asked_ids=asked,
                asked_at=written_at,
                # The earliest a nudge could be due; the planner works out their own working hours.
                nudge_after=written_at + timedelta(hours=settings.question_wait_hours),
            )

    def look_into(self, message: ChatMessage) -> None:
        """After the ack: the people a question asked are looked up (their nudge follows their own zone),
        and in a private channel, those who are not in it are not nudged: they could not read it."""
        asked = self._waiting_for(message)
        for user_id in asked:
            try:
                self._people.get(message.team_id, user_id)
            except DeliveryError as error:
                log.info("could not look up %s for a question nudge: %s", user_id, error.reason)
        outsiders = self._outsiders(message.team_id, message.channel_id, asked)
        if outsiders:
            with unit_of_work(self._sessions) as session:
                question_store.drop_for(
                    session,
                    team_id=message.team_id,
                    channel_id=message.channel_id,
                    message_ts=message.ts,
                    asked_ids=outsiders,
                    at=self._clock.now(),
                )

    def _waiting_for(self, message: ChatMessage) -> list[str]:
        with unit_of_work(self._sessions) as session:
            return question_store.waiting_for(
                session, team_id=message.team_id, channel_id=message.channel_id, message_ts=message.ts
            )

    def _outsiders(self, team_id: str, channel_id: str, user_ids: list[str]) -> list[str]:
        """Those of `user_ids` who cannot read a private channel. A hiccup asking says nobody: the nudge
        asks again before it is sent."""
        if not user_ids:
            return []
        try:
            if not self._people.is_private(team_id, channel_id):
                return []
            members = set(self._people.channel_members(team_id, channel_id))
        except DeliveryError as error:
            log.info("could not read who is in %s: %s", channel_id, error.reason)
            return []
        return [user_id for user_id in user_ids if user_id not in members]

    def _answered(self, team_id: str, channel_id: str, thread_ts: str, user_id: str) -> None:
        with unit_of_work(self._sessions) as session:
            question_store.answered_in_thread(
                session,
                team_id=team_id,
                channel_id=channel_id,
                thread_ts=thread_ts,
                user_id=user_id,
                at=self._clock.now(),
            )

    def reacted(self, *, team_id: str, channel_id: str, message_ts: str, user_id: str) -> None:
        if not self._workspaces.get(team_id).question_nudges:
            return
        with unit_of_work(self._sessions) as session:
            question_store.reacted(
                session,
                team_id=team_id,
                channel_id=channel_id,
                message_ts=message_ts,
                user_id=user_id,
                at=self._clock.now(),
            )

    def deleted(self, *, team_id: str, channel_id: str, message_ts: str) -> None:
        if not self._workspaces.get(team_id).question_nudges:
            return
        with unit_of_work(self._sessions) as session:
            question_store.deleted(
                session, team_id=team_id, channel_id=channel_id, message_ts=message_ts, at=self._clock.now()
            )

    # ---------------------------------------------------------------- the nudge

    def plan(self, session: Session, now: datetime) -> int:
        """Nudges for the questions whose wait is over, within each person's hours and daily cap."""
        settings_of: dict[str, WorkspaceSettings] = {}
        planned = 0
        for question in question_store.due(session, now=now, limit=PLAN_BATCH):
            if question.team_id not in settings_of:
                saved = workspace_store.get(session, team_id=question.team_id) or {}
                settings_of[question.team_id] = WorkspaceSettings.model_validate(
                    {**saved, "team_id": question.team_id}
                )
            planned += self._plan_one(session, question, settings_of[question.team_id], now)
        return planned

    def _plan_one(
        self, session: Session, question: Question, settings: WorkspaceSettings, now: datetime
    ) -> bool:
        """The nudge about one question, written (True); or the moment it waits for; or let go."""
        team_id, question_id = question.team_id, question.id
        if not settings.question_nudges or now - question.asked_at > GIVE_UP_AFTER:
            question_store.move(
                session,
                team_id=team_id,
                question_id=question_id,
                from_=(question_store.OPEN,),
                to=question_store.DROPPED,
                at=now,
            )
            return False
        schedule = schedule_in(session, team_id=team_id, user_id=question.asked_id)
        due_at = schedule.after_working(question.asked_at, timedelta(hours=settings.question_wait_hours))
        if due_at <= now and (not schedule.is_open(now) or schedule.is_away(now)):
            due_at = schedule.back_and_working(now + timedelta(seconds=1))  # not at night, not while away
        if due_at > now:
            question_store.wait_until(session, team_id=team_id, question_id=question_id, at=due_at)
            return False
        if not question_store.move(
            session,
            team_id=team_id,
            question_id=question_id,
            from_=(question_store.OPEN,),
            to=question_store.NUDGED,
            at=None,
        ):
            return False  # another replica nudged it
        day = now.astimezone(schedule.zone).date()
        if not question_store.take_nudge(
            session, team_id=team_id, user_id=question.asked_id, day=day, cap=settings.question_daily_cap
        ):
            # Enough for today: back to waiting, for their next working morning.
            question_store.reopen(
                session, team_id=team_id, question_id=question_id, at=schedule.next_morning(now)
            )
            return False
        outbox_store.enqueue(
            session,
            team_id=team_id,
            dedupe_key=keys.question_nudge(question_id),
            kind=NUDGE,
            recipient_id=question.asked_id,
            payload={"question_id": question_id},
            deliver_after=now,
            created_at=now,
            # Not sent by the end of their working day: dropped rather than landing at night.
            expires_at=datetime.combine(day, schedule.hours.end, schedule.zone).astimezone(UTC),
        )
        return True

    def compose_nudge(self, message: Outbound) -> QuestionNudge | None:
        """As of now: none for a question answered, dismissed or deleted meanwhile."""
        question_id = int(message.payload["question_id"])
        with unit_of_work(self._sessions) as session:
            question = question_store.get(session, team_id=message.team_id, question_id=question_id)
            if question is None or question.status != question_store.NUDGED:
                return None
            channel_id, message_ts, thread_ts = question.channel_id, question.message_ts, question.thread_ts
            asker_id, asked_id, asked_at = question.asker_id, question.asked_id, question.asked_at
        text = self._messenger.message_text(message.team_id, channel_id, message_ts, thread_ts=thread_ts)
        if text is None:
            return None  # deleted
        if self._messenger.replied(message.team_id, channel_id, thread_ts, asked_id, after_ts=message_ts):
            return None  # answered, though we did not hear of it (a missed or late event)
        if self._outsiders(message.team_id, channel_id, [asked_id]):
            return None  # a private channel they are not in
        now = message.as_of or self._clock.now()
        schedule = self._people.schedule(message.team_id, asked_id)
        return QuestionNudge(
            question_id=question_id,
            team_id=message.team_id,
            channel_id=channel_id,
            asked_id=asked_id,
            asker_id=asker_id,
            asked_at=asked_at,
            text=text,
            link=permalink_of(self._messenger, message.team_id, channel_id, message_ts),
            reply_by=schedule.after_working(now, REPLY_WITHIN),
            reader_tz=schedule.tz,
            sent_at=now,
        )

    def _nudge_dropped(self, session: Session, message: Outbound) -> None:
        question_store.move(
            session,
            team_id=message.team_id,
            question_id=int(message.payload["question_id"]),
            from_=(question_store.NUDGED,),
            to=question_store.DROPPED,
            at=self._clock.now(),
        )

    def compose_heard(self, message: Outbound) -> QuestionHeard:
        payload = message.payload
        return QuestionHeard(
            channel_id=str(payload["channel_id"]),
            thread_ts=str(payload["thread_ts"]),
            asker_id=str(payload["asker_id"]),
            asked_id=str(payload["asked_id"]),
            reply_by=datetime.fromisoformat(str(payload["reply_by"])),
        )

    # ---------------------------------------------------------------- the buttons

    def on_it(
        self, *, team_id: str, question_id: int, actor_id: str, shown_reply_by: datetime | None = None
    ) -> OnIt:
        """ "I'm on it": a promise to the asker to reply by the time the button showed (or, when that is
        passed or close, within REPLY_WITHIN of the person's working time from now), and a word in the
        question's thread that it was heard. Once per question, however often it is pressed. Raises
        QuestionRefused or PromiseRefused with nothing changed."""
        now = self._clock.now()
        with unit_of_work(self._sessions) as session:
            question = question_store.get(session, team_id=team_id, question_id=question_id)
            if question is None or question.asked_id != actor_id:
                raise QuestionNotYours()
            # Taken first: an answer or a Dismiss arriving meanwhile finds it taken, and the other way round.
            if question.status != question_store.ON_IT and not question_store.move(
                session,
                team_id=team_id,
                question_id=question_id,
                from_=question_store.WAITING,
                to=question_store.ON_IT,
                at=now,
            ):
                raise QuestionClosed(question.status)
            channel_id, message_ts, thread_ts = question.channel_id, question.message_ts, question.thread_ts
            asker_id, was = question.asker_id, question.status
        if shown_reply_by is not None and shown_reply_by > now + STILL_AHEAD:
            reply_by = shown_reply_by
        else:
            reply_by = self._people.schedule(team_id, actor_id).after_working(now, REPLY_WITHIN)
        try:
            made = self._promises.make(
                PromiseRequest(
                    team_id=team_id,
                    promiser_id=actor_id,
                    dedupe_key=keys.promise_from_question(question_id),
                    promisee_ids=(asker_id,),
                    what=f"reply to {self._name(team_id, asker_id)}'s question",
                    due_at=reply_by,
                    channel_id=channel_id,
                    origin_ts=message_ts,
                    context_link=permalink_of(
                        self._messenger, team_id, channel_id, message_ts, wait_if_busy=False
                    ),
                    # They are told in the question's thread, where they asked.
                    tell_promisees=False,
                )
            )
        except PromiseRefused:
            with unit_of_work(self._sessions) as session:  # as it was: nothing changed
                question_store.move(
                    session,
                    team_id=team_id,
                    question_id=question_id,
                    from_=(question_store.ON_IT,),
                    to=was,
                    at=None,
                )
            raise
        with unit_of_work(self._sessions) as session:
            question_store.set_promise(
                session, team_id=team_id, question_id=question_id, promise_id=made.promise.id
            )
            outbox_store.enqueue(
                session,
                team_id=team_id,
                dedupe_key=keys.question_heard(question_id),
                kind=HEARD,
                recipient_id=channel_id,
                payload={
                    "channel_id": channel_id,
                    "thread_ts": thread_ts,
                    "asker_id": asker_id,
                    "asked_id": actor_id,
                    "reply_by": made.promise.due_at.astimezone(UTC).isoformat(),
                },
                deliver_after=now,
                created_at=now,
            )
        return OnIt(promise=made, reply_by=made.promise.due_at)

    def _name(self, team_id: str, user_id: str) -> str:
        """Their name for a promise's title; "them" when the platform cannot say now."""
        try:
            return self._people.get(team_id, user_id).display_name or "them"
        except DeliveryError:
            return "them"

    def dismiss(self, *, team_id: str, question_id: int, actor_id: str) -> None:
        with unit_of_work(self._sessions) as session:
            question = question_store.get(session, team_id=team_id, question_id=question_id)
            if question is None or question.asked_id != actor_id:
                raise QuestionNotYours()
            question_store.move(
                session,
                team_id=team_id,
                question_id=question_id,
                from_=question_store.WAITING,
                to=question_store.DISMISSED,
                at=self._clock.now(),
            )


def _known_bot(session: Session, team_id: str, user_id: str) -> bool:
    person = people_store.get(session, team_id=team_id, user_id=user_id)
    return person is not None and person.is_bot
