"""Message actions: "Give kudos" and "Promise a follow-up" from any message's ⋯ menu.

Teams asks for a form (`composeExtension/fetchTask`): ExtraMile answers with a dialog holding an
Adaptive Card, filled in with the message's author and a link to it. The person sends the form
(`composeExtension/submitAction`): the kudos or the promise is made through the same services as
everywhere else. A refusal keeps the dialog open, showing the form as it was with the reason on top;
success closes it, and the outbox does the rest.

Teams' people picker gives Microsoft Entra object ids, while ExtraMile knows people by their Teams ids
(`29:...`): each picked person is looked up in the team or chat the message is in (then in the kudos
channel's team), through the Bot Connector.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from typing import Any

from bot.services.kudos import KudosRefused, KudosRequest, PlatformBusy
from bot.services.ports import DeliveryError, PersonInfo, PrivateReply
from bot.services.promises import PromiseBusy, PromiseRefused, PromiseRequest
from handlers.teams import extension_cards as forms
from handlers.teams.agent import TaskCommand, Turn
from handlers.teams.connector import Connector
from handlers.teams.extension_cards import About, KudosForm, Person, PromiseForm
from handlers.teams.manifest import GIVE_KUDOS_ACTION, PROMISE_ACTION

FETCH, SUBMIT = "composeExtension/fetchTask", "composeExtension/submitAction"

# A picked person: an Entra object id (a GUID), or a Teams user id.
_PERSON_ID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}|29:[\w-]{1,200}")
# Teams' activity and message ids; anything else is not used as a key or in an address.
_ID = re.compile(r"[\w:.@-]{1,100}")
# Roster lookups that mean "not in that conversation", rather than "Teams did not answer".
_NOT_THERE = ("conversation_not_found", "forbidden")


@dataclass(frozen=True)
class Action:
    """A message extension invoke's value, as far as ExtraMile uses it."""

    command_id: str
    data: dict[str, Any]
    about: About
    author: Person | None
    # The root of the message's thread (the message itself, unless it is a reply).
    thread_id: str | None


def action_of(value: Any) -> Action:
    """Reads what it can: every field may be missing or of the wrong type."""
    value = value if isinstance(value, dict) else {}
    payload = _dict(value.get("messagePayload"))
    user = _dict(_dict(payload.get("from")).get("user"))
    author_id, author_name = user.get("id"), user.get("displayName")
    author = None
    if isinstance(author_id, str) and _PERSON_ID.fullmatch(author_id):
        author = Person(aad_id=author_id, name=str(author_name or "").strip()[:255] or "The author")
    content = _dict(payload.get("body")).get("content")
    return Action(
        command_id=str(value.get("commandId") or ""),
        data=_dict(value.get("data")),
        about=About(
            link=forms.safe_link(payload.get("linkToMessage")),
            excerpt=forms.excerpt(content) if isinstance(content, str) else "",
        ),
        author=author,
        thread_id=_id(payload.get("replyToId")) or _id(payload.get("id")),
    )


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str


class Roster:
    """Who picked people are in Teams: the picker's Entra object ids, as the Teams ids ExtraMile uses."""

    def __init__(self, connector: Connector) -> None:
        self._connector = connector

    def find(self, turn: Turn, picked: tuple[str, ...]) -> tuple[dict[str, Member], list[str]]:
        """(those found, by picked id; those ExtraMile cannot see from here). Teams not answering is a
        DeliveryError."""
        places = self._places(turn)
        found: dict[str, Member] = {}
        missing: list[str] = []
        for picked_id in picked:
            if picked_id in (turn.aad_id, turn.user_id):
                found[picked_id] = Member(turn.user_id, turn.user_name)
                continue
            member = self._look_up(places, picked_id)
            if member is None:
                missing.append(picked_id)
            else:
                found[picked_id] = member
                _meet(turn, member)
        return found, missing

    def _places(self, turn: Turn) -> list[tuple[str, str]]:
        """(service address, conversation to ask): here, then the team of the kudos channel."""
        settings = turn.services.workspaces.get(turn.team_id)
        places: list[tuple[str, str]] = []
        for channel_id in (turn.channel_id, settings.kudos_channel_id):
            address = turn.addresses.get(turn.team_id, channel_id) if channel_id else None
            if address is None or address.kind == "personal":
                continue
            place = (address.service_url, address.team_ref or address.conversation_id)
            if place not in places:
                places.append(place)
        return places

    def _look_up(self, places: list[tuple[str, str]], picked_id: str) -> Member | None:
        for service_url, conversation_id in places:
            try:
                account = self._connector.member(service_url, conversation_id, picked_id)
            except DeliveryError as error:
                if error.reason in _NOT_THERE:
                    continue
                raise
            user_id = str(account.get("id") or "")
            if user_id:
                return Member(user_id, str(account.get("name") or "").strip())
        return None


