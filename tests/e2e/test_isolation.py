"""Two workspaces in one database never see each other's kudos, promises, check-ins, people, dates or
settings. The same scenario runs in Acme and in Globex (the same user and channel ids in both, as
two real workspaces could have) through every command, button, form, event, Home and scheduled send
the other tests reach; every piece of text people type carries its workspace's word ("acme" or
"globex"), so a crossing shows up as the other word where it must not be, and the counts differ
(Acme gives one kudos more) so a crossing in a count shows too."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from storage.models import Base
from tests.conftest import ANA, BEN, GENERAL, GIVER, payload, texts
from tests.e2e import test_oauth
from tests.e2e.test_admin import form_state
from tests.e2e.test_oauth import ACME, GLOBEX, Cloud

cloud = test_oauth.cloud  # the app in OAuth mode with Acme and Globex, as a fixture here too

ADMIN, NEW = "U0BOSS", "U0NEW"
KUDOS_CHANNEL, TEAM_CHANNEL, PARTY, HELLO = "C0KUDOS", "C0TEAM", "C0PARTY", "C0HELLO"
MESSAGE_TS = "1700000000.000100"
WORD = {ACME: "acme", GLOBEX: "globex"}
OTHER = {ACME: GLOBEX, GLOBEX: ACME}


def for_team(data: dict[str, Any], team_id: str) -> dict[str, Any]:
    """A captured payload (all of them come from Acme) as `team_id` would send it: team ids in
    team_id, team.id, user.team_id, view.team_id, authorizations, context_team_id, and Acme's domain."""
    raw = json.dumps(data).replace("T0001", team_id)
    if team_id != ACME:
        raw = raw.replace("acme", WORD[team_id])
    result: dict[str, Any] = json.loads(raw)
    return result


def elements(blocks: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        (block, e)
        for block in blocks
        for e in [*block.get("elements", []), block.get("accessory") or {}]
        if isinstance(e, dict) and "action_id" in e
    ]


@dataclass
class Tenant:
    """One workspace of the cloud, and how its people talk to the app."""

    c: Cloud
    team_id: str

    @property
    def word(self) -> str:
        return WORD[self.team_id]

    @property
    def fake(self) -> Any:
        return self.c.fakes[self.team_id]

    def command(self, name: str, text: str, *, user_id: str = GIVER, channel_id: str = GENERAL) -> Any:
        form = payload("slash_command", text=text, user_id=user_id, channel_id=channel_id, command=name)
        form = for_team(form, self.team_id)
        form["trigger_id"] = f"trigger-{uuid.uuid4().hex}"
        form["response_url"] = self.fake.response_url(f"{user_id}/{form['trigger_id']}")
        response = self.c.sender.command(form)
        assert response.status == 200, response.body
        self.c.settle()
        if not response.body:
            return None
        return response.json() if response.body.startswith("{") else {"text": response.body}

    def event(self, name: str, event_id: str, **event: Any) -> None:
        envelope = for_team(payload(name, event_id=f"{event_id}{self.team_id}"), self.team_id)
        envelope["event"] = {**envelope["event"], **for_team(event, self.team_id)}
        response = self.c.sender.event(envelope)
        assert response.status == 200, response.body
        self.c.settle()

    def interaction(self, body: dict[str, Any]) -> Any:
        response = self.c.sender.interaction(for_team(body, self.team_id))
        assert response.status == 200, response.body
        self.c.settle()
        return response.json() if response.body.startswith("{") else None

    def click(
        self,
        blocks: list[dict[str, Any]],
        action_id: str,
        *,
        user_id: str = GIVER,
        near: str = "",
        home: bool = False,
    ) -> Any:
        """Clicks the `action_id` button (in the block mentioning `near`, or the next one after it)
        on a message, or on the Home."""
        seen = False
        for block in blocks:
            seen = seen or near in json.dumps(block)
            found = [e for b, e in elements([block]) if e["action_id"] == action_id]
            if seen and found:
                element = found[0]
                break
        else:
            raise AssertionError(f"no {action_id} near {near!r}")
        body = payload("block_actions")
        body["user"] = {**body["user"], "id": user_id}
        body["trigger_id"] = f"trigger-{uuid.uuid4().hex}"
        if home:
            for key in ("message", "channel", "response_url"):
                body.pop(key)
            body["container"] = {"type": "view", "view_id": "V0HOME"}
            body["view"] = {"id": "V0HOME", "type": "home", "blocks": blocks, "private_metadata": ""}
        else:
            body["response_url"] = self.fake.response_url(f"{user_id}/{action_id}")
        body["actions"] = [
            {
                **body["actions"][0],
                "action_id": action_id,
                "value": element.get("value", ""),
                "action_ts": f"{self.c.clock.now().timestamp():.6f}",
            }
        ]
        return self.interaction(body)

    def submit(self, view: dict[str, Any], values: dict[str, Any], *, user_id: str = GIVER) -> Any:
        body = payload("view_submission")
        body["user"] = {**body["user"], "id": user_id}
        body["view"] = {
            **body["view"],
            "id": f"V{uuid.uuid4().hex[:10]}",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "state": {"values": values},
        }
        return self.interaction(body)

    def home(self, user_id: str = GIVER) -> list[dict[str, Any]]:
        self.event("app_home_opened", f"EvHome{uuid.uuid4().hex[:6]}", user=user_id)
        published = [c for c in self.fake.calls_to("views.publish") if c.params["user_id"] == user_id]
        blocks: list[dict[str, Any]] = published[-1].params["view"]["blocks"]
        return blocks

    def opened(self) -> dict[str, Any]:
        view: dict[str, Any] = self.fake.calls_to("views.open")[-1].params["view"]
        return view

    def posts(self, channel: str) -> list[dict[str, Any]]:
        return [call.params for call in self.c.posts(self.team_id, channel)]


