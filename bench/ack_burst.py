"""How fast ExtraMile acknowledges signed Slack requests under a burst, against a baseline in the same run.

Three processes, as in production: the fake Slack, the real app (uvicorn, SQLite), and this load
generator, which sends N signed requests with C in flight:
  - baseline: GET /healthz (the server's floor: one DB ping, no Slack work)
  - /kudos help (Bolt verifies the signature, routes and acks)
  - /kudos @ana ... (every rule checked and the kudos recorded, with its post's outbox row, before the
    ack; the post and DMs go out through the outbox)
Reports p50/p95/p99/max, answers that were not a 200 (Bolt answers 404 when a listener has not
acknowledged within 3 s), and each p50's ratio to the baseline. Slack needs every ack within 3 s.

    python bench/ack_burst.py [--requests 1000] [--concurrency 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"


def serve_fake() -> None:
    from handlers.slack.fake_api import FakeSlack

    with FakeSlack(team_id="T0001") as fake:
        fake.add_user("U0GIVER", "gia")
        fake.add_user("U0ANA", "ana")
        fake.add_channel("C0GENERAL", "general")
        print(fake.url, flush=True)
        sys.stdin.read()  # until the driver closes our stdin
        posts = [
            c for c in fake.calls_to("chat.postMessage") if c.ok and c.params.get("channel") == "C0GENERAL"
        ]
        print(json.dumps({"posts": len(posts)}), flush=True)


def serve_app(slack_url: str, database: str) -> None:
    from pydantic import SecretStr

    from bot.app import build_app
    from bot.server import RunningServer
    from bot.settings import Settings
    from storage.db import create_db_engine, upgrade

    settings = Settings(
        SLACK_BOT_TOKEN=SecretStr("xoxb-bench"),
        SLACK_SIGNING_SECRET=SecretStr(SECRET),
        SLACK_API_URL=slack_url,  # type: ignore[arg-type]
        DATABASE_URL=database,
        _env_file=None,  # type: ignore[call-arg]
    )
    engine = create_db_engine(database)
    upgrade(engine)
    app = build_app(settings, engine=engine)
    app.services.workspaces.save(
        app.services.workspaces.get("T0001").model_copy(update={"daily_allowance": 0})
    )
    server = RunningServer(app.web)
    print(server.url, flush=True)
    sys.stdin.read()
    app.workers.wait_idle(300)
    server.stop()


FAILURES: dict[str, int] = {}


def measure(label: str, send: Callable[[], int], requests: int, concurrency: int) -> list[float]:
    def one(_: int) -> float:
        started = time.perf_counter()
        if send() != 200:
            FAILURES[label] = FAILURES.get(label, 0) + 1
        return time.perf_counter() - started

    with ThreadPoolExecutor(concurrency) as pool:
        return sorted(pool.map(one, range(requests)))


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def drive(requests: int, concurrency: int) -> int:
    from handlers.slack.signed_requests import SignedSender

    me = [sys.executable, str(Path(__file__).resolve())]
    with tempfile.TemporaryDirectory() as folder:
        fake = subprocess.Popen(
            [*me, "--serve-fake"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert fake.stdout and fake.stdin
        slack_url = fake.stdout.readline().strip()
        database = f"sqlite:///{Path(folder) / 'bench.db'}"
        app = subprocess.Popen(
            [*me, "--serve-app", slack_url, database],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert app.stdout and app.stdin
        app_url = app.stdout.readline().strip()
        sender = SignedSender(app_url, SECRET)

        def healthz() -> int:
            with urllib.request.urlopen(app_url + "/healthz", timeout=30) as response:
                return int(response.status)

        def command(text: str) -> Callable[[], int]:
            def send() -> int:
                form = {
                    "team_id": "T0001",
                    "channel_id": "C0GENERAL",
                    "user_id": "U0GIVER",
                    "command": "/kudos",
                    "text": text,
                    "trigger_id": uuid.uuid4().hex,
                    "response_url": slack_url.removesuffix("api/") + "hooks/bench",
                }
                return sender.command(form).status

            return send

        try:
            measure("warm-up", command("help"), 50, 10)
            runs = {
                "baseline GET /healthz": measure("healthz", healthz, requests, concurrency),
                "/kudos help (ack only)": measure("help", command("help"), requests, concurrency),
                "/kudos @ana (rules, ack)": measure(
                    "give", command("<@U0ANA|ana> thanks for the bench"), requests, concurrency
                ),
            }
        finally:
            app.stdin.close()
            app.wait(300)
            fake.stdin.close()
            delivered = json.loads(fake.stdout.readline() or "{}").get("posts", 0)
            fake.wait(30)

    base = statistics.median(runs["baseline GET /healthz"])
    print(
        f"{requests} requests, {concurrency} in flight; app (SQLite), fake Slack and load generator in 3 processes"
    )
    print(
        f"{'':26} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'not 200':>8} {'p50 / baseline':>15}"
    )
    labels = {
        "baseline GET /healthz": "healthz",
        "/kudos help (ack only)": "help",
        "/kudos @ana (rules, ack)": "give",
    }
    for label, values in runs.items():
        p50 = statistics.median(values)
        print(
            f"{label:26} {p50 * 1e3:8.1f} {pct(values, 95) * 1e3:8.1f} {pct(values, 99) * 1e3:8.1f} "
            f"{values[-1] * 1e3:8.1f} {FAILURES.get(labels[label], 0):8d} {p50 / base:15.1f}"
        )
    print(f"slowest ack: {max(v[-1] for v in runs.values()):.2f} s (Slack's budget: 3 s)")
    print(
        f"public kudos posts made after the acks: {delivered} (expected {requests}; DMs wait in the outbox)"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-app", nargs=2, metavar=("SLACK_URL", "DATABASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake()
    elif args.serve_app:
        serve_app(*args.serve_app)
    else:
        raise SystemExit(drive(args.requests, args.concurrency))
