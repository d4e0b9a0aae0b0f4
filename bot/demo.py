"""`extramile demo`: the real bot, on a fresh SQLite file, against the built-in fake Slack.

It plays a short scene through correctly signed HTTP requests and prints what each person saw.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from bot.app import ExtraMile, build_app
from bot.clock import FrozenClock
from bot.server import RunningServer
from bot.services.workspaces import RecapSchedule
from bot.settings import Settings
from handlers.slack.fake_api import Call, FakeSlack
from handlers.slack.signed_requests import SignedSender, event_callback
from handlers.teams import cards
from handlers.teams.fake_connector import FakeConnector, Sent
from storage import outbox as outbox_store
from storage.db import create_db_engine, upgrade

TEAM = "T0DEMO"
# The scene's clock: requests are signed with the real time, but the bot lives on this Wednesday.
WEDNESDAY = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
SIGNING_SECRET = "demo-signing-secret"
CAST = {
    "U0GIA": ("gia", "Europe/London"),
    "U0ANA": ("ana", "America/New_York"),
    "U0BEN": ("ben", "Asia/Tokyo"),
    "U0CAL": ("cal", "Europe/Berlin"),
    "U0DEPLOY": ("deploybot", "UTC"),
    "U0NOR": ("nora", "Europe/Paris"),
}
CHANNELS = {
    "C0GENERAL": "general",
    "C0SECRET": "secret-project",
    "C0HELLO": "say-hello",
    "C0PARTY": "celebrations",
}


TEAMS_APP_ID = "00000000-0000-4000-8000-0000000de770"
TEAMS_TENANT = "11111111-2222-4333-8444-555555555555"
TEAMS_CAST = {
    "29:1tomas": ("Tomás Silva", "Europe/Lisbon"),
    "29:1priya": ("Priya Raman", "Asia/Kolkata"),
}
TEAMS_CHANNEL = "19:launch@thread.tacv2"


def teams_scene(url: str, connector: FakeConnector, app: ExtraMile, clock: FrozenClock) -> None:
    """One Teams exchange: kudos typed in a channel, posted as a card, DM'd to its recipient."""
    print("\nMeanwhile, in Microsoft Teams (Contoso), served by the same process and database:")
    print("\n▶ Tomás types in #launch: @ExtraMile kudos @Priya thanks for the demo #teamwork")
    activity = {
        "type": "message",
        "id": "1700000000777",
        "channelId": "msteams",
        "serviceUrl": connector.url + "/",
        "from": {"id": "29:1tomas", "name": TEAMS_CAST["29:1tomas"][0]},
        "recipient": {"id": f"28:{TEAMS_APP_ID}", "name": "ExtraMile"},
        "conversation": {"id": TEAMS_CHANNEL, "conversationType": "channel", "tenantId": TEAMS_TENANT},
        "channelData": {
            "tenant": {"id": TEAMS_TENANT},
            "team": {"id": TEAMS_CHANNEL},
            "channel": {"id": TEAMS_CHANNEL, "name": "launch"},
        },
        "localTimezone": TEAMS_CAST["29:1tomas"][1],
        "text": "<at>ExtraMile</at> kudos <at>Priya Raman</at> thanks for the demo #teamwork",
        "entities": [
            {
                "type": "mention",
                "text": "<at>ExtraMile</at>",
                "mentioned": {"id": f"28:{TEAMS_APP_ID}", "name": "ExtraMile"},
            },
            {
                "type": "mention",
                "text": "<at>Priya Raman</at>",
                "mentioned": {"id": "29:1priya", "name": "Priya Raman"},
            },
        ],
    }
    request = urllib.request.Request(
        url + "/api/messages",
        data=json.dumps(activity).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        print(f"  Teams hears {response.status}: the kudos is recorded")
    app.workers.wait_idle(10)
    app.services.delivery.deliver_due()
    _show_cards(connector.sent())
    # Priya has not written to ExtraMile yet, so her zone is the team's until she does: her DM waits
    # for 09:00 there.
    shown = len(connector.sent())
    clock.set(clock.now().replace(hour=9, minute=0))
    print(f"\n⏩ {clock.now():%a %d %b %H:%M} UTC: Priya's working morning")
    app.services.delivery.tick()
    _show_cards(connector.sent()[shown:])


def _show_cards(sent: list[Sent]) -> None:
    for activity in sent:
        where = "#launch" if activity.conversation_id.startswith("19:") else "Priya's chat with ExtraMile"
        for attachment in activity.activity.get("attachments") or []:
            print(f"  {where} (a card): {_card_words(attachment.get('content') or {})}")


def _card_words(card: dict[str, Any]) -> str:
    return " · ".join(re.sub(r"</?at>|\*\*", "", word) for word in cards.words(card) if word)


class Scene:
    def __init__(self, fake: FakeSlack, sender: SignedSender, app: ExtraMile, clock: FrozenClock) -> None:
        self.fake = fake
        self.app = app
        self.workers = app.workers
        self.clock = clock
        self.sender = sender
        self._seen = 0
        self._triggers = 0

    def later(self, at: datetime, why: str) -> None:
        """Moves the demo's clock and runs the delivery pass that `extramile run` would run then."""
        self.clock.set(at)
        print(f"\n⏩ {at:%a %d %b %H:%M} UTC: {why}")
        self.app.services.delivery.tick()
        self.show_new_calls()

    def say(
        self, user_id: str, text: str, *, channel_id: str = "C0GENERAL", thread_of: str | None = None
    ) -> str:
        """`user_id` writes `text` in a channel (in the thread of `thread_of`): Slack's message event.
        The message's ts, as Slack stamps it: the time it was written."""
        ts = f"{self.clock.now().timestamp():.0f}.{len(self.fake.messages(channel_id)) + 1:06d}"
        event = self.fake.write(channel_id, user_id, text, ts=ts, thread_ts=thread_of)
        where = f"#{CHANNELS[channel_id]}" + (" (in the thread)" if thread_of else "")
        print(f"\n▶ {CAST[user_id][0]} writes in {where}: {self._readable(text)}")
        self._event(event)
        self.show_new_calls()
        return ts

    def click(self, user_id: str, label: str) -> None:
        """Clicks the button called `label` on the newest message (or private offer) that has one."""
        shown = [c for c in self.fake.calls if c.method in ("chat.postMessage", "chat.postEphemeral")]
        for call in reversed(shown):
            for block in call.params.get("blocks") or []:
                for element in block.get("elements") or []:
                    if isinstance(element, dict) and element.get("text", {}).get("text") == label:
                        break
                else:
                    continue
                break
            else:
                continue
            break
        else:
            raise LookupError(label)
        self._triggers += 1
        print(f"\n▶ {CAST[user_id][0]} clicks [{label}]")
        payload = {
            "type": "block_actions",
            "user": {"id": user_id, "name": CAST[user_id][0], "team_id": TEAM},
            "team": {"id": TEAM, "domain": "acme"},
            "api_app_id": "A0DEMO",
            "trigger_id": f"{self._triggers}.demo",
            "response_url": self.fake.response_url(f"{user_id}/{self._triggers}"),
            "container": {"type": "message", "message_ts": "1.1", "channel_id": "D" + user_id},
            "actions": [
                {
                    "action_id": element["action_id"],
                    "block_id": block["block_id"],
                    "value": element["value"],
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        self.sender.interaction(payload)
        self.show_new_calls()

    def queued(self) -> None:
        """What waits in the outbox for someone's working hours."""
        with self.app.sessions() as session:
            for row in outbox_store.list_rows(session, statuses=[outbox_store.PENDING], limit=20):
                if row.recipient_id in CAST and row.kind == "kudos.dm":
                    name, tz = CAST[row.recipient_id]
                    local = row.deliver_after.astimezone(ZoneInfo(tz))
                    print(
                        f"  ({name}'s DM waits for {local:%H:%M} in {tz.split('/')[-1].replace('_', ' ')}, the start of their day)"
                    )

    def command(self, user_id: str, text: str, channel_id: str = "C0GENERAL", name: str = "/kudos") -> None:
        self._triggers += 1
        command_name = name
        name = CAST[user_id][0]
        print(f"\n▶ {name} types: {command_name} {self._readable(text)}")
        response = self.sender.command(
            {
                "team_id": TEAM,
                "team_domain": "acme",
                "channel_id": channel_id,
                "channel_name": CHANNELS[channel_id],
                "user_id": user_id,
                "user_name": name,
                "command": command_name,
                "text": text,
                "api_app_id": "A0DEMO",
                "is_enterprise_install": "false",
                "response_url": self.fake.response_url(f"{user_id}/{self._triggers}"),
                "trigger_id": f"{self._triggers}.demo",
            }
        )
        reply = response.json() if response.body.startswith("{") else None
        if reply:
            print(f"  {name} sees (only visible to you): {self._message_text(reply)}")
        self.show_new_calls()

    def join(self, user_id: str) -> None:
        """Someone new joins the workspace (Slack's team_join event)."""
        name, tz = CAST[user_id]
        print(f"\n▶ {name} joins the workspace")
        self._event(
            {
                "type": "team_join",
                "user": {"id": user_id, "name": name, "tz": tz, "profile": {"display_name": name}},
            }
        )
        self.show_new_calls()

    def react(
        self, user_id: str, reaction: str, channel_id: str, ts: str, author_id: str, *, added: bool = True
    ) -> None:
        verb = "adds" if added else "removes"
        print(f"\n▶ {CAST[user_id][0]} {verb} :{reaction}: on {CAST[author_id][0]}'s message")
        self._event(
            {
                "type": "reaction_added" if added else "reaction_removed",
                "user": user_id,
                "reaction": reaction,
                "item_user": author_id,
                "item": {"type": "message", "channel": channel_id, "ts": ts},
                "event_ts": f"{time.time():.6f}",
            }
        )
        self._wait_for_listeners()
        self.show_new_calls()

    def _event(self, event: dict[str, Any]) -> None:
        self.sender.event(event_callback(TEAM, event, event_id=f"Ev{time.monotonic_ns()}", app_id="A0DEMO"))

    def show_new_calls(self) -> None:
        self._wait_for_listeners()
        calls = self.fake.calls
        for call in calls[self._seen :]:
            self._show(call)
        self._seen = len(calls)

    def _wait_for_listeners(self) -> None:
        # Events are acknowledged before their listener runs: wait for that work to finish.
        self.workers.wait_idle()

    def _show(self, call: Call) -> None:
        params = call.params
        if not call.ok:
            return  # what Slack refused, nobody saw
        if call.method == "chat.postMessage":
            channel = str(params.get("channel", ""))
            where = f"{CAST[channel][0]}'s DMs" if channel in CAST else f"#{CHANNELS.get(channel, channel)}"
            thread = " (in the message's thread)" if params.get("thread_ts") else ""
            print(f"  {where}{thread}: {self._message_text(params)}")
        elif call.method == "chat.postEphemeral":
            print(
                f"  {CAST.get(str(params.get('user')), ('someone',))[0]} sees (only visible to you): {self._message_text(params)}"
            )
        elif call.method == "response_url":
            name = CAST.get(str(params["tag"]).split("/")[0], ("someone",))[0]
            where = (
                f"{name}'s message becomes"
                if params.get("replace_original")
                else f"{name} sees (only visible to you)"
            )
            print(f"  {where}: {self._message_text(params)}")
        elif call.method == "views.open":
            print(f"  a form opens: {params['view']['title']['text']}")
        elif call.method == "chat.delete":
            print("  the kudos post is removed from the channel")
        elif call.method == "files.completeUploadExternal":
            channel_id = str(params.get("channel_id"))
            print(
                f"  #{CHANNELS.get(channel_id, channel_id)}: a picture follows, "
                "kudos per day this week against last week, and our values"
            )

    def _message_text(self, message: dict[str, Any]) -> str:
        parts: list[str] = []
        for block in message.get("blocks") or []:
            if block.get("text"):
                parts.append(block["text"]["text"])
            for item in (block.get("fields") or []) + (block.get("elements") or []):
                text = item.get("text") if isinstance(item, dict) else None
                if isinstance(text, str):
                    parts.append(text)
            buttons = [e["text"]["text"] for e in block.get("elements") or [] if e.get("type") == "button"]
            if buttons:
                parts.append(" ".join(f"[{label}]" for label in buttons))
        return self._readable(" · ".join(parts) or str(message.get("text", "")))

    def _readable(self, text: str) -> str:
        text = re.sub(r"<@(\w+)(?:\|[^>]*)?>", lambda m: "@" + CAST.get(m.group(1), (m.group(1),))[0], text)
        text = re.sub(r"<!subteam\^\w+\|([^>]*)>", r"\1", text)
        text = re.sub(r"<#(\w+)>", lambda m: "#" + CHANNELS.get(m.group(1), m.group(1)), text)
        text = re.sub(r"<[^|>]+\|([^>]*)>", r"\1", text)
        return (
            text.replace("\n>", " · “")
            .replace("\n", " ")
            .replace(":clap:", "👏")
            .replace(":sparkles:", "✨")
            .replace(":handshake:", "🤝")
            .replace(":alarm_clock:", "⏰")
            .replace(":white_check_mark:", "✅")
            .replace(":wave:", "👋")
            .replace(":birthday:", "🎂")
            .replace(":tada:", "🎉")
            .replace(":hourglass_flowing_sand:", "⏳")
        )


def play() -> int:
    with tempfile.TemporaryDirectory(prefix="extramile-demo-") as folder, FakeSlack(team_id=TEAM) as fake:
        database = Path(folder) / "demo.db"
        for user_id, (name, tz) in CAST.items():
            fake.add_user(user_id, name, real_name=name.title(), tz=tz, is_bot=name.endswith("bot"))
        fake.add_channel("C0GENERAL", "general")
        fake.add_channel("C0SECRET", "secret-project", bot_is_member=False)
        fake.add_usergroup("S0DESIGN", "design", ["U0ANA", "U0BEN"])
        fake.add_channel("C0HELLO", "say-hello")
        fake.add_channel("C0PARTY", "celebrations")
        settings = Settings(
            SLACK_BOT_TOKEN=SecretStr("xoxb-demo"),
            SLACK_SIGNING_SECRET=SecretStr(SIGNING_SECRET),
            SLACK_API_URL=fake.url,  # type: ignore[arg-type]
            DATABASE_URL=f"sqlite:///{database}",
            _env_file=None,  # type: ignore[call-arg]
        )
        # Microsoft Teams beside Slack, in the same process and database, against a fake Bot Connector.
        connector = FakeConnector(tenant_id=TEAMS_TENANT).start()
        for user_id, (name, _) in TEAMS_CAST.items():
            connector.add_member(user_id, name)
        settings = settings.model_copy(update={"TEAMS_APP_ID": TEAMS_APP_ID, "TEAMS_ANONYMOUS": True})
        engine = create_db_engine(settings.DATABASE_URL)
        upgrade(engine)
        clock = FrozenClock(WEDNESDAY)
        app = build_app(settings, engine=engine, clock=clock)
        workspace = app.services.workspaces.get(TEAM)
        app.services.workspaces.save(
            workspace.model_copy(
                update={
                    "welcome_channel_id": "C0HELLO",
                    "celebrations_channel_id": "C0PARTY",
                    "timezone": "Europe/London",
                    "recaps": {"C0GENERAL": RecapSchedule(weekday=0, hour=9, scope="workspace")},
                    # Promises spotted as they are written, and questions that must not be left waiting.
                    "spot_promises": True,
                    "question_nudges": True,
                }
            )
        )
        server = RunningServer(app.web)
        try:
            print("ExtraMile demo: the real bot, a fake Slack workspace (Acme), a fresh SQLite database.")
            print(
                f"It is {WEDNESDAY:%a %d %b %H:%M} UTC: afternoon in London and Berlin, morning in New York, midnight in Tokyo."
            )
            scene = Scene(fake, SignedSender(server.url, SIGNING_SECRET), app, clock)
            scene.command("U0GIA", "<@U0ANA|ana> thanks for staying late on the fix #ownership")
            scene.command("U0CAL", "<!subteam^S0DESIGN|@design> the new onboarding flow is lovely")
            scene.queued()
            scene.react("U0BEN", "clap", "C0GENERAL", "1700000000.000100", "U0ANA")
            scene.react("U0BEN", "clap", "C0GENERAL", "1700000000.000100", "U0ANA", added=False)
            scene.command("U0GIA", "<@U0GIA|gia> for being me")
            scene.command("U0GIA", "<@U0DEPLOY|deploybot> for shipping")
            scene.command("U0GIA", "<@U0BEN|ben> thanks for the review", channel_id="C0SECRET")
            scene.command("U0ANA", "top")
            scene.command("U0GIA", "<@U0ANA|ana> send the pricing deck by Friday 3pm", name="/promise")
            scene.later(datetime(2026, 11, 19, 0, 0, tzinfo=UTC), "09:00 in Tokyo")
            scene.later(datetime(2026, 11, 20, 13, 0, tzinfo=UTC), "two hours before Gia's promise is due")
            scene.click("U0GIA", "Done")
            scene.later(datetime(2026, 11, 20, 14, 0, tzinfo=UTC), "09:00 in New York")
            scene.join("U0NOR")
            scene.click("U0ANA", "Wave 👋")
            asked = scene.say("U0ANA", "<@U0CAL> could you check the Q3 numbers before Monday's board call?")
            scene.say("U0CAL", "sure, let me dig into it and get back to you by Monday noon", thread_of=asked)
            scene.click("U0CAL", "Track")
            scene.later(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "Monday 09:00 in London: the weekly recap")
            scene.command("U0BEN", "14 March", name="/birthday")
            scene.later(datetime(2027, 3, 12, 0, 0, tzinfo=UTC), "Friday 12 March, 09:00 in Tokyo")
            teams_scene(server.url, connector, app, clock)
            print(
                "\nThat's the demo. Connect a real workspace with `extramile manifest` and `extramile run`, "
                "and Teams with `extramile teams-manifest` (see README)."
            )
        finally:
            server.stop()
            connector.stop()
            app.engine.dispose()
    return 0
