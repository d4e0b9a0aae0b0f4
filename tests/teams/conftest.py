"""The real app serving Microsoft Teams (and Slack) on loopback, a fake Bot Connector that receives
what it sends, and helpers that post activities to `/api/messages` the way Teams does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import ExtraMile, build_app
from bot.clock import FrozenClock
from bot.server import RunningServer
from bot.services.platforms import teams_workspace
from bot.settings import Settings
from handlers.slack.fake_api import FakeSlack
from handlers.teams import cards
from handlers.teams.fake_connector import FakeConnector
from tests.conftest import SIGNING_SECRET

APP_ID = "00000000-0000-4000-8000-00000000b07"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TEAM = teams_workspace(TENANT)
BOT = f"28:{APP_ID}"
GIA, ANA, BEN = "29:1gia-giver", "29:1ana-ames", "29:1ben-berg"
NAMES = {GIA: "Gia Giver", ANA: "Ana Ames", BEN: "Ben Berg"}
ZONES = {GIA: "Europe/London", ANA: "America/New_York", BEN: "Asia/Tokyo"}
GENERAL = "19:general0000@thread.tacv2"
TEAM_REF = GENERAL  # a team's id is its General channel's


def teams_settings(database_url: str, slack_url: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": SecretStr("xoxb-test"),
        "SLACK_SIGNING_SECRET": SecretStr(SIGNING_SECRET),
        "SLACK_API_URL": slack_url,
        "DATABASE_URL": database_url,
        "TEAMS_APP_ID": APP_ID,
        "TEAMS_ANONYMOUS": True,
        **changes,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Answer:
    status: int
    body: Any


@dataclass
class TeamsHarness:
    app: ExtraMile
    connector: FakeConnector
    clock: FrozenClock
    url: str
    headers: dict[str, str] = field(default_factory=dict)

    def post(self, activity: dict[str, Any], *, headers: dict[str, str] | None = None) -> Answer:
        request = urllib.request.Request(
            self.url + "/api/messages",
            data=json.dumps(activity).encode(),
            headers={"Content-Type": "application/json", **self.headers, **(headers or {})},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        self.settle()
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = raw.decode(errors="replace")
        return Answer(status=status, body=body)

    def settle(self) -> None:
        assert self.app.workers.wait_idle(10), "request work still running after 10 s"

    def base(
        self, kind: str, *, user_id: str = GIA, channel: str | None = None, zone: str | None = None
    ) -> dict[str, Any]:
        """What every activity carries: who, where, which tenant, where to answer."""
        conversation: dict[str, Any] = {
            "id": f"a:1chat-{user_id}",
            "conversationType": "personal",
            "tenantId": TENANT,
        }
        channel_data: dict[str, Any] = {"tenant": {"id": TENANT}}
        if channel is not None:
            conversation = {"id": channel, "conversationType": "channel", "tenantId": TENANT, "isGroup": True}
            channel_data |= {
                "team": {"id": TEAM_REF, "name": "Engineering"},
                "channel": {"id": channel, "name": "General"},
            }
        activity: dict[str, Any] = {
            "type": kind,
            "id": uuid.uuid4().hex[:12],
            "timestamp": self.clock.now().isoformat(),
            "channelId": "msteams",
            "serviceUrl": self.connector.url + "/",
            "from": {"id": user_id, "name": NAMES.get(user_id, "Someone"), "aadObjectId": str(uuid.uuid4())},
            "recipient": {"id": BOT, "name": "ExtraMile"},
            "conversation": conversation,
            "channelData": channel_data,
        }
        zone = zone or ZONES.get(user_id)
        if zone:
            activity["localTimezone"] = zone
            activity["entities"] = [{"type": "clientInfo", "locale": "en-US", "timezone": zone}]
        return activity

    def message(
        self,
        text: str,
        *,
        user_id: str = GIA,
        channel: str | None = None,
        mentions: tuple[str, ...] = (),
        activity_id: str | None = None,
    ) -> Answer:
        """`text` with `@Name` for each of `mentions` (user ids), as Teams writes them."""
        activity = self.base("message", user_id=user_id, channel=channel)
        if channel is not None:
            text = "<at>ExtraMile</at> " + text
            activity.setdefault("entities", []).append(
                {
                    "type": "mention",
                    "text": "<at>ExtraMile</at>",
                    "mentioned": {"id": BOT, "name": "ExtraMile"},
                }
            )
        for mentioned in mentions:
            name = NAMES[mentioned]
            text = text.replace(f"@{name.split()[0]}", f"<at>{name}</at>", 1)
            activity.setdefault("entities", []).append(
                {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": mentioned, "name": name}}
            )
        activity["text"] = text
        activity["textFormat"] = "plain"
        if activity_id:
            activity["id"] = activity_id
        return self.post(activity)

    def press(
        self, verb: str, data: dict[str, Any], *, user_id: str = GIA, channel: str | None = None
    ) -> Answer:
        """A button of one of our cards (Action.Execute): an adaptiveCard/action invoke."""
        activity = self.base("invoke", user_id=user_id, channel=channel)
        activity["name"] = "adaptiveCard/action"
        activity["value"] = {
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual",
        }
        return self.post(activity)

    def deliver(self) -> None:
        """Sends everything due now (what the scheduler's next pass would)."""
        self.app.services.delivery.deliver_due()
        self.settle()

    def cards_to(self, conversation_id: str, *, replies: bool = False) -> list[dict[str, Any]]:
        """The Adaptive Cards ExtraMile sent to a conversation on its own (or, with `replies`, those
        that answered somebody there), in order."""
        found = []
        for sent in self.connector.sent():
            if sent.conversation_id.split(";", 1)[0] != conversation_id or sent.deleted:
                continue
            if (sent.reply_to_id is not None) != replies:
                continue
            for attachment in sent.activity.get("attachments") or []:
                if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                    found.append(attachment["content"])
        return found

    def chat_of(self, user_id: str) -> str | None:
        """The 1:1 conversation id ExtraMile has with a person (opened by it, or by them)."""
        address = self.app.teams.book.get(TEAM, user_id) if self.app.teams else None
        return address.conversation_id if address else None


def card_text(card: dict[str, Any]) -> str:
    """Every word of a card, in order (TextBlocks, TextRuns, facts and action titles)."""
    return "\n".join(cards.words(card))


@pytest.fixture
def connector() -> Iterator[FakeConnector]:
    with FakeConnector() as fake:
        for user_id, name in NAMES.items():
            fake.add_member(user_id, name, tenant_id=TENANT)
        fake.add_conversation(GENERAL, list(NAMES))
        yield fake


@pytest.fixture
def teams(
    database_url: str, fake_slack: FakeSlack, connector: FakeConnector, clock: FrozenClock
) -> Iterator[TeamsHarness]:
    app = build_app(teams_settings(database_url, fake_slack.url), clock=clock)
    server = RunningServer(app.web)
    try:
        yield TeamsHarness(app=app, connector=connector, clock=clock, url=server.url)
    finally:
        server.stop()
        app.workers.shutdown()
        app.engine.dispose()