class MessageActions:
    """The two invokes of a message action, each answered with a task-module body."""

    def __init__(self, connector: Connector) -> None:
        self._roster = Roster(connector)

    def invokes(self) -> dict[str, TaskCommand]:
        return {FETCH: self.fetch, SUBMIT: self.submit}

    def fetch(self, turn: Turn) -> dict[str, Any]:
        action = action_of(turn.value)
        people = (action.author,) if action.author and action.author.aad_id != turn.aad_id else ()
        form_id = _id(turn.activity_id) or secrets.token_hex(8)
        if action.command_id == GIVE_KUDOS_ACTION:
            settings = turn.services.workspaces.get(turn.team_id)
            if not (settings.kudos_channel_id or turn.channel_id):
                return forms.notice(forms.need_a_channel())
            form = KudosForm(form_id=form_id, about=action.about, people=people, values=settings.kudos_values)
            return forms.dialog(forms.KUDOS_TITLE, forms.kudos_form(form))
        if action.command_id == PROMISE_ACTION:
            tz = turn.services.promises.tz_of(turn.team_id, turn.user_id)
            tomorrow = forms.local(turn.services.clock.now(), tz) + timedelta(days=1)
            due = tomorrow.replace(minute=0, second=0, microsecond=0)
            promise = PromiseForm(form_id=form_id, about=action.about, people=people, due=due)
            return forms.dialog(forms.PROMISE_TITLE, forms.promise_form(promise))
        return forms.notice(_UNKNOWN)

    def submit(self, turn: Turn) -> dict[str, Any]:
        action = action_of(turn.value)
        if action.command_id == GIVE_KUDOS_ACTION:
            return self._give_kudos(turn, action)
        if action.command_id == PROMISE_ACTION:
            return self._promise(turn, action)
        return forms.notice(_UNKNOWN)

    def _give_kudos(self, turn: Turn, action: Action) -> dict[str, Any]:
        data = action.data
        picked = _picked(data.get(forms.PEOPLE))
        message = _text(data.get(forms.MESSAGE))
        values = tuple(value.strip() for value in _text(data.get(forms.VALUES)).split(",") if value.strip())
        settings = turn.services.workspaces.get(turn.team_id)
        form = KudosForm(
            form_id=_form_id(turn, action),
            about=action.about,
            people=_shown(picked, action, {}),
            message=message,
            values=settings.kudos_values,
            picked_values=values,
        )

        def again(error: str, found: dict[str, Member]) -> dict[str, Any]:
            shown = replace(form, people=_shown(picked, action, found), error=error)
            return forms.dialog(forms.KUDOS_TITLE, forms.kudos_form(shown))

        try:
            found, missing = self._roster.find(turn, picked)
        except DeliveryError as error:
            return again(forms.kudos_refusal(PlatformBusy(error.reason, error.retry_after), turn.names), {})
        if missing:
            return again(forms.not_found(_names(missing, action)), found)
        request = KudosRequest(
            team_id=turn.team_id,
            giver_id=turn.user_id,
            # The form's id: the same form sent twice (a double click) gives kudos once.
            dedupe_key=f"teams-form:{form.form_id}",
            source="shortcut",
            user_ids=tuple(member.user_id for member in found.values()),
            message=message,
            values=values,
            channel_id=turn.channel_id,
            reason_link=action.about.link,
            # The dialog is closed by then: anything the giver should hear later comes by chat.
            reply=PrivateReply(user_id=turn.user_id),
        )
        try:
            turn.services.kudos.give(request)
        except KudosRefused as error:
            return again(forms.kudos_refusal(error, turn.names), found)
        return forms.CLOSE

    def _promise(self, turn: Turn, action: Action) -> dict[str, Any]:
        data = action.data
        picked = _picked(data.get(forms.PEOPLE))
        what = _text(data.get(forms.WHAT))
        tz = turn.services.promises.tz_of(turn.team_id, turn.user_id)
        due_at = forms.due_in(data.get(forms.DAY), data.get(forms.TIME), tz)
        shown_due = forms.local(due_at, tz) if due_at else forms.local(turn.services.clock.now(), tz)
        form_id = _form_id(turn, action)

        def again(error: str, found: dict[str, Member]) -> dict[str, Any]:
            form = PromiseForm(
                form_id=form_id,
                about=action.about,
                people=_shown(picked, action, found),
                due=shown_due.replace(second=0, microsecond=0),
                what=what,
                error=error,
            )
            return forms.dialog(forms.PROMISE_TITLE, forms.promise_form(form))

        if due_at is None:
            return again("Pick a date and a time.", {})
        try:
            found, missing = self._roster.find(turn, picked)
        except DeliveryError as error:
            busy = PromiseBusy(error.reason, error.retry_after)
            return again(forms.promise_refusal(busy, turn.names, tz), {})
        if missing:
            return again(forms.not_found(_names(missing, action)), found)
        request = PromiseRequest(
            team_id=turn.team_id,
            promiser_id=turn.user_id,
            dedupe_key=f"teams-form:{form_id}",
            promisee_ids=tuple(member.user_id for member in found.values()),
            what=what,
            due_at=due_at.astimezone(UTC),
            channel_id=turn.channel_id,
            # In a channel, an update ("still on it") goes to the message's thread.
            origin_ts=action.thread_id if turn.channel_id else None,
            context_link=action.about.link,
            # The dialog closes on success: the confirmation, with its buttons, comes by chat.
            confirm=True,
        )
        try:
            turn.services.promises.make(request)
        except PromiseRefused as error:
            return again(forms.promise_refusal(error, turn.names, tz), found)
        return forms.CLOSE


