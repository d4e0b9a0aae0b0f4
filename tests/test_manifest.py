"""The manifest declares every surface a registered listener answers, and nothing we do not handle."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import yaml
from slack_bolt import BoltRequest, BoltResponse

from bot.app import ExtraMile
from bot.services.celebrations import SharedDates
from bot.services.checkins import CheckinNotice, CheckinView, MadeCheckin
from bot.services.due_dates import Due
from bot.services.home import HomeView
from bot.services.offers import PromiseOffer
from bot.services.people import Preferences
from bot.services.ports import PrivateReply
from bot.services.promises import MadePromise, PromiseNotice, PromiseView
from bot.services.questions import QuestionNudge
from bot.services.welcomes import WelcomeNotice
from bot.services.workspaces import WorkspaceSettings
from handlers.slack import (
    admin_blocks,
    blocks,
    checkin_blocks,
    home_blocks,
    offer_blocks,
    people_blocks,
    promise_blocks,
    question_blocks,
)
from handlers.slack.manifest import build_manifest, manifest_yaml
from tests.conftest import Harness, payload


def _requests_for(manifest: dict[str, Any]) -> list[tuple[str, BoltRequest]]:
    """A real-shaped request for each surface the manifest declares."""
    requests: list[tuple[str, BoltRequest]] = []
    for command in manifest["features"]["slash_commands"]:
        form = payload("slash_command", command=command["command"])
        requests.append((command["command"], BoltRequest(body=urlencode(form))))
    for shortcut in manifest["features"]["shortcuts"]:
        body = payload("message_action", callback_id=shortcut["callback_id"])
        requests.append((shortcut["callback_id"], BoltRequest(body=urlencode({"payload": json.dumps(body)}))))
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        event_type = event.split(".")[0]
        variants = [{"type": event_type}]
        if event_type == "message":
            variants.append({"type": "message", "subtype": "message_deleted"})
        for variant in variants:
            envelope = payload("reaction_added")
            envelope["event"] = {
                **variant,
                "user": "U0ANA",
                "channel": "C0GENERAL",
                "ts": "1.2",
                "event_ts": "1.2",
            }
            requests.append(
                (
                    event,
                    BoltRequest(body=json.dumps(envelope), headers={"content-type": ["application/json"]}),
                )
            )
    if manifest["settings"]["interactivity"]["is_enabled"]:
        # Buttons and forms are declared by the app sending them: render every one the app sends.
        for view in _every_view():
            body = payload("view_submission")
            body["view"]["callback_id"] = view["callback_id"]
            requests.append((view["callback_id"], BoltRequest(body=urlencode({"payload": json.dumps(body)}))))
        for action_id in _every_action_id():
            body = payload("block_actions")
            body["actions"] = [{**body["actions"][0], "action_id": action_id}]
            requests.append((action_id, BoltRequest(body=urlencode({"payload": json.dumps(body)}))))
    return requests


def _sample_promise(status: str = "open") -> PromiseView:
    at = datetime(2026, 11, 20, 15, tzinfo=UTC)
    return PromiseView(
        id=1,
        team_id="T0001",
        promiser_id="U0GIVER",
        promisee_ids=("U0ANA",),
        contact_name=None,
        what="the deck",
        due_at=at,
        date_only=False,
        status=status,
        version=1,
        created_at=at,
        closed_at=None,
        origin_channel_id=None,
        origin_ts=None,
        context_link=None,
        close_note=None,
    )


def _every_view() -> list[dict[str, Any]]:
    at = datetime(2026, 11, 20, 15, tzinfo=UTC)
    promise = _sample_promise()
    return [
        blocks.kudos_modal(values=(), channel_id=None),
        promise_blocks.eta_modal(promise, initial=at),
        promise_blocks.cancel_modal(promise),
        promise_blocks.promise_modal(
            author_id=None, context_link=None, channel_id=None, message_ts=None, initial=at
        ),
        people_blocks.dates_modal(SharedDates(birthday=None, start_date=None)),
        home_blocks.preferences_modal(Preferences()),
        admin_blocks.settings_modal(WorkspaceSettings(team_id="T0001")),
    ]


def _sample_home(promise: PromiseView, checkin: CheckinView) -> HomeView:
    return HomeView(
        team_id="T0001",
        user_id="U0GIVER",
        tz="UTC",
        my_promises=[promise],
        owed_to_me=[],
        checkins=[checkin],
        kudos_received=0,
        recent_kudos=[],
        dates=SharedDates(birthday=None, start_date=None),
        preferences=Preferences(),
        is_admin=True,
    )


def _every_action_id() -> set[str]:
    promise = _sample_promise()
    rendered = [promise_blocks.confirmation(MadePromise(promise=promise, promiser_tz="UTC"))]
    rendered += [
        promise_blocks.notice(PromiseNotice(promise=promise, stage=stage, reader_id="U0ANA", reader_tz="UTC"))
        for stage in ("heard", "before", "due", "nudge", "snooze", "eta", "done", "cancelled")
    ]
    checkin = CheckinView(
        id=1,
        team_id="T0001",
        requester_id="U0GIVER",
        contact_user_id="U0ANA",
        contact_name=None,
        every_count=2,
        every_unit="week",
        note="roadmap",
        status="active",
        next_at=promise.due_at,
        last_done_at=None,
    )
    rendered += [
        checkin_blocks.confirmation(MadeCheckin(checkin=checkin, tz="UTC")),
        checkin_blocks.notice(CheckinNotice(checkin=checkin, reader_tz="UTC")),
        checkin_blocks.listing([checkin], "UTC"),
        people_blocks.forget_me_confirm(),
    ]
    rendered += [
        people_blocks.welcome(
            WelcomeNotice(
                stage=stage, team_id="T0001", newcomer_id="U0BEN", newcomer_name="ben", template="hi"
            )
        )
        for stage in ("dm", "channel", "wave", "channel_welcome")
    ]
    rendered += [
        offer_blocks.offer(
            PromiseOffer(
                team_id="T0001",
                author_id="U0GIVER",
                channel_id="C0GENERAL",
                message_ts="1.2",
                promisee_ids=people,
                title="send the deck",
                due=Due(at=promise.due_at, date_only=False),
                author_tz="UTC",
                link=None,
                reply=PrivateReply(user_id="U0GIVER", channel_id="C0GENERAL"),
            )
        )
        for people in ((), ("U0ANA",))
    ]
    rendered.append(
        question_blocks.nudge(
            QuestionNudge(
                question_id=1,
                team_id="T0001",
                channel_id="C0GENERAL",
                asked_id="U0GIVER",
                asker_id="U0ANA",
                asked_at=promise.due_at,
                text="can you look?",
                link="https://acme.slack.com/archives/C0GENERAL/p1",
                reply_by=promise.due_at,
                reader_tz="UTC",
                sent_at=promise.due_at,
            )
        )
    )
    rendered.append(("", home_blocks.home(_sample_home(promise, checkin))["blocks"]))
    found: set[str] = set()
    for _, block_list in rendered:
        for block in block_list:
            found |= {element["action_id"] for element in block.get("elements", []) if "action_id" in element}
            if "action_id" in (block.get("accessory") or {}):
                found.add(block["accessory"]["action_id"])
    return found


def _matches(app: ExtraMile, request: BoltRequest) -> list[Any]:
    return [
        listener
        for listener in app.bolt._listeners
        if listener.matches(req=request, resp=BoltResponse(status=200))
    ]


def test_every_registered_listener_is_declared_in_the_manifest(harness: Harness) -> None:
    requests = _requests_for(build_manifest())
    undeclared = [
        listener.ack_function.__name__
        for listener in harness.app.bolt._listeners
        if not any(listener.matches(req=request, resp=BoltResponse(status=200)) for _, request in requests)
    ]
    assert undeclared == []


def test_every_declared_surface_has_a_listener(harness: Harness) -> None:
    unhandled = [
        name for name, request in _requests_for(build_manifest()) if not _matches(harness.app, request)
    ]
    assert unhandled == []


def test_manifest_yaml_is_pasteable() -> None:
    manifest = yaml.safe_load(manifest_yaml(request_url="https://bot.example.org/slack/events"))
    assert (
        manifest["settings"]["event_subscriptions"]["request_url"] == "https://bot.example.org/slack/events"
    )
    assert manifest["features"]["slash_commands"][0]["should_escape"] is True  # we parse <@U…|name> mentions
    assert {"commands", "chat:write", "users:read", "usergroups:read", "reactions:read"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )
    # OAuth mode: Slack sends installers back to this server, and tells it when it is removed.
    assert manifest["oauth_config"]["redirect_urls"] == ["https://bot.example.org/slack/oauth_redirect"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(
        manifest["settings"]["event_subscriptions"]["bot_events"]
    )
    assert manifest["settings"]["token_rotation_enabled"] is False
    rotating = yaml.safe_load(
        manifest_yaml(request_url="https://bot.example.org/slack/events", token_rotation=True)
    )
    assert rotating["settings"]["token_rotation_enabled"] is True
