"""What the serving benchmarks share: the fake Slack they run in a process of its own, a free loopback
port, waiting for a server to answer, and an environment without the caller's Slack or database settings.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
TEAM = "T0001"


def kudos_form(slack_url: str, text: str, *, trigger_id: str) -> dict[str, str]:
    """Gia's signed `/kudos` in #general, as Slack posts it; its replies go to the fake's hooks."""
    return {
        "team_id": TEAM,
        "channel_id": "C0GENERAL",
        "user_id": "U0GIVER",
        "command": "/kudos",
        "text": text,
        "trigger_id": trigger_id,
        "response_url": slack_url.removesuffix("api/") + "hooks/bench",
    }


def serve_fake() -> None:
    """The fake Slack, until the driver closes our stdin; its URL is our first line of output."""
    from handlers.slack.fake_api import FakeSlack

    with FakeSlack(team_id=TEAM) as fake:
        fake.add_user("U0GIVER", "gia")
        fake.add_user("U0ANA", "ana")
        fake.add_channel("C0GENERAL", "general")
        print(fake.url, flush=True)
        sys.stdin.read()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[str]) -> None:
    """Until the server at `url` answers /healthz (or exits, or a minute passes)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"the server exited with {process.returncode}") from None
            time.sleep(0.1)
    raise SystemExit("the server did not come up")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_", "DATABASE_", "PORT"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env