def set_up(t: Tenant) -> None:
    """People whose names carry the workspace's word, an admin, and the channels settings point at."""
    w = t.word
    f = t.fake
    f.add_user(GIVER, f"gia_{w}", real_name=f"Gia {w}", tz="Europe/London")
    f.add_user(ANA, f"ana_{w}", real_name=f"Ana {w}", tz="America/New_York")
    f.add_user(BEN, f"ben_{w}", real_name=f"Ben {w}", tz="Asia/Tokyo")
    f.add_user(ADMIN, f"boss_{w}", real_name=f"Bo {w}", tz="Europe/London", is_admin=True)
    f.add_user(NEW, f"nora_{w}", real_name=f"Nora {w}", tz="Europe/London")
    for channel, name in ((KUDOS_CHANNEL, "kudos"), (PARTY, "celebrations"), (HELLO, "say-hello")):
        f.add_channel(channel, f"{name}-{w}")
    f.add_channel(TEAM_CHANNEL, f"team-{w}", members=[GIVER, ANA, BEN, ADMIN])
    f.add_message(GENERAL, ANA, f"Shipped the {w} hotfix", ts=MESSAGE_TS)


def configure(t: Tenant) -> None:
    """Each workspace's admin sets it up differently, through the settings form on the Home."""
    w = t.word
    acme = t.team_id == ACME
    t.click(t.home(ADMIN), "home_admin_settings", user_id=ADMIN, home=True)
    form = t.opened()
    assert form["callback_id"] == "admin_settings_modal"
    reply = t.submit(
        form,
        form_state(
            admin_kudos_channel={"selected_conversation": KUDOS_CHANNEL if acme else None},
            admin_kudos_emoji={"value": "clap" if acme else "raised_hands"},
            admin_allowance={"value": "0" if acme else "3"},
            admin_values={"value": f"{w}craft, {w}care"},
            admin_welcome_channel={"selected_conversation": HELLO},
            admin_welcome_text={"value": f"Welcome {{mention}}, the {w} crew says hi"},
            admin_greet_channels={"selected_conversations": [GENERAL]},
            admin_greeting={"value": f"Welcome to {{channel}}, {{mention}}, from {w}"},
            admin_celebrations_channel={"selected_conversation": PARTY},
            admin_timezone={"value": "Europe/London" if acme else "Asia/Tokyo"},
            admin_recap_channels={"selected_conversations": [TEAM_CHANNEL]},
        ),
        user_id=ADMIN,
    )
    assert reply is None, reply


