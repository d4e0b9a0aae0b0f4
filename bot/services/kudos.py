"""Kudos: record thanks, post it, tell the recipients, and keep the counts honest.

Acknowledged means recorded. `give` checks every rule and, in one transaction, records the kudos, counts
it against the giver's allowance and writes the outbox row for its public post: only then may the
platform adapter acknowledge. The post, each recipient's DM, the one private word to the giver and a
withdrawal (a kudos taken back) are each an outbox row with a key of their own, so each goes out once,
whatever crashes, restarts or replicas happen in between. Requests that cannot be checked within the
platform's few seconds (a group to look up, a reaction) are recorded as work and given from the outbox.

Platform-neutral: people are (team id, user id) pairs; the platform is reached through the Messenger
and Directory ports, never inside an open transaction.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services import keys
from bot.services.delivery import DeliveryService, Outbound
from bot.services.hours import zone_of
from bot.services.people import PeopleService
from bot.services.ports import (
    CANNOT_POST_REASONS,
    DeliveryError,
    Messenger,
    PostedMessage,
    PrivateReply,
    Withdrawal,
)
from bot.services.text import CleanText
from bot.services.workspaces import WorkspaceService
from storage import kudos as kudos_store
from storage import outbox as outbox_store
from storage.db import SessionFactory, unit_of_work
from storage.models import Kudos

log = logging.getLogger(__name__)

# A kudos post quotes the message inside a section block (3,000 characters) with names around it.
MAX_MESSAGE_CHARS = 2000
# A value is stored in a column of this width.
MAX_VALUE_CHARS = 100
POST = "kudos.post"
DM = "kudos.dm"
REPLY = "kudos.reply"
WITHDRAWAL = "kudos.withdrawal"
REQUEST = "kudos.request"
REACTION = "kudos.reaction"
LEADERBOARD_SIZE = 10
# How long a platform's reply address for a request stays usable (Slack: 30 minutes).
REPLY_URL_LIFETIME = timedelta(minutes=30)

KudosSource = Literal["command", "modal", "reaction", "shortcut"]
Period = Literal["week", "month", "all"]


class KudosRequest(BaseModel):
    """What somebody asked for, as parsed by a platform adapter."""

    model_config = ConfigDict(frozen=True)

    team_id: str = Field(min_length=1)
    giver_id: str = Field(min_length=1)
    dedupe_key: str = Field(min_length=1, max_length=255)
    source: KudosSource
    user_ids: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()
    message: CleanText = ""
    values: tuple[CleanText, ...] = ()
    channel_id: str | None = None
    origin_ts: str | None = None
    reason_link: str | None = None
    event_ts: str | None = None
    # Where the giver hears about the post after the acknowledgement (not for a reaction refused
    # because the bot cannot post there: reacting is not a request to be told so).
    reply: PrivateReply | None = None


@dataclass(frozen=True)
class KudosView:
    """A kudos as the renderers need it."""

    id: int
    team_id: str
    giver_id: str | None
    recipient_ids: tuple[str, ...]
    message: str
    values: tuple[str, ...]
    source: str
    reason_link: str | None
    post_channel_id: str | None = None
    post_ts: str | None = None
    permalink: str | None = None


@dataclass(frozen=True)
class KudosPost:
    """The public post, where everyone can see it (in the thread of the message it is about, if any)."""

    kudos: KudosView
    thread_ts: str | None = None


@dataclass(frozen=True)
class KudosReply:
    """The one private word to the giver after the acknowledgement: where the kudos went, or why not."""

    reply: PrivateReply
    kudos: KudosView | None = None
    refusal: KudosRefused | None = None


@dataclass(frozen=True)
class GiveResult:
    kudos: KudosView
    duplicate: bool = False


@dataclass(frozen=True)
class Leaderboard:
    period: Period
    received: list[tuple[str, int]]
    given: list[tuple[str, int]]


class KudosRefused(Exception):
    """An expected refusal; the adapter renders it as a friendly reply. Nothing was recorded.

    Every subclass passes all its fields to Exception, so a refusal can wait in an outbox row."""


class NoRecipients(KudosRefused):
    pass


class SelfKudos(KudosRefused):
    pass


class BotRecipient(KudosRefused):
    def __init__(self, user_ids: list[str]) -> None:
        super().__init__(user_ids)
        self.user_ids = user_ids


class InactiveRecipient(KudosRefused):
    def __init__(self, user_ids: list[str]) -> None:
        super().__init__(user_ids)
        self.user_ids = user_ids


class UnknownGroup(KudosRefused):
    def __init__(self, group_id: str) -> None:
        super().__init__(group_id)
        self.group_id = group_id


class EmptyMessage(KudosRefused):
    pass


class MessageTooLong(KudosRefused):
    def __init__(self, length: int, limit: int) -> None:
        super().__init__(length, limit)
        self.length = length
        self.limit = limit


class UnknownValue(KudosRefused):
    def __init__(self, value: str, suggestion: str | None, known: list[str]) -> None:
        super().__init__(value, suggestion, known)
        self.value = value
        self.suggestion = suggestion
        self.known = known


class ValueTooLong(KudosRefused):
    def __init__(self, value: str, limit: int) -> None:
        super().__init__(value, limit)
        self.value = value
        self.limit = limit


class AllowanceExhausted(KudosRefused):
    def __init__(self, allowance: int, wanted: int, left: int) -> None:
        super().__init__(allowance, wanted, left)
        self.allowance = allowance
        self.wanted = wanted
        self.left = left


class CannotPost(KudosRefused):
    """The bot may not post in the channel (not a member, archived, private)."""

    def __init__(self, channel_id: str, reason: str) -> None:
        super().__init__(channel_id, reason)
        self.channel_id = channel_id
        self.reason = reason


class PlatformBusy(KudosRefused):
    """The chat platform refused for now (rate limit, outage); nothing was recorded."""

    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason, retry_after)
        self.reason = reason
        self.retry_after = retry_after


class _OverAllowance(Exception):
    """Raised inside the recording transaction to roll it back."""


_REFUSALS: dict[str, type[KudosRefused]] = {
    cls.__name__: cls
    for cls in (
        NoRecipients,
        SelfKudos,
        BotRecipient,
        InactiveRecipient,
        UnknownGroup,
        EmptyMessage,
        MessageTooLong,
        UnknownValue,
        ValueTooLong,
        AllowanceExhausted,
        CannotPost,
        PlatformBusy,
    )
}


class KudosService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Clock,
        people: PeopleService,
        workspaces: WorkspaceService,
        messenger: Messenger,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._people = people
        self._workspaces = workspaces
        self._messenger = messenger

    def register(self, delivery: DeliveryService) -> None:
        """The outbox kinds and recorded work this service owns."""
        delivery.register(POST, self.compose_post, on_sent=self._posted, on_dead=self._not_posted)
        # Kudos to someone away waits for them; with a digest, it comes in it.
        delivery.register(DM, self.compose_dm, attention="digest")
        delivery.register(REPLY, self.compose_reply)
        delivery.register(WITHDRAWAL, self.compose_withdrawal)
        delivery.register_task(REQUEST, self._give_recorded_request)
        delivery.register_task(REACTION, self._give_for_reaction)

    # ---------------------------------------------------------------- giving

    def give(self, request: KudosRequest, *, _retried: bool = False) -> GiveResult:
        """Checks every rule and records the kudos with its post's outbox row, once per `dedupe_key`
        (a repeat returns the first result). Raises KudosRefused, having recorded nothing."""
        existing = self._existing(request)
        if existing is not None:
            return GiveResult(kudos=existing, duplicate=True)
        recipients, values = self._validate(request)
        settings = self._workspaces.get(request.team_id)
        target = settings.kudos_channel_id or request.channel_id
        if target is None:
            raise CannotPost("", "channel_not_found")
        now = self._clock.now()
        # Zones first: looking people up may call the platform, never inside the transaction below.
        day = now.astimezone(self._zone(request.team_id, request.giver_id)).date()
        dm_at = {
            user_id: self._people.schedule(request.team_id, user_id).next_open(now).isoformat()
            for user_id in recipients
        }
        payload: dict[str, Any] = {
            "kudos_id": 0,
            # In the thread of the reacted-to message, unless kudos have a channel of their own.
            "thread_ts": request.origin_ts if settings.kudos_channel_id is None else None,
            "origin_channel_id": request.channel_id,
            # Only a typed command hears where its kudos went; a form or a reaction sees it happen.
            "confirm": request.source == "command",
            "dm_at": dm_at,
            "reply": request.reply.model_dump(mode="json") if request.reply else None,
        }
        try:
            kudos_id = self._record(
                request, recipients, values, target, day, settings.daily_allowance, payload
            )
        except _OverAllowance:
            raise self._exhausted(request, day, len(recipients), settings.daily_allowance) from None
        if kudos_id is None:
            # The same request, delivered twice at once: the other delivery owns it. Or a removal's
            # tombstone got in first; `_existing` retires it if this "added" is the later one.
            again = self._existing(request)
            if again is None and not _retried:
                return self.give(request, _retried=True)
            if again is None:
                raise PlatformBusy("conflict", None)
            return GiveResult(kudos=again, duplicate=True)
        log.debug("kudos %s recorded: %s to %s", kudos_id, request.giver_id, ",".join(recipients))
        return GiveResult(
            kudos=KudosView(
                id=kudos_id,
                team_id=request.team_id,
                giver_id=request.giver_id,
                recipient_ids=recipients,
                message=request.message.strip(),
                values=values,
                source=request.source,
                reason_link=request.reason_link,
            )
        )

    def _record(
        self,
        request: KudosRequest,
        recipients: tuple[str, ...],
        values: tuple[str, ...],
        target: str,
        day: date,
        allowance: int,
        payload: dict[str, Any],
    ) -> int | None:
        """One transaction: the kudos, its count against the allowance, its post's outbox row. The new
        kudos' id, or None when its key is taken. Raises _OverAllowance, having written nothing."""
        now = self._clock.now()
        with unit_of_work(self._sessions) as session:
            kudos_id = kudos_store.insert_pending(
                session,
                team_id=request.team_id,
                dedupe_key=request.dedupe_key,
                giver_id=request.giver_id,
                recipient_ids=recipients,
                message=request.message.strip(),
                values=values,
                source=request.source,
                created_at=now,
                origin_channel_id=request.channel_id if request.source == "reaction" else None,
                origin_ts=request.origin_ts,
                reason_link=request.reason_link,
                event_ts=request.event_ts,
                # Unlimited: nothing to count, so no counter row that every kudos of the giver would queue
                # for (one giver's burst serialised on its lock: the closed-loop benchmark's tail).
                allowance_day=day if allowance > 0 else None,
            )
            if kudos_id is None:
                return None
            if allowance > 0 and not kudos_store.use_allowance(
                session,
                team_id=request.team_id,
                giver_id=request.giver_id,
                day=day,
                people=len(recipients),
                allowance=allowance,
            ):
                raise _OverAllowance()
            outbox_store.enqueue(
                session,
                team_id=request.team_id,
                dedupe_key=keys.kudos_post(kudos_id),
                kind=POST,
                recipient_id=target,
                payload={**payload, "kudos_id": kudos_id},
                deliver_after=now,
                created_at=now,
            )
        return kudos_id

    def give_later(self, request: KudosRequest) -> None:
        """Records the request as work (a group whose members take a while to look up): acknowledged
        now, checked and given by the outbox in a moment; a refusal reaches `request.reply`."""
        now = self._clock.now()
        with unit_of_work(self._sessions) as session:
            outbox_store.enqueue(
                session,
                team_id=request.team_id,
                dedupe_key=keys.kudos_request(request.dedupe_key),
                kind=REQUEST,
                recipient_id=request.giver_id,
                payload={"request": request.model_dump(mode="json")},
                deliver_after=now,
                created_at=now,
            )

    def record_reaction(
        self,
        *,
        team_id: str,
        channel_id: str,
        message_ts: str,
        reactor_id: str,
        author_id: str,
        reaction: str,
        event_ts: str | None,
    ) -> bool:
        """Records a reaction with the kudos emoji as work to give (False for any other emoji). Its
        key holds the event's time: the same event twice is one piece of work, a re-add another."""
        if reaction != self._workspaces.get(team_id).kudos_emoji:
            return False
        now = self._clock.now()
        with unit_of_work(self._sessions) as session:
            outbox_store.enqueue(
                session,
                team_id=team_id,
                dedupe_key=keys.kudos_request(
                    f"{reaction_key(channel_id, message_ts, reactor_id)}:{event_ts}"
                ),
                kind=REACTION,
                recipient_id=reactor_id,
                payload={
                    "channel_id": channel_id,
                    "message_ts": message_ts,
                    "reactor_id": reactor_id,
                    "author_id": author_id,
                    "event_ts": event_ts,
                },
                deliver_after=now,
                created_at=now,
            )
        return True

    def _give_recorded_request(self, work: Outbound) -> None:
        self._give_or_explain(KudosRequest.model_validate(work.payload["request"]))

    def _give_for_reaction(self, work: Outbound) -> None:
        payload = work.payload
        channel_id, message_ts = str(payload["channel_id"]), str(payload["message_ts"])
        try:
            reason_link = self._messenger.permalink(work.team_id, channel_id, message_ts)
        except DeliveryError as error:
            if error.reason == "ratelimited":
                raise  # the work waits for Retry-After, then the kudos comes with its link
            reason_link = None  # the message is gone or hidden: the kudos needs no link to stand
        reactor_id = str(payload["reactor_id"])
        self._give_or_explain(
            KudosRequest(
                team_id=work.team_id,
                giver_id=reactor_id,
                dedupe_key=reaction_key(channel_id, message_ts, reactor_id),
                source="reaction",
                user_ids=(str(payload["author_id"]),),
                channel_id=channel_id,
                origin_ts=message_ts,
                reason_link=reason_link,
                event_ts=payload.get("event_ts"),
                reply=PrivateReply(user_id=reactor_id, channel_id=channel_id),
            )
        )

    def _give_or_explain(self, request: KudosRequest) -> None:
        """Recorded work: give, or explain why not to the one who asked (once, by its own key)."""
        try:
            self.give(request)
        except PlatformBusy as error:
            if error.reason == "conflict":
                raise DeliveryError("conflict") from None
            raise DeliveryError(error.reason, retry_after=error.retry_after) from None  # tried again later
        except KudosRefused as error:
            if request.reply is None or (isinstance(error, CannotPost) and request.source == "reaction"):
                return
            now = self._clock.now()
            with unit_of_work(self._sessions) as session:
                outbox_store.enqueue(
                    session,
                    team_id=request.team_id,
                    dedupe_key=keys.kudos_request_reply(f"{request.dedupe_key}:{request.event_ts or ''}"),
                    kind=REPLY,
                    recipient_id=request.giver_id,
                    payload={
                        "reply": request.reply.model_dump(mode="json"),
                        "refusal": _refusal_payload(error),
                    },
                    deliver_after=now,
                    created_at=now,
                )

    # ---------------------------------------------------------------- the outbox's side

    def compose_post(self, message: Outbound) -> KudosPost | None:
        """The public post, unless the kudos was taken back before it went out."""
        view = self._as_of_now(message, kudos_store.PENDING)
        return KudosPost(kudos=view, thread_ts=message.payload.get("thread_ts")) if view else None

    def _as_of_now(self, message: Outbound, status: str) -> KudosView | None:
        """The kudos an outbox row is about, if it is still in `status`."""
        with unit_of_work(self._sessions) as session:
            kudos = kudos_store.get(
                session, team_id=message.team_id, kudos_id=int(message.payload["kudos_id"])
            )
            return view_of(kudos) if kudos is not None and kudos.status == status else None

    def _posted(self, session: Session, message: Outbound, posted: PostedMessage) -> None:
        """In the transaction that marks the post sent: the kudos is posted, and its DMs and the
        giver's confirmation are written, or, taken back meanwhile, its withdrawal is."""
        kudos_id, team_id = int(message.payload["kudos_id"]), message.team_id
        now = message.as_of or self._clock.now()
        if not kudos_store.mark_posted(
            session,
            team_id=team_id,
            kudos_id=kudos_id,
            channel_id=posted.channel_id,
            ts=posted.ts,
            permalink=None,
        ):
            # Taken back (the reaction was removed) while it was being posted: take the post down.
            kudos_store.note_post(
                session, team_id=team_id, kudos_id=kudos_id, channel_id=posted.channel_id, ts=posted.ts
            )
            self._enqueue(
                session,
                team_id,
                keys.kudos_withdrawal(kudos_id),
                WITHDRAWAL,
                posted.channel_id,
                {"kudos_id": kudos_id},
                now,
            )
            return
        # Each recipient hears in their own working hours: a DM at 03:00 is not a kindness.
        for user_id, at in (message.payload.get("dm_at") or {}).items():
            self._enqueue(
                session,
                team_id,
                keys.kudos_dm(kudos_id, user_id),
                DM,
                user_id,
                {"kudos_id": kudos_id},
                max(datetime.fromisoformat(at), now),
            )
        reply = message.payload.get("reply")
        if (
            reply
            and message.payload.get("confirm")
            and posted.channel_id != message.payload.get("origin_channel_id")
        ):
            # Posted somewhere else (the kudos channel): tell the giver where, while they still care.
            self._enqueue(
                session,
                team_id,
                keys.kudos_reply(kudos_id),
                REPLY,
                str(reply["user_id"]),
                {"kudos_id": kudos_id, "reply": reply},
                now,
                expires_at=now + REPLY_URL_LIFETIME,
            )

    def _not_posted(self, session: Session, message: Outbound, error: DeliveryError) -> None:
        """In the transaction that gives the post up: the kudos never counted, nothing else goes
        out, and the giver is told why and what to do."""
        kudos_id, team_id = int(message.payload["kudos_id"]), message.team_id
        if error.unverified:
            # It may be up: it keeps counting, and nobody is told it failed. (An operator sees the row.)
            log.warning("kudos %s: cannot tell whether its post went out (%s)", kudos_id, error.reason)
            return
        kudos = kudos_store.mark_failed(session, team_id=team_id, kudos_id=kudos_id)
        if kudos is None:
            return
        kudos_store.give_back_allowance(session, kudos=kudos)
        outbox_store.cancel_pending(
            session, team_id=team_id, key_prefix=keys.kudos(kudos_id), reason="not posted"
        )
        reply = message.payload.get("reply")
        cannot_post = error.reason in CANNOT_POST_REASONS
        if not reply or (cannot_post and kudos.source == "reaction"):
            return
        refusal: KudosRefused = (
            CannotPost(message.recipient_id, error.reason)
            if cannot_post
            else PlatformBusy(error.reason, None)
        )
        self._enqueue(
            session,
            team_id,
            keys.kudos_reply(kudos_id),
            REPLY,
            str(reply["user_id"]),
            {"reply": reply, "refusal": _refusal_payload(refusal)},
            self._clock.now(),
        )

    def compose_dm(self, message: Outbound) -> KudosView | None:
        """The recipient's DM, as of now: none for a kudos taken back meanwhile."""
        view = self._as_of_now(message, kudos_store.POSTED)
        return self._with_permalink(view) if view else None

    def compose_reply(self, message: Outbound) -> KudosReply | None:
        reply = PrivateReply.model_validate(message.payload["reply"])
        if (
            reply.reply_url
            and reply.reply_url_until
            and reply.reply_url_until <= (message.as_of or self._clock.now())
        ):
            reply = reply.model_copy(update={"reply_url": None})  # expired: a DM instead
        refusal = message.payload.get("refusal")
        if refusal is not None:
            return KudosReply(reply=reply, refusal=_refusal_from(refusal))
        view = self._as_of_now(message, kudos_store.POSTED)
        return KudosReply(reply=reply, kudos=self._with_permalink(view)) if view else None

    def compose_withdrawal(self, message: Outbound) -> Withdrawal | None:
        view = self._as_of_now(message, kudos_store.REVOKED)
        if view is None or not (view.post_channel_id and view.post_ts):
            return None
        return Withdrawal(channel_id=view.post_channel_id, ts=view.post_ts)

    def _with_permalink(self, view: KudosView) -> KudosView:
        """A link to the post, asked of the platform once and kept."""
        if view.permalink or not (view.post_channel_id and view.post_ts):
            return view
        try:
            permalink = self._messenger.permalink(view.team_id, view.post_channel_id, view.post_ts)
        except DeliveryError as error:
            log.info("no permalink for kudos %s: %s", view.id, error.reason)
            return view
        with unit_of_work(self._sessions) as session:
            kudos_store.note_permalink(session, team_id=view.team_id, kudos_id=view.id, permalink=permalink)
        return replace(view, permalink=permalink)

    # ---------------------------------------------------------------- taking back

    def revoke_reaction(
        self, *, team_id: str, channel_id: str, message_ts: str, reactor_id: str, event_ts: str | None
    ) -> KudosView | None:
        """Undoes the kudos a reaction gave; None when there was none (or it was undone already).
        A removal handled before its "added" leaves a tombstone, so the late "added" changes nothing.
        Writes only rows: the post is taken down by the outbox."""
        key = reaction_key(channel_id, message_ts, reactor_id)
        now = self._clock.now()
        with unit_of_work(self._sessions) as session:
            if kudos_store.find_by_key(
                session, team_id=team_id, dedupe_key=key
            ) is None and kudos_store.insert_tombstone(
                session,
                team_id=team_id,
                dedupe_key=key,
                giver_id=reactor_id,
                source="reaction",
                at=now,
                origin_channel_id=channel_id,
                origin_ts=message_ts,
                event_ts=event_ts,
            ):
                return None
        with unit_of_work(self._sessions) as session:
            kudos = kudos_store.find_by_key(session, team_id=team_id, dedupe_key=key)
            if kudos is None or not _is_later(event_ts, kudos.added_event_ts, when_unknown=True):
                return None  # this removal is older than the latest "added": old news
            return self._revoke(session, kudos, now, event_ts=event_ts, reason="revoked")

    def revoke_for_deleted_message(
        self, *, team_id: str, channel_id: str, message_ts: str
    ) -> list[KudosView]:
        """A deleted message takes the reaction kudos it earned with it."""
        now = self._clock.now()
        with unit_of_work(self._sessions) as session:
            # Reactions on it still waiting to be given are moot.
            outbox_store.cancel_pending(
                session,
                team_id=team_id,
                key_prefix=keys.kudos_request(reactions_on(channel_id, message_ts)),
                reason="message deleted",
            )
            revoked = [
                self._revoke(session, kudos, now, event_ts=None, reason="message deleted")
                for kudos in kudos_store.posted_for_message(
                    session, team_id=team_id, channel_id=channel_id, ts=message_ts
                )
            ]
        return [view for view in revoked if view is not None]

    def _revoke(
        self, session: Session, kudos: Kudos, now: datetime, *, event_ts: str | None, reason: str
    ) -> KudosView | None:
        if not kudos_store.mark_revoked(
            session, team_id=kudos.team_id, kudos_id=kudos.id, at=now, event_ts=event_ts
        ):
            return None
        # Re-read: a poster may have finished meanwhile. Whoever writes last takes the post down.
        session.refresh(kudos)
        kudos_store.give_back_allowance(session, kudos=kudos)
        outbox_store.cancel_pending(
            session, team_id=kudos.team_id, key_prefix=keys.kudos(kudos.id), reason=reason
        )
        if kudos.post_ts:
            self._enqueue(
                session,
                kudos.team_id,
                keys.kudos_withdrawal(kudos.id),
                WITHDRAWAL,
                str(kudos.post_channel_id),
                {"kudos_id": kudos.id},
                now,
            )
        return view_of(kudos)

    # ---------------------------------------------------------------- reading

    def leaderboard(self, *, team_id: str, viewer_id: str, period: Period) -> Leaderboard:
        """Counts from the start of the viewer's local week (Monday) or month, or of all time."""
        since: datetime | None = None
        if period != "all":
            local_now = self._clock.now().astimezone(self._zone(team_id, viewer_id))
            start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
            start = start.replace(day=1) if period == "month" else start - timedelta(days=start.weekday())
            since = start
        with unit_of_work(self._sessions) as session:
            received = kudos_store.top_receivers(
                session, team_id=team_id, since=since, limit=LEADERBOARD_SIZE
            )
            given = kudos_store.top_givers(session, team_id=team_id, since=since, limit=LEADERBOARD_SIZE)
        return Leaderboard(period=period, received=received, given=given)

    # ---------------------------------------------------------------- rules

    def _existing(self, request: KudosRequest) -> KudosView | None:
        with unit_of_work(self._sessions) as session:
            kudos = kudos_store.find_by_key(session, team_id=request.team_id, dedupe_key=request.dedupe_key)
            if kudos is None:
                return None
            if (
                kudos.status == kudos_store.REVOKED and _is_later(request.event_ts, kudos.revoked_event_ts)
            ) or (kudos.status == kudos_store.FAILED and _is_later(request.event_ts, kudos.added_event_ts)):
                # The reaction was removed and added again (or added again after its post failed): a
                # new kudos, not a retry of the old one.
                kudos_store.retire(session, team_id=request.team_id, kudos_id=kudos.id)
                return None
            if request.event_ts and _is_later(request.event_ts, kudos.added_event_ts):
                # Added again after a removal Slack has not told us about yet: that removal is old news.
                kudos_store.note_added(
                    session, team_id=request.team_id, kudos_id=kudos.id, event_ts=request.event_ts
                )
            return view_of(kudos)

    def _validate(self, request: KudosRequest) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Every rule but the allowance (counted as it is recorded): the recipients and the values as
        they will be stored. The cheap checks come first, so odd input costs no lookups."""
        message = request.message.strip()
        # A reaction or a shortcut points at a message: that message is the reason.
        if not message and request.reason_link is None and request.source != "reaction":
            if not (request.user_ids or request.group_ids):
                raise NoRecipients()
            raise EmptyMessage()
        if len(message) > MAX_MESSAGE_CHARS:
            raise MessageTooLong(len(message), MAX_MESSAGE_CHARS)
        values = self._values(request)
        return self._recipients(request), values

    def _recipients(self, request: KudosRequest) -> tuple[str, ...]:
        user_ids = list(request.user_ids)
        for group_id in request.group_ids:
            try:
                user_ids.extend(self._people.group_members(request.team_id, group_id))
            except DeliveryError as error:
                if error.permanent:
                    raise UnknownGroup(group_id) from None
                raise PlatformBusy(error.reason, error.retry_after) from None
        recipients = tuple(dict.fromkeys(user_ids))
        if not recipients:
            raise NoRecipients()
        if request.giver_id in recipients:
            if request.giver_id in request.user_ids or len(recipients) == 1:
                raise SelfKudos()
            # Thanking your own group is fine; you just are not one of the recipients.
            recipients = tuple(user_id for user_id in recipients if user_id != request.giver_id)
        try:
            bots, inactive = self._people.sort_out(request.team_id, recipients)
        except DeliveryError as error:
            raise PlatformBusy(error.reason, error.retry_after) from None
        if bots:
            raise BotRecipient(bots)
        if inactive:
            raise InactiveRecipient(inactive)
        return recipients

    def _values(self, request: KudosRequest) -> tuple[str, ...]:
        known = self._workspaces.get(request.team_id).kudos_values
        tags = [value.strip().lstrip("#") for value in request.values if value.strip().lstrip("#")]
        for tag in tags:
            if len(tag) > MAX_VALUE_CHARS:
                raise ValueTooLong(tag, MAX_VALUE_CHARS)
        if not known:
            return tuple(dict.fromkeys(tag.lower() for tag in tags))
        by_folded = {value.casefold(): value for value in known}
        matched: list[str] = []
        for tag in tags:
            value = by_folded.get(tag.casefold())
            if value is None:
                close = difflib.get_close_matches(tag.casefold(), list(by_folded), n=1, cutoff=0.6)
                raise UnknownValue(tag, by_folded[close[0]] if close else None, list(known))
            matched.append(value)
        return tuple(dict.fromkeys(matched))

    def _exhausted(self, request: KudosRequest, day: date, wanted: int, allowance: int) -> AllowanceExhausted:
        with unit_of_work(self._sessions) as session:
            used = kudos_store.allowance_used(
                session, team_id=request.team_id, giver_id=request.giver_id, day=day
            )
        return AllowanceExhausted(allowance, wanted, max(allowance - used, 0))

    def _zone(self, team_id: str, user_id: str) -> ZoneInfo:
        return zone_of(self._people.tz(team_id, user_id))

    def _enqueue(
        self,
        session: Session,
        team_id: str,
        key: str,
        kind: str,
        recipient_id: str,
        payload: dict[str, Any],
        at: datetime,
        *,
        expires_at: datetime | None = None,
    ) -> None:
        outbox_store.enqueue(
            session,
            team_id=team_id,
            dedupe_key=key,
            kind=kind,
            recipient_id=recipient_id,
            payload=payload,
            deliver_after=at,
            expires_at=expires_at,
            created_at=self._clock.now(),
        )


def reaction_key(channel_id: str, message_ts: str, reactor_id: str) -> str:
    """One reaction kudos per reactor per message, however often the event arrives."""
    return f"{reactions_on(channel_id, message_ts)}{reactor_id}"


def reactions_on(channel_id: str, message_ts: str) -> str:
    """What every reaction kudos on one message starts its key with."""
    return f"reaction:{channel_id}:{message_ts}:"


def reply_to(user_id: str, reply_url: str | None, *, now: datetime) -> PrivateReply:
    """A private answer to a request that came with a reply address, while that address lasts."""
    return PrivateReply(
        user_id=user_id, reply_url=reply_url, reply_url_until=now + REPLY_URL_LIFETIME if reply_url else None
    )


def _refusal_payload(error: KudosRefused) -> dict[str, Any]:
    return {"name": type(error).__name__, "args": list(error.args)}


def _refusal_from(payload: dict[str, Any]) -> KudosRefused:
    return _REFUSALS[str(payload["name"])](*payload.get("args", []))


def _is_later(event_ts: str | None, than: str | None, *, when_unknown: bool = False) -> bool:
    """Whether Slack's `event_ts` comes after `than`; `when_unknown` when either is missing."""
    if event_ts is None or than is None:
        return when_unknown
    try:
        return Decimal(event_ts) > Decimal(than)
    except InvalidOperation:
        return False


def view_of(kudos: Kudos) -> KudosView:
    return KudosView(
        id=kudos.id,
        team_id=kudos.team_id,
        giver_id=kudos.giver_id,
        recipient_ids=tuple(recipient.user_id for recipient in kudos.recipients),
        message=kudos.message,
        values=tuple(value.value for value in kudos.values),
        source=kudos.source,
        reason_link=kudos.reason_link,
        post_channel_id=kudos.post_channel_id,
        post_ts=kudos.post_ts,
        permalink=kudos.permalink,
    )
