"""Outbox delivery throughput: one worker (the baseline) against several replicas, in the same run.

Enqueues N due DMs, then lets 1 and then K worker processes drain them against a fake Slack in its
own process. Reports rows/s, the ratio to the single worker, and how many rows were sent twice
(must be 0). Uses PostgreSQL when it answers at 127.0.0.1:5432 (a database of its own, dropped at
the end), else SQLite.

    python bench/delivery_throughput.py [--rows 2000] [--workers 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.clock import FrozenClock  # noqa: E402
from bot.services.promises import PromiseRequest  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.slack.fake_api import FakeSlack  # noqa: E402
from storage import outbox as outbox_store  # noqa: E402
from storage.db import create_db_engine, unit_of_work, upgrade  # noqa: E402

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
PEOPLE = 50
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def settings(database: str, slack_url: str) -> Settings:
    return Settings(
        SLACK_BOT_TOKEN=SecretStr("xoxb-bench"),
        SLACK_SIGNING_SECRET=SecretStr("bench"),
        SLACK_API_URL=slack_url,  # type: ignore[arg-type]
        DATABASE_URL=database,
        _env_file=None,  # type: ignore[call-arg]
    )


def serve_fake(
    url_out: multiprocessing.connection.Connection, stop: multiprocessing.synchronize.Event
) -> None:
    with FakeSlack(team_id="T0001") as fake:
        for n in range(PEOPLE):
            fake.add_user(f"U{n:04d}", f"person{n}", tz="Europe/London")
        fake.add_user("U0GIVER", "gia")
        url_out.send(fake.url)
        stop.wait()
        ids = [
            c.params["metadata"]["event_payload"]["outbox_id"]
            for c in fake.calls_to("chat.postMessage")
            if c.ok
        ]
        url_out.send(ids)


def work(database: str, slack_url: str) -> None:
    app = build_app(settings(database, slack_url), clock=FrozenClock(NOW))
    app.services.delivery.deliver_due(NOW)
    app.workers.shutdown()


def fill(database: str, slack_url: str, rows: int, batch: str) -> None:
    app = build_app(settings(database, slack_url), clock=FrozenClock(NOW))
    made = app.services.promises.make(
        PromiseRequest(
            team_id="T0001",
            promiser_id="U0GIVER",
            dedupe_key=f"bench:{batch}",
            contact_name="Jane",
            text="a call next year",
        )
    )
    with unit_of_work(app.sessions) as session:
        for n in range(rows):
            outbox_store.enqueue(
                session,
                team_id="T0001",
                dedupe_key=f"promise:{made.promise.id}:bench:{batch}:{n}",
                kind="promise.notice",
                recipient_id=f"U{n % PEOPLE:04d}",
                payload={"promise_id": made.promise.id, "stage": "heard", "version": 1},
                deliver_after=NOW,
                created_at=NOW,
            )
    app.workers.shutdown()


def drain(database: str, slack_url: str, workers: int) -> float:
    started = time.perf_counter()
    processes = [multiprocessing.Process(target=work, args=(database, slack_url)) for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        database, drop = f"sqlite:///{Path(folder) / 'bench.db'}", None
        try:
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
            name = f"extramile_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            database, drop = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name
        except Exception:
            admin = None
        engine = create_db_engine(database)
        upgrade(engine)
        engine.dispose()

        receive, send = multiprocessing.Pipe(duplex=False)
        stop = multiprocessing.Event()
        fake = multiprocessing.Process(target=serve_fake, args=(send, stop))
        fake.start()
        slack_url = receive.recv()
        try:
            results = {}
            for label, workers in (("1 worker (baseline)", 1), (f"{args.workers} workers", args.workers)):
                fill(database, slack_url, args.rows, label)
                results[label] = drain(database, slack_url, workers)
        finally:
            stop.set()
            sent_ids = receive.recv()
            fake.join()
            if admin is not None and drop:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)'))

    duplicates = sum(count - 1 for count in Counter(sent_ids).values() if count > 1)
    base = args.rows / results["1 worker (baseline)"]
    print(
        f"{args.rows} due DMs per run on {'PostgreSQL' if drop else 'SQLite'}; fake Slack in its own process"
    )
    for label, seconds in results.items():
        rate = args.rows / seconds
        print(f"{label:24} {seconds:7.2f} s  {rate:8.1f} rows/s  {rate / base:5.2f}x baseline")
    print(f"messages posted: {len(sent_ids)} (expected {2 * args.rows}); sent twice: {duplicates}")
    return 0 if duplicates == 0 and len(sent_ids) == 2 * args.rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