def scenario(t: Tenant) -> None:
    """What people do in one workspace on Wednesday 18 November; Acme gives one kudos more."""
    w, other_emoji = t.word, "raised_hands" if t.team_id == ACME else "clap"
    own_emoji = "clap" if t.team_id == ACME else "raised_hands"
    configure(t)
    # Kudos: by command (Acme 3, Globex 2, within Globex's allowance of 3 unless Acme's count),
    # by the form, by a reaction (the other workspace's emoji gives nothing), by the shortcut.
    for n in range(3 if t.team_id == ACME else 2):
        t.command("/kudos", f"<@{ANA}|ana> thanks for the {w} launch, part {n} #{w}craft")
    assert t.command("/kudos", "") is None
    t.submit(
        t.opened(),
        {
            "kudos_recipients": {"recipients": {"type": "multi_users_select", "selected_users": [ANA]}},
            "kudos_message": {"message": {"type": "plain_text_input", "value": f"the {w} form says thanks"}},
        },
        user_id=BEN,
    )
    reaction = {"item_user": ANA, "item": {"type": "message", "channel": GENERAL, "ts": MESSAGE_TS}}
    t.event("reaction_added", "EvOtherEmoji", user=BEN, reaction=other_emoji, **reaction)
    t.event("reaction_added", "EvOwnEmoji", user=BEN, reaction=own_emoji, **reaction)
    t.interaction(payload("message_action"))
    shortcut_form = t.opened()
    assert shortcut_form["callback_id"] == "kudos_modal"
    t.submit(
        shortcut_form,
        {
            "kudos_recipients": {"recipients": {"type": "multi_users_select", "selected_users": [ANA]}},
            "kudos_message": {"message": {"type": "plain_text_input", "value": f"{w} shortcut thanks"}},
        },
    )

    # Promises, check-ins, dates.
    t.command("/promise", f"<@{ANA}|ana> send the {w} deck by Friday 3pm")
    t.command("/promise", f"<@{BEN}|ben> the {w} draft by Friday 3pm")
    t.command("/promise", f"<@{GIVER}|gia> the {w} numbers by Friday 10am", user_id=BEN)
    t.command("/checkin", f"<@{ANA}|ana> every 2 weeks catch up on the {w} roadmap")
    t.command("/birthday", "19 November" if t.team_id == ACME else "20 November", user_id=ANA)
    t.command("/birthday", "14 March" if t.team_id == ACME else "15 March")
    t.command("/anniversary", "2021-04-12" if t.team_id == ACME else "2022-05-13")

    # The Home: Gia closes the draft from it and changes her working days.
    t.click(t.home(), "promise_done", near=f"the {w} draft", home=True)
    t.click(t.home(), "home_preferences", home=True)
    days = [0, 1, 2, 3, 4] if t.team_id == ACME else [0, 1, 2, 3]
    t.submit(
        t.opened(),
        {
            "preferences_days": {
                "days": {"type": "checkboxes", "selected_options": [{"value": str(d)} for d in days]}
            },
            "preferences_start": {"start": {"type": "timepicker", "selected_time": "09:00"}},
            "preferences_end": {"end": {"type": "timepicker", "selected_time": "18:00"}},
            "preferences_away": {"away": {"type": "datepicker", "selected_date": None}},
            "preferences_digest": {"digest": {"type": "radio_buttons", "selected_option": None}},
        },
    )

    # Newcomers: welcomed, waved at, greeted in a channel.
    t.event("team_join", "EvJoin", user={**payload("team_join")["event"]["user"], "id": NEW, "name": "nora"})
    [hello] = t.posts(HELLO)
    t.click(hello["blocks"], "welcome_wave", user_id=ANA)
    t.event("member_joined_channel", "EvMember", user=BEN, channel=GENERAL)


