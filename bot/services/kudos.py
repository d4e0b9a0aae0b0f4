"""Kudos: record thanks, post it, tell the recipients, and keep the counts honest.

Platform-neutral: people are (team id, user id) pairs; the chat platform is reached through the
Messenger and Directory ports. Slack is never called inside an open transaction.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.services.delivery import DeliveryService, Outbound
from bot.services.hours import WorkingHours, zone_of
from bot.services.people import PeopleService
from bot.services.ports import CANNOT_POST_REASONS, DeliveryError, Messenger
from bot.services.workspaces import WorkspaceService
from storage import kudos as kudos_store
from storage import outbox as outbox_store
from storage.db import SessionFactory, unit_of_work
from storage.models import Kudos

log = logging.getLogger(__name__)

# A kudos post quotes the message inside a section block (3,000 characters) with names around it.
MAX_MESSAGE_CHARS = 2000
DM = "kudos.dm"
LEADERBOARD_SIZE = 10

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
    message: str = ""
    values: tuple[str, ...] = ()
    channel_id: str | None = None
    origin_ts: str | None = None
    reason_link: str | None = None
    event_ts: str | None = None


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
class GiveResult:
    kudos: KudosView
    duplicate: bool = False


@dataclass(frozen=True)
class Leaderboard:
    period: Period
    received: list[tuple[str, int]]
    given: list[tuple[str, int]]


class KudosRefused(Exception):
    """An expected refusal; the adapter renders it as a friendly reply. Nothing was recorded."""


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
        super().__init__(value)
        self.value = value
        self.suggestion = suggestion
        self.known = known


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


class KudosService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Clock,
        people: PeopleService,
        workspaces: WorkspaceService,
        messenger: Messenger,
        delivery: DeliveryService,
        hours: WorkingHours | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._people = people
        self._workspaces = workspaces
        self._messenger = messenger
        self._hours = hours or WorkingHours()
        delivery.register(DM, self.compose)

    def check(self, request: KudosRequest) -> None:
        """Applies every rule and records nothing, so an adapter can refuse before acknowledging.

        A request already given (a redelivery) passes: `give` will recognise it and do nothing.
        """
        with unit_of_work(self._sessions) as session:
            if kudos_store.find_by_key(session, team_id=request.team_id, dedupe_key=request.dedupe_key):
                return
        self._validate(request)

    def _validate(self, request: KudosRequest) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Every rule: the recipients and the values as they will be stored."""
        recipients = self._recipients(request)
        message = request.message.strip()
        # A reaction or a shortcut points at a message: that message is the reason.
        if not message and request.reason_link is None and request.source != "reaction":
            raise EmptyMessage()
        if len(message) > MAX_MESSAGE_CHARS:
            raise MessageTooLong(len(message), MAX_MESSAGE_CHARS)
        values = self._values(request)
        self._check_allowance(request, len(recipients))
        return recipients, values

    def give(self, request: KudosRequest, *, _retried: bool = False) -> GiveResult:
        """Records, posts and notifies once per `dedupe_key`; a repeat returns the first result."""
        existing = self._existing(request)
        if existing is not None:
            return GiveResult(kudos=existing, duplicate=True)
        recipients, values = self._validate(request)
        settings = self._workspaces.get(request.team_id)
        try:
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
                    created_at=self._clock.now(),
                    origin_channel_id=request.channel_id if request.source == "reaction" else None,
                    origin_ts=request.origin_ts,
                    reason_link=request.reason_link,
                    event_ts=request.event_ts,
                )
        except IntegrityError:
            # The same request, delivered twice at once: the other delivery owns it. Or a removal's
            # tombstone got in first; `_existing` has cleared it if this "added" is the later one.
            again = self._existing(request)
            if again is None:
                if _retried:
                    raise
                return self.give(request, _retried=True)
            return GiveResult(kudos=again, duplicate=True)

        view = KudosView(
            id=kudos_id,
            team_id=request.team_id,
            giver_id=request.giver_id,
            recipient_ids=recipients,
            message=request.message.strip(),
            values=values,
            source=request.source,
            reason_link=request.reason_link,
        )
        target = settings.kudos_channel_id or request.channel_id
        thread_ts = request.origin_ts if settings.kudos_channel_id is None else None
        try:
            if target is None:
                raise DeliveryError("channel_not_found")
            posted = self._messenger.announce_kudos(request.team_id, target, view, thread_ts=thread_ts)
        except DeliveryError as error:
            self._forget(request.team_id, kudos_id)
            if error.reason in CANNOT_POST_REASONS:
                raise CannotPost(target or "", error.reason) from None
            raise PlatformBusy(error.reason, error.retry_after) from None
        except BaseException:
            self._forget(request.team_id, kudos_id)
            raise

        permalink = posted.permalink or self._permalink(request.team_id, posted.channel_id, posted.ts)
        now = self._clock.now()
        # Zones first: looking people up may call the platform, never inside the transaction below.
        deliver_at = {
            user_id: self._hours.next_open(now, self._zone(request.team_id, user_id).key)
            for user_id in recipients
        }
        view = replace(view, post_channel_id=posted.channel_id, post_ts=posted.ts, permalink=permalink)
        with unit_of_work(self._sessions) as session:
            still_wanted = kudos_store.mark_posted(
                session,
                team_id=request.team_id,
                kudos_id=kudos_id,
                channel_id=posted.channel_id,
                ts=posted.ts,
                permalink=permalink,
            )
            # Each recipient hears in their own working hours: a DM at 03:00 is not a kindness.
            for user_id in recipients if still_wanted else ():
                outbox_store.enqueue(
                    session,
                    team_id=request.team_id,
                    dedupe_key=f"kudos:{kudos_id}:dm:{user_id}",
                    kind=DM,
                    recipient_id=user_id,
                    payload={"kudos_id": kudos_id},
                    deliver_after=deliver_at[user_id],
                    created_at=now,
                )
        if not still_wanted:
            self._withdraw(view)  # taken back (the reaction was removed) while we were posting it
        return GiveResult(kudos=view)

    def compose(self, message: Outbound) -> KudosView | None:
        """The recipient's DM, as of now: none for a kudos taken back meanwhile."""
        with unit_of_work(self._sessions) as session:
            kudos = kudos_store.get(
                session, team_id=message.team_id, kudos_id=int(message.payload["kudos_id"])
            )
            if kudos is None or kudos.status != kudos_store.POSTED:
                return None
            return _view(kudos)

    def revoke_reaction(
        self, *, team_id: str, channel_id: str, message_ts: str, reactor_id: str, event_ts: str | None
    ) -> KudosView | None:
        """Undoes the kudos a reaction gave; None when there was none (or it was undone already).
        A removal handled before its "added" leaves a tombstone, so the late "added" changes nothing."""
        key = reaction_key(channel_id, message_ts, reactor_id)
        try:
            with unit_of_work(self._sessions) as session:
                if kudos_store.find_by_key(session, team_id=team_id, dedupe_key=key) is None:
                    kudos_store.insert_tombstone(
                        session,
                        team_id=team_id,
                        dedupe_key=key,
                        giver_id=reactor_id,
                        source="reaction",
                        at=self._clock.now(),
                        origin_channel_id=channel_id,
                        origin_ts=message_ts,
                        event_ts=event_ts,
                    )
                    return None
        except IntegrityError:
            pass  # the kudos was being given at this very moment: revoke it below
        with unit_of_work(self._sessions) as session:
            kudos = kudos_store.find_by_key(session, team_id=team_id, dedupe_key=key)
            if kudos is None or not _is_later(event_ts, kudos.added_event_ts, when_unknown=True):
                return None  # this removal is older than the latest "added": old news
            if not kudos_store.mark_revoked(
                session, team_id=team_id, kudos_id=kudos.id, at=self._clock.now(), event_ts=event_ts
            ):
                return None
            # Re-read: a poster may have finished while we decided; whoever updates last withdraws.
            session.refresh(kudos)
            outbox_store.cancel_pending(
                session, team_id=team_id, key_prefix=f"kudos:{kudos.id}:", reason="revoked"
            )
            view = _view(kudos)
        self._withdraw(view)
        return view

    def revoke_for_deleted_message(
        self, *, team_id: str, channel_id: str, message_ts: str
    ) -> list[KudosView]:
        """A deleted message takes the reaction kudos it earned with it."""
        revoked: list[KudosView] = []
        with unit_of_work(self._sessions) as session:
            for kudos in kudos_store.posted_for_message(
                session, team_id=team_id, channel_id=channel_id, ts=message_ts
            ):
                if kudos_store.mark_revoked(
                    session, team_id=team_id, kudos_id=kudos.id, at=self._clock.now(), event_ts=None
                ):
                    session.refresh(kudos)
                    outbox_store.cancel_pending(
                        session, team_id=team_id, key_prefix=f"kudos:{kudos.id}:", reason="message deleted"
                    )
                    revoked.append(_view(kudos))
        for view in revoked:
            self._withdraw(view)
        return revoked

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

    def _existing(self, request: KudosRequest) -> KudosView | None:
        with unit_of_work(self._sessions) as session:
            kudos = kudos_store.find_by_key(session, team_id=request.team_id, dedupe_key=request.dedupe_key)
            if kudos is None:
                return None
            if kudos.status == kudos_store.REVOKED and _is_later(request.event_ts, kudos.revoked_event_ts):
                # The reaction was removed and added again: a new kudos, not a retry of the old one.
                kudos_store.delete_kudos(session, team_id=request.team_id, kudos_id=kudos.id)
                return None
            if request.event_ts and _is_later(request.event_ts, kudos.added_event_ts):
                # Added again after a removal Slack has not told us about yet: that removal is old news.
                kudos_store.note_added(
                    session, team_id=request.team_id, kudos_id=kudos.id, event_ts=request.event_ts
                )
            return _view(kudos)

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

    def _check_allowance(self, request: KudosRequest, wanted: int) -> None:
        allowance = self._workspaces.get(request.team_id).daily_allowance
        if allowance <= 0:
            return
        local_now = self._clock.now().astimezone(self._zone(request.team_id, request.giver_id))
        start_of_day = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        with unit_of_work(self._sessions) as session:
            given = kudos_store.count_recipients_given(
                session, team_id=request.team_id, giver_id=request.giver_id, since=start_of_day
            )
        if given + wanted > allowance:
            raise AllowanceExhausted(allowance, wanted, max(allowance - given, 0))

    def _zone(self, team_id: str, user_id: str) -> ZoneInfo:
        return zone_of(self._people.tz(team_id, user_id))

    def _forget(self, team_id: str, kudos_id: int) -> None:
        with unit_of_work(self._sessions) as session:
            kudos_store.delete_kudos(session, team_id=team_id, kudos_id=kudos_id)

    def _permalink(self, team_id: str, channel_id: str, ts: str) -> str | None:
        try:
            return self._messenger.permalink(team_id, channel_id, ts)
        except DeliveryError as error:
            log.warning("no permalink for %s/%s: %s", channel_id, ts, error.reason)
            return None

    def _withdraw(self, view: KudosView) -> None:
        if view.post_channel_id and view.post_ts:
            try:
                self._messenger.remove_message(view.team_id, view.post_channel_id, view.post_ts)
            except DeliveryError as error:
                log.warning("kudos %s: post not removed: %s", view.id, error.reason)


def reaction_key(channel_id: str, message_ts: str, reactor_id: str) -> str:
    """One reaction kudos per reactor per message, however often the event arrives."""
    return f"reaction:{channel_id}:{message_ts}:{reactor_id}"


def _is_later(event_ts: str | None, than: str | None, *, when_unknown: bool = False) -> bool:
    """Whether Slack's `event_ts` comes after `than`; `when_unknown` when either is missing."""
    if event_ts is None or than is None:
        return when_unknown
    try:
        return Decimal(event_ts) > Decimal(than)
    except InvalidOperation:
        return False


def _view(kudos: Kudos) -> KudosView:
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
