"""With a Teams password, /api/messages takes Bot Framework tokens only; Slack beside it is untouched;
`extramile run` refuses Teams settings that do not go together; a Slack-only deployment has no Teams.

No test here reaches beyond loopback: a garbage token is refused before the SDK would fetch signing keys
(a well-formed forged JWT would make it fetch them from the internet, so none is sent), and every host
name looked up is checked."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.app import build_app
from bot.clock import FrozenClock
from bot.server import RunningServer
from handlers.slack.fake_api import FakeSlack
from handlers.slack.signed_requests import SignedSender
from handlers.teams.fake_connector import FakeConnector
from storage.models import Kudos
from tests.conftest import ANA, SIGNING_SECRET, Harness, make_settings, payload
from tests.conftest import GENERAL as SLACK_GENERAL
from tests.conftest import TEAM as SLACK_TEAM
from tests.teams.conftest import ANA as TEAMS_ANA
from tests.teams.conftest import GENERAL, TENANT, TeamsHarness, teams_settings
from tests.teams.test_odd_input import NOTHING, stored
from tests.test_cli import extramile

PASSWORD = "teams-app-password-value"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@pytest.fixture
def looked_up(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name anything in this process tries to look up beyond loopback (refused)."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOOPBACK:
            asked.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: not on loopback (test)")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    return asked


@pytest.fixture
def secured(
    database_url: str,
    fake_slack: FakeSlack,
    connector: FakeConnector,
    clock: FrozenClock,
    looked_up: list[str],
) -> Iterator[TeamsHarness]:
    settings = teams_settings(
        database_url,
        fake_slack.url,
        TEAMS_APP_PASSWORD=SecretStr(PASSWORD),
        TEAMS_TENANT_ID=TENANT,
        TEAMS_ANONYMOUS=False,
    )
    app = build_app(settings, clock=clock)
    server = RunningServer(app.web)
    try:
        yield TeamsHarness(app=app, connector=connector, clock=clock, url=server.url)
    finally:
        server.stop()
        app.workers.shutdown()
        app.engine.dispose()


def _kudos_activity(teams: TeamsHarness) -> dict[str, Any]:
    activity = teams.base("message", channel=GENERAL)
    activity["text"] = "<at>ExtraMile</at> kudos <at>Ana Ames</at> thanks"
    activity["entities"] = [
        {"type": "mention", "text": "<at>Ana Ames</at>", "mentioned": {"id": TEAMS_ANA, "name": "Ana Ames"}}
    ]
    return activity


def test_no_token_is_401_and_nothing_is_recorded(secured: TeamsHarness, looked_up: list[str]) -> None:
    answer = secured.post(_kudos_activity(secured))

    assert (answer.status, answer.body) == (401, {"error": "Authorization header not found"})
    assert stored(secured) == NOTHING and secured.connector.calls == []
    assert looked_up == []


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer eyJhbGciOiJSUzI1NiJ9.not-base64!.x",
        "Bearer ",
        "Basic Z2lhOmdpYQ==",
        "garbage",
    ],
)
def test_a_garbage_token_is_401_at_once_without_asking_anyone(
    secured: TeamsHarness, looked_up: list[str], authorization: str
) -> None:
    started = time.monotonic()
    answer = secured.post(_kudos_activity(secured), headers={"Authorization": authorization})
    elapsed = time.monotonic() - started

    assert answer.status == 401
    assert elapsed < 2  # refused on its face: no signing keys fetched (that would take seconds, or hang)
    assert looked_up == []
    assert stored(secured) == NOTHING and secured.connector.calls == []


def test_a_huge_body_without_a_token_is_refused_before_it_is_read(secured: TeamsHarness) -> None:
    activity = _kudos_activity(secured)
    activity["text"] += "x" * 2_000_000
    body = json.dumps(activity).encode()
    connection = http.client.HTTPConnection("127.0.0.1", int(secured.url.rsplit(":", 1)[1]), timeout=30)
    connection.putrequest("POST", "/api/messages")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    try:
        connection.send(body)
        status: int | None = connection.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        # The server answered and hung up while the body was still on its way, which is the point;
        # whether the client still gets to read that answer depends on the sockets' buffers.
        status = None
    finally:
        connection.close()
    assert status in (401, None)
    assert stored(secured) == NOTHING


def test_slack_is_served_as_before_beside_secured_teams(
    secured: TeamsHarness, fake_slack: FakeSlack, looked_up: list[str]
) -> None:
    with urllib.request.urlopen(secured.url + "/healthz", timeout=10) as response:
        assert response.status == 200
    form = payload("slash_command", text="<@U0ANA|ana> thanks for the fix")

    response = SignedSender(secured.url, SIGNING_SECRET).command(form)

    assert response.status == 200
    secured.settle()
    with secured.app.sessions() as session:
        assert session.scalars(select(Kudos.giver_id).where(Kudos.team_id == SLACK_TEAM)).all() == [
            form["user_id"]
        ]
    secured.app.services.delivery.deliver_due()
    posted = [call.params["channel"] for call in fake_slack.calls_to("chat.postMessage") if call.ok]
    assert posted == [SLACK_GENERAL, ANA]  # the post, then Ana's DM (10:00 in New York)
    # Slack's own check still holds: an unsigned request is refused.
    request = urllib.request.Request(secured.url + "/slack/events", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    assert looked_up == []


def test_a_slack_only_deployment_has_no_teams_and_serves_no_api_messages(harness: Harness) -> None:
    settings = make_settings("sqlite://", harness.fake.url)
    assert not settings.teams
    settings.require_teams()  # nothing to ask for
    assert harness.app.teams is None

    request = urllib.request.Request(
        harness.url + "/api/messages",
        data=b'{"type": "message"}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(request, timeout=10)
    assert missing.value.code == 404


def _teams_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    import os

    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "TEAMS_", "DATABASE_", "PORT", "CONNECTIONS__"))
    }
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    return env | settings


SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"TEAMS_APP_ID": "app-id", **SLACK}, "TEAMS_APP_PASSWORD is not set"),
        ({"TEAMS_APP_ID": "app-id"}, "TEAMS_APP_PASSWORD is not set"),
        ({"TEAMS_APP_ID": "app-id", "TEAMS_ANONYMOUS": "false"}, "TEAMS_APP_PASSWORD is not set"),
        ({"TEAMS_APP_ID": "app-id", "TEAMS_APP_PASSWORD": PASSWORD}, "TEAMS_TENANT_ID is not set"),
        ({"TEAMS_APP_ID": "app-id", "TEAMS_ANONYMOUS": "maybe"}, "TEAMS_ANONYMOUS is malformed"),
    ],
)
def test_teams_settings_that_do_not_go_together_stop_run_with_one_line(
    tmp_path: Path, settings: dict[str, str], named: str
) -> None:
    result = extramile("run", env=_teams_env(tmp_path, **settings), cwd=tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"extramile: {named}"), result.stderr
    assert "set it to" in lines[0] and "Traceback" not in result.stderr
    assert PASSWORD not in result.stderr