def listings(t: Tenant) -> dict[str, str]:
    """What each listing command shows, as text."""
    shown: dict[str, str] = {}
    for name, text, user_id, channel_id in (
        ("/kudos", "top", GIVER, GENERAL),
        ("/promise", "list", GIVER, GENERAL),
        ("/checkin", "list", GIVER, GENERAL),
        ("/birthday", "list", GIVER, GENERAL),
        ("/anniversary", "list", GIVER, GENERAL),
        ("/recap", "preview", GIVER, TEAM_CHANNEL),
        ("/extramile", "help", GIVER, GENERAL),
        ("/extramile", "export 2026-11-01 2026-11-30", ADMIN, GENERAL),
    ):
        reply = t.command(name, text, user_id=user_id, channel_id=channel_id)
        shown[f"{name} {text.split()[0]}"] = reply.get("text", "") + " " + texts(reply.get("blocks", []))
    return shown


def tick(c: Cloud, month: int, day: int, hour: int) -> None:
    at = datetime(2026, month, day, hour, tzinfo=UTC)
    c.clock.set(at)
    report = c.app.services.delivery.tick(at)
    assert report.dead == 0
    c.settle()


def test_two_workspaces_in_one_database_never_cross(cloud: Cloud) -> None:
    c = cloud
    tenants = {team: Tenant(c, team) for team in (ACME, GLOBEX)}
    for t in tenants.values():
        set_up(t)
        c.install(t.team_id)
    for t in tenants.values():
        scenario(t)
    c.clock.set(datetime(2026, 11, 18, 16, 0, tzinfo=UTC))  # the recap preview counts up to now
    shown = {team: listings(t) for team, t in tenants.items()}

    # Thursday to Monday: celebrations, promise reminders (Done pressed on one), recaps.
    tick(c, 11, 19, 14)  # 09:00 in New York, Thursday: Ana's birthday in Acme
    tick(c, 11, 20, 13)  # the two-hour heads-up
    tick(c, 11, 20, 14)  # Friday: Ana's birthday in Globex
    tick(c, 11, 20, 15)  # due
    for t in tenants.values():
        due = [p for p in t.posts(GIVER) if "It's time" in texts(p.get("blocks", []))]
        t.click(due[-1]["blocks"], "promise_done")
    tick(c, 11, 23, 0)  # Monday 09:00 in Tokyo: Globex's recap
    tick(c, 11, 23, 9)  # Monday 09:00 in London: Acme's recap
    tick(c, 11, 23, 14)  # Ana hears the deck is done
    tick(c, 12, 2, 9)  # the check-in
    for t in tenants.values():
        [nudge] = [p for p in t.posts(GIVER) if "Time to check in" in texts(p.get("blocks", []))]
        t.click(nudge["blocks"], "checkin_done")

    for team, t in tenants.items():
        _assert_calls_stay_home(c, t)
        _assert_answers_are_its_own(t, shown[team])
    _assert_rows_stay_home(c)


def _assert_calls_stay_home(c: Cloud, t: Tenant) -> None:
    own, other = t.word, WORD[OTHER[t.team_id]]
    tokens = set(t.fake.issued_tokens)
    calls = t.fake.calls
    assert len(calls) > 50
    for call in calls:
        dumped = json.dumps(call.params).lower()
        assert other not in dumped, f"{t.team_id} received {other}'s {call.method}: {dumped[:500]}"
        if call.method in ("response_url", "upload", "oauth.v2.access"):
            assert call.token is None, call
        else:
            assert call.token in tokens, f"{call.method} to {t.team_id} with another token"
    for method in ("chat.postMessage", "views.publish", "views.open", "response_url"):
        with_text = [call for call in t.fake.calls_to(method) if own in json.dumps(call.params).lower()]
        assert with_text, f"no {method} to {t.team_id} showed its own text"
    exports = [file for file in t.fake.files() if file["name"].endswith(".csv")]
    assert len(exports) == 3
    for file in exports:
        data = file["data"].decode().lower()
        assert own in data and other not in data, file["name"]


