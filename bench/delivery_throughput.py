"""Outbox delivery throughput: one worker (the baseline) against several replicas, in the same run.

Enqueues N due DMs, then lets 1 and then K worker processes drain them against a fake Slack in its
own process. Reports rows/s, the ratio to the single worker, and how many rows were sent twice
(must be 0). Uses PostgreSQL when it answers at 127.0.0.1:5432 (a database of its own, dropped at
the end), else SQLite.

    python bench/delivery_throughput.py [--rows 2000] [--workers 3]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from databases import bench_settings, postgres_answers, postgres_database  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.clock import FrozenClock  # noqa: E402
from bot.services.promises import PromiseRequest  # noqa: E402
from handlers.slack.fake_api import FakeSlack  # noqa: E402
from storage import outbox as outbox_store  # noqa: E402
from storage.db import create_db_engine, unit_of_work, upgrade  # noqa: E402

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
PEOPLE = 50


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
    app = build_app(bench_settings(database, slack_url), clock=FrozenClock(NOW))
    app.services.delivery.deliver_due(NOW)
    app.workers.shutdown()


def fill(database: str, slack_url: str, rows: int, batch: str) -> None:
    app = build_app(bench_settings(database, slack_url), clock=FrozenClock(NOW))
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

    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        database = (
            stack.enter_context(postgres_database())
            if postgres_answers()
            else f"sqlite:///{Path(folder) / 'bench.db'}"
        )
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

    duplicates = sum(count - 1 for count in Counter(sent_ids).values() if count > 1)
    base = args.rows / results["1 worker (baseline)"]
    print(
        f"{args.rows} due DMs per run on {'PostgreSQL' if database.startswith('postgresql') else 'SQLite'}; fake Slack in its own process"
    )
    for label, seconds in results.items():
        rate = args.rows / seconds
        print(f"{label:24} {seconds:7.2f} s  {rate:8.1f} rows/s  {rate / base:5.2f}x baseline")
    print(f"messages posted: {len(sent_ids)} (expected {2 * args.rows}); sent twice: {duplicates}")
    return 0 if duplicates == 0 and len(sent_ids) == 2 * args.rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
