"""A property-based net over every command and every form: random unicode, mentions, markup, huge and
control-character text. Whatever is typed: never a 5xx, never an incident, nothing recorded on a
refusal, and nothing live (`<!...>`, a disguised link) from the person's text in anything the bot sends.

A few hundred examples run with the suite; `pytest -m fuzz` runs 10,000 of each.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models import Checkin, Kudos, OutboxMessage, PersonDates, Promise
from tests.conftest import ANA, BEN, GENERAL, GIVER, Harness, payload, texts
from tests.e2e.test_hostile_text import live_markup

FRAGMENTS = [
    f"<@{ANA}|ana>",
    f"<@{BEN}>",
    f"<@{GIVER}|me>",
    "<@U0NOPE>",
    "<@U" + "9" * 40 + ">",
    "<!channel>",
    "<!here|here>",
    "<!everyone>",
    "<!subteam^S0NOPE|@ghosts>",
    "<!date^1700000000^{date}|x>",
    "<https://evil.example/login|the release notes>",
    "<https://evil.example>",
    "<mailto:a@b.c|mail>",
    "<#C0GENERAL|general>",
    "&amp;",
    "&lt;!channel&gt;",
    "<",
    ">",
    "&",
    "#ownership",
    "#" + "v" * 120,
    '"Jane at ACME"',
    "by Friday 3pm",
    "tomorrow 10am",
    "by 31 December 9999",
    "in 99999999999999999999 weeks",
    "3/4",
    "every 2 weeks",
    "every 0 days",
    "14 March",
    "29 February",
    "2021-04-12",
    "list",
    "help",
    "top",
    "clear",
    "stop",
    "forget-me",
    "\x00",
    "\u202e",
    "\r\n",
    "👏🏽",
    "x" * 700,
    "on " * 300,
]
# Form posts cannot carry lone surrogates; everything else is fair game.
TYPED = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
COMMAND_TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), TYPED), max_size=8).map(" ".join)
# JSON (the forms) can: a person's browser may send anything.
FORM_TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=8).map(" ".join)
COMMANDS = ["/kudos", "/promise", "/checkin", "/birthday", "/anniversary", "/extramile"]
EXAMPLES = [pytest.param(150, id="suite"), pytest.param(10_000, marks=pytest.mark.fuzz, id="fuzz")]
MODELS = (Kudos, Promise, Checkin, PersonDates, OutboxMessage)


def _counts(h: Harness) -> dict[str, int]:
    with h.session() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0 for model in MODELS
        }


def _check(h: Harness, since: int, status: int) -> None:
    assert status < 500, status
    h.settle()
    for call in h.fake.calls[since:]:
        assert live_markup(call) == [], (call.method, call.params)
        assert "incident" not in str(call.params.get("text") or ""), call.params


def _run(examples: int, strategy: Any, body: Callable[..., None]) -> None:
    settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )(given(strategy)(body))()


@pytest.mark.parametrize("examples", EXAMPLES)
def test_any_command_text(harness: Harness, examples: int) -> None:
    h = harness
    h.configure(kudos_values=("ownership", "craft"), daily_allowance=0)

    def one(case: tuple[str, str]) -> None:
        name, text = case
        since, before = len(h.fake.calls), _counts(h)
        form = payload("slash_command", text=text, command=name)
        form["trigger_id"] = uuid.uuid4().hex
        form["response_url"] = h.fake.response_url(f"{GIVER}/{form['trigger_id']}")
        response = h.sender.command(form)
        _check(h, since, response.status)
        reply = response.json() if response.body.startswith("{") else {"text": response.body}
        shown = str(reply.get("text", "")) + texts(reply.get("blocks") or [])
        recorded = _counts(h) != before
        accepted = (
            (name == "/kudos" and not response.body)
            or shown.startswith(("Got it.", "Done. I'll nudge", "Thanks! :sparkles: Saved.", "Cleared."))
            or ("Stopped:" in shown)
        )
        if not accepted:  # a refusal, help or a listing: nothing written
            assert not recorded, (name, text, shown)
        assert "<!" not in shown, shown

    _run(examples, st.tuples(st.sampled_from(COMMANDS), COMMAND_TEXT), one)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_any_kudos_form(harness: Harness, examples: int) -> None:
    h = harness
    h.configure(daily_allowance=0)

    def one(case: tuple[str, list[str], list[str]]) -> None:
        message, users, values = case
        since, before = len(h.fake.calls), _counts(h)
        body = payload("view_submission")
        body["view"]["id"] = f"V{uuid.uuid4().hex[:10].upper()}"
        body["view"]["private_metadata"] = json.dumps({"channel_id": GENERAL, "reason_link": None})
        body["view"]["state"] = {
            "values": {
                "kudos_recipients": {"recipients": {"type": "multi_users_select", "selected_users": users}},
                "kudos_message": {"message": {"type": "plain_text_input", "value": message}},
                "kudos_values": {
                    "values": {
                        "type": "multi_static_select",
                        "selected_options": [{"value": v} for v in values],
                    }
                },
            }
        }
        response = h.sender.interaction(body)
        _check(h, since, response.status)
        if response.body:
            assert response.json()["response_action"] == "errors"
            assert _counts(h) == before

    users = st.lists(st.sampled_from([ANA, BEN, GIVER, "U0NOPE"]), max_size=3)
    _run(examples, st.tuples(FORM_TEXT, users, st.lists(FORM_TEXT, max_size=3)), one)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_any_promise_form_and_any_cancel_note(harness: Harness, examples: int) -> None:
    h = harness
    h.command(f"<@{ANA}|ana> keep this one open by Friday 3pm", name="/promise")
    with h.session() as session:
        open_promise = session.scalars(select(Promise.id)).one()

    def one(case: tuple[str, str, int, str]) -> None:
        callback_id, text, when, note = case
        since, before = len(h.fake.calls), _counts(h)
        body = payload("view_submission")
        body["view"]["id"] = f"V{uuid.uuid4().hex[:10].upper()}"
        body["view"]["callback_id"] = callback_id
        body["view"]["private_metadata"] = json.dumps({"promise_id": open_promise, "channel_id": GENERAL})
        body["view"]["state"] = {
            "values": {
                "promise_promisees": {"promisees": {"type": "multi_users_select", "selected_users": [BEN]}},
                "promise_what": {"what": {"type": "plain_text_input", "value": text}},
                "promise_due": {"due": {"type": "datetimepicker", "selected_date_time": when}},
                "promise_eta": {"eta": {"type": "datetimepicker", "selected_date_time": when}},
                "promise_note": {"note": {"type": "plain_text_input", "value": note}},
            }
        }
        if callback_id == "promise_cancel_modal":
            body["view"]["private_metadata"] = json.dumps({"promise_id": -1})  # never the open one
        response = h.sender.interaction(body)
        _check(h, since, response.status)
        if response.body:
            assert response.json()["response_action"] == "errors"
            assert _counts(h) == before

    moments = st.one_of(
        st.integers(min_value=-(2**63), max_value=2**63),
        st.integers(
            min_value=int(datetime(2026, 11, 18, tzinfo=UTC).timestamp()),
            max_value=int(datetime(2030, 1, 1, tzinfo=UTC).timestamp()),
        ),
    )
    callbacks = st.sampled_from(["promise_modal", "promise_eta_modal", "promise_cancel_modal"])
    _run(examples, st.tuples(callbacks, FORM_TEXT, moments, FORM_TEXT), one)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_any_dates_form(harness: Harness, examples: int) -> None:
    h = harness

    def one(case: tuple[str, str]) -> None:
        birthday, start = case
        since = len(h.fake.calls)
        body = payload("view_submission")
        body["view"]["id"] = f"V{uuid.uuid4().hex[:10].upper()}"
        body["view"]["callback_id"] = "dates_modal"
        body["view"]["state"] = {
            "values": {
                "dates_birthday": {"birthday": {"type": "plain_text_input", "value": birthday}},
                "dates_start": {"start": {"type": "datepicker", "selected_date": start}},
            }
        }
        response = h.sender.interaction(body)
        _check(h, since, response.status)
        if response.body:
            assert response.json()["response_action"] == "errors"

    starts = st.one_of(st.dates().map(str), FORM_TEXT)
    _run(examples, st.tuples(FORM_TEXT, starts), one)