def _assert_answers_are_its_own(t: Tenant, shown: dict[str, str]) -> None:
    w, acme = t.word, t.team_id == ACME
    for name, text in shown.items():
        assert WORD[OTHER[t.team_id]] not in text.lower(), name
    received, gia_gave = (6, 4) if acme else (5, 3)
    assert f"1. <@{ANA}> · {received}" in shown["/kudos top"], shown["/kudos top"]
    assert f"<@{GIVER}> · {gia_gave}" in shown["/kudos top"] and f"<@{BEN}> · 2" in shown["/kudos top"]
    assert f"send the {w} deck" in shown["/promise list"] and f"the {w} numbers" in shown["/promise list"]
    assert f"the {w} draft" not in shown["/promise list"]  # closed from the Home
    assert shown["/checkin list"].count("every 2 weeks") == 1, shown["/checkin list"]
    assert ("19 Nov" if acme else "20 Nov") in shown["/birthday list"], shown["/birthday list"]
    assert f"*{received} kudos*" in shown["/recap preview"], shown["/recap preview"]
    assert "2026-11-01 to 2026-11-30" in shown["/extramile export"]

    home = texts(t.home())
    assert "Nothing open. Nice." in home and f"the {w} numbers" in home  # the deck was done on Friday
    assert "birthday 14 March" in home if acme else "birthday 15 March" in home
    assert "Monday to Friday" in home if acme else "Monday, Tuesday, Wednesday, Thursday" in home

    kudos_posts = t.posts(KUDOS_CHANNEL if acme else GENERAL)
    assert len([p for p in kudos_posts if "gave kudos" in json.dumps(p)]) >= (4 if acme else 3)
    [birthday] = t.posts(PARTY)
    assert f"Happy birthday, <@{ANA}>!" in texts(birthday["blocks"])
    [recap] = t.posts(TEAM_CHANNEL)
    assert f"*{received} kudos*" in texts(recap["blocks"])
    welcome = texts(t.posts(NEW)[0]["blocks"])
    assert f"the {w} crew says hi" in welcome
    assert any(f"from {w}" in texts(p["blocks"]) for p in t.posts(BEN))


def _assert_rows_stay_home(c: Cloud) -> None:
    tables = [table for table in Base.metadata.sorted_tables if "team_id" in table.columns]
    counts: dict[str, dict[str, int]] = {}
    with c.app.engine.connect() as connection:
        for table in tables:
            teams = counts.setdefault(table.name, {ACME: 0, GLOBEX: 0})
            for row in connection.execute(select(table)).mappings():
                team = row["team_id"]
                assert team in (ACME, GLOBEX), (table.name, dict(row))
                teams[team] += 1
                dumped = json.dumps(dict(row), default=str).lower()
                other = WORD[OTHER[team]]
                assert other not in dumped, f"{table.name} row of {team} carries {other}: {dumped[:500]}"
            # A row that belongs to another (a kudos' recipient, a promise's promisee) is in its team.
            for fk in table.foreign_keys:
                parent = fk.column.table
                if "team_id" not in parent.columns:
                    continue
                crossed = connection.execute(
                    select(table.c.team_id, parent.c.team_id)
                    .join(parent, fk.parent == fk.column)
                    .where(table.c.team_id != parent.c.team_id)
                ).all()
                assert crossed == [], (table.name, parent.name, crossed)
    for name in (
        "kudos",
        "kudos_recipient",
        "kudos_value",
        "promise",
        "checkin",
        "person",
        "person_dates",
        "person_settings",
        "workspace",
        "outbox",
        "checkin_completion",
    ):
        assert counts[name][ACME] and counts[name][GLOBEX], (name, counts[name])
    assert counts["kudos"][ACME] == counts["kudos"][GLOBEX] + 1, counts["kudos"]