_UNKNOWN = "I don't know that action any more. Try Give kudos or Promise a follow-up from a message's ⋯ menu."


def _meet(turn: Turn, member: Member) -> None:
    """A picked person, kept like a mentioned one: their name now, their zone once they talk to us."""
    people = turn.services.people
    try:
        known: PersonInfo | None = people.get(turn.team_id, member.user_id)
    except DeliveryError:
        known = None
    if known is not None and (known.display_name == member.name or not member.name):
        return
    people.remember(
        PersonInfo(
            team_id=turn.team_id,
            user_id=member.user_id,
            display_name=member.name,
            tz=known.tz if known else turn.services.workspaces.get(turn.team_id).zone,
            is_bot=member.user_id.startswith("28:"),
            is_deleted=False,
        )
    )


def _shown(picked: tuple[str, ...], action: Action, found: dict[str, Member]) -> tuple[Person, ...]:
    """The people a form shown again keeps: those picked whose names are known."""
    shown: list[Person] = []
    for picked_id in picked:
        if picked_id in found:
            shown.append(Person(picked_id, found[picked_id].name or "A teammate"))
        elif action.author is not None and picked_id == action.author.aad_id:
            shown.append(action.author)
    return tuple(shown)


def _names(missing: list[str], action: Action) -> list[str]:
    author = action.author
    return [author.name for picked_id in missing if author is not None and picked_id == author.aad_id]


def _picked(raw: object) -> tuple[str, ...]:
    """The picker's value: ids separated by commas (a list is read too); anything else is dropped."""
    items = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else []
    ids = [item.strip() for item in items if isinstance(item, str)]
    return tuple(dict.fromkeys(item for item in ids if _PERSON_ID.fullmatch(item)))[: forms.MAX_PEOPLE]


def _form_id(turn: Turn, action: Action) -> str:
    return _id(action.data.get(forms.FORM)) or _id(turn.activity_id) or secrets.token_hex(8)


def _id(raw: object) -> str | None:
    return raw if isinstance(raw, str) and _ID.fullmatch(raw) else None


def _text(raw: object) -> str:
    return raw if isinstance(raw, str) else ""


def _dict(raw: object) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}
