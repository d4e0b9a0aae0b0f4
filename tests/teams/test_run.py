"""`extramile run` for Teams alone: no Slack setting needed, /api/messages served, Slack's endpoint
refusing everything, and only our own log lines at the default level."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlalchemy import select

from handlers.teams.fake_connector import FakeConnector
from storage.db import create_db_engine
from storage.models import Kudos
from tests.teams.conftest import ANA, APP_ID, BOT, GENERAL, GIA, NAMES, TENANT
from tests.test_cli import _free_port, clean_env, wait_until_serving


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_run_serves_teams_without_any_slack_setting(tmp_path: Path) -> None:
    database = tmp_path / "teams.db"
    port = _free_port()
    with FakeConnector(tenant_id=TENANT) as connector:
        for user_id, name in NAMES.items():
            connector.add_member(user_id, name)
        env = clean_env(
            tmp_path,
            TEAMS_APP_ID=APP_ID,
            TEAMS_ANONYMOUS="true",
            DATABASE_URL=f"sqlite:///{database}",
            PORT=str(port),
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(process, base)
            activity = {
                "type": "message",
                "id": "1700000000999",
                "channelId": "msteams",
                "serviceUrl": connector.url + "/",
                "from": {"id": GIA, "name": NAMES[GIA]},
                "recipient": {"id": BOT, "name": "ExtraMile"},
                "conversation": {"id": GENERAL, "conversationType": "channel", "tenantId": TENANT},
                "channelData": {"tenant": {"id": TENANT}, "channel": {"id": GENERAL, "name": "General"}},
                "text": "<at>ExtraMile</at> kudos <at>Ana Ames</at> thanks for the fix",
                "entities": [
                    {
                        "type": "mention",
                        "text": "<at>ExtraMile</at>",
                        "mentioned": {"id": BOT, "name": "ExtraMile"},
                    },
                    {
                        "type": "mention",
                        "text": "<at>Ana Ames</at>",
                        "mentioned": {"id": ANA, "name": "Ana Ames"},
                    },
                ],
            }
            json_headers = {"Content-Type": "application/json"}
            assert _post(base + "/api/messages", json.dumps(activity).encode(), json_headers) == 202
            assert _post(base + "/slack/events", b"token=x&command=/kudos", {}) == 401
            deadline = time.monotonic() + 10
            while (
                not any(sent.conversation_id == GENERAL for sent in connector.sent())
                and time.monotonic() < deadline
            ):
                time.sleep(0.05)
            assert [sent.conversation_id for sent in connector.sent()][:1] == [GENERAL]
        finally:
            process.terminate()
            output, _ = process.communicate(timeout=10)
    messages = [line.split(" ", 3)[3] for line in output.splitlines()]
    assert messages[:1] == [f"bot.cli: serving Microsoft Teams (POST /api/messages) on port {port}"], output
    assert all(message.startswith("bot.") for message in messages), output
    engine = create_db_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        assert connection.execute(select(Kudos.giver_id, Kudos.status)).all() == [(GIA, "posted")]
    engine.dispose()
