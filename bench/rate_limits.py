"""Delivery under Slack's rate limits (issue #12, benchmark 3): the rate the outbox achieves as a share of
the rate Slack allows, with 1 and with 2 workers on PostgreSQL, and rows lost or sent twice (must be 0).

Enqueues N due promise DMs (confirmations and due-time reminders) to a few hundred
people, in a shuffled order so several DMs share a conversation. A fake Slack in its own process limits
chat.postMessage as Slack does: about one post a second per conversation after a short burst, a
workspace-wide cap after a burst of one second's worth, and 429 with Retry-After past either. Each
worker is a process running the product's own scheduler (bot.scheduler, its deliver job only, on the
wall clock) until every row is sent. The baseline is what the limits allow for this mix, computed from
them: a sender can do no better. Needs PostgreSQL at 127.0.0.1:5432 (a database of its own, dropped at
the end).

    python bench/rate_limits.py [--rows 10000] [--people 400] [--cap 50] [--workers 2]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.synchronize
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from databases import bench_settings, postgres_database  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.scheduler import DELIVER_EVERY_SECONDS, build_scheduler  # noqa: E402
from bot.services.promises import PromiseRequest  # noqa: E402
from handlers.slack.fake_api import FakeSlack  # noqa: E402
from storage import outbox as outbox_store  # noqa: E402
from storage.db import create_db_engine, unit_of_work, upgrade  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402

TEAM = "T0001"
GIVER = "U0GIVER"
# Promise DMs that go out whatever the hour (the bench runs on the wall clock): the confirmation, and
# the reminder at the time the promiser chose. Word to people waiting would wait for their working hours.
STAGES = ("made", "due")


@dataclass(frozen=True)
class Limits:
    workspace: float
    per_channel: float
    channel_burst: int

    @property
    def workspace_burst(self) -> int:
        return max(1, round(self.workspace))  # the fake's default: one second's worth

    def fastest(self, per_conversation: Counter[str]) -> float:
        """The shortest time in which any sender could post this mix within both limits (seconds)."""
        total = sum(per_conversation.values())
        workspace = max(total - self.workspace_burst, 0) / self.workspace
        busiest = max(per_conversation.values())
        return max(workspace, max(busiest - self.channel_burst, 0) / self.per_channel)


@dataclass(frozen=True)
class Run:
    label: str
    workers: int
    seconds: float
    unsent: int
    accepted: list[int]
    refused: int
    row_ids: list[int]


def person(n: int) -> str:
    return f"U{n:04d}"


def serve_fake(
    people: int,
    limits: Limits,
    out: multiprocessing.connection.Connection,
    stop: multiprocessing.synchronize.Event,
) -> None:
    """The fake Slack with the limits on, until `stop`; then what it accepted and how often it refused."""
    with FakeSlack(team_id=TEAM) as fake:
        for n in range(people):
            fake.add_user(person(n), f"person{n}", tz="Europe/London")
        fake.add_user(GIVER, "gia", tz="Europe/London")
        fake.limit_posts(
            per_channel=limits.per_channel, channel_burst=limits.channel_burst, workspace=limits.workspace
        )
        out.send(fake.url)
        stop.wait()
        posts = fake.calls_to("chat.postMessage")
        accepted = [c.params["metadata"]["event_payload"]["outbox_id"] for c in posts if c.ok]
        out.send((accepted, sum(1 for c in posts if c.status == 429)))


def work(
    database: str,
    slack_url: str,
    interval: float,
    ready: multiprocessing.synchronize.Barrier,
    done: multiprocessing.synchronize.Event,
) -> None:
    """One replica's delivery: the product's scheduler with its deliver job, on the wall clock."""
    # A pass still running when the next is due is skipped, by design: not worth a line each time here.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    app = build_app(bench_settings(database, slack_url))
    scheduler = build_scheduler(app.services.delivery)
    scheduler.remove_job("plan")  # every row is written already; planning would only add the bench's own
    scheduler.reschedule_job("deliver", trigger="interval", seconds=interval)
    ready.wait()
    scheduler.start()
    scheduler.modify_job("deliver", next_run_time=datetime.now(UTC))
    done.wait()
    app.services.delivery.stop(timeout=30)
    scheduler.shutdown(wait=False)
    app.workers.shutdown()


def fill(database: str, slack_url: str, rows: int, people: int, batch: str) -> tuple[list[int], Counter[str]]:
    """`rows` due promise DMs to `people` people, shuffled; their ids and how many each conversation gets."""
    app = build_app(bench_settings(database, slack_url))
    promises = [
        app.services.promises.make(
            PromiseRequest(
                team_id=TEAM,
                promiser_id=GIVER,
                dedupe_key=f"bench:{batch}:{n}",
                contact_name=f"Client {n}",
                text=f"call {n} next year",
            )
        ).promise
        for n in range(5)
    ]
    recipients = [person(n % people) for n in range(rows)]
    random.Random(12).shuffle(recipients)
    now = datetime.now(UTC) - timedelta(seconds=1)
    with unit_of_work(app.sessions) as session:
        for n, recipient in enumerate(recipients):
            promise = promises[n % len(promises)]
            outbox_store.enqueue(
                session,
                team_id=TEAM,
                dedupe_key=f"promise:{promise.id}:bench:{batch}:{n}",
                kind="promise.notice",
                recipient_id=recipient,
                payload={
                    "promise_id": promise.id,
                    "stage": STAGES[n % len(STAGES)],
                    "version": promise.version,
                },
                deliver_after=now,
                created_at=now,
            )
    with unit_of_work(app.sessions) as session:
        ids = list(
            session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.dedupe_key.like(f"%:bench:{batch}:%"))
            )
        )
    app.workers.shutdown()
    app.engine.dispose()
    return ids, Counter(recipients)


def drain(
    database: str, args: argparse.Namespace, limits: Limits, workers: int, label: str
) -> tuple[Run, Counter[str]]:
    """A fresh fake Slack (full buckets), fresh rows, then `workers` processes until every row is sent."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    stop = context.Event()
    fake = context.Process(target=serve_fake, args=(args.people, limits, send, stop))
    fake.start()
    slack_url = receive.recv()
    row_ids, per_conversation = fill(database, slack_url, args.rows, args.people, label.split()[0])
    ready = context.Barrier(workers + 1)
    done = context.Event()
    processes = [
        context.Process(target=work, args=(database, slack_url, args.interval, ready, done))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    engine = create_db_engine(database)
    unsent = select(func.count()).where(
        OutboxMessage.id.in_(row_ids), OutboxMessage.status != outbox_store.SENT
    )
    deadline = 4 * limits.fastest(per_conversation) + 60
    try:
        ready.wait()
        started = time.perf_counter()
        while True:
            with engine.connect() as connection:
                left = int(connection.execute(unsent).scalar_one())
            seconds = time.perf_counter() - started
            if left == 0 or seconds > deadline:
                break
            time.sleep(0.1)
    finally:
        done.set()
        for process in processes:
            process.join(60)
        stop.set()
        accepted, refused = receive.recv()
        fake.join()
        engine.dispose()
    return Run(label, workers, seconds, left, accepted, refused, row_ids), per_conversation


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="due DMs per run")
    parser.add_argument("--people", type=int, default=400, help="people they go to (one conversation each)")
    parser.add_argument("--cap", type=float, default=50.0, help="workspace-wide posts a second")
    parser.add_argument("--per-channel", type=float, default=1.0, help="posts a second in one conversation")
    parser.add_argument("--channel-burst", type=int, default=3, help="posts at once in one conversation")
    parser.add_argument("--workers", type=int, default=2, help="worker processes in the second run")
    parser.add_argument(
        "--interval", type=float, default=DELIVER_EVERY_SECONDS, help="seconds between the scheduler's passes"
    )
    args = parser.parse_args()
    limits = Limits(workspace=args.cap, per_channel=args.per_channel, channel_burst=args.channel_burst)

    with postgres_database() as database:
        engine = create_db_engine(database)
        upgrade(engine)
        engine.dispose()
        runs = []
        for label, workers in (("1 worker", 1), (f"{args.workers} workers", args.workers)):
            run, per_conversation = drain(database, args, limits, workers, label)
            runs.append(run)

    fastest = limits.fastest(per_conversation)
    allowed = args.rows / fastest
    by_conversation = (
        args.rows / max(max(per_conversation.values()) - limits.channel_burst, 1) * limits.per_channel
    )
    print(
        f"{args.rows} due promise DMs to {args.people} people (at most {max(per_conversation.values())} each), "
        f"PostgreSQL; fake Slack in its own process"
    )
    print(
        f"limits: workspace {limits.workspace:g}/s after a burst of {limits.workspace_burst}; each conversation "
        f"{limits.per_channel:g}/s after a burst of {limits.channel_burst} (allows {by_conversation:.0f}/s for this mix)"
    )
    print(
        f"allowed: {args.rows} in {fastest:.1f} s at best = {allowed:.1f}/s; scheduler pass every {args.interval:g} s"
    )
    print()
    header = f"{'run':<12} {'seconds':>8} {'sent/s':>8} {'allowed/s':>10} {'share':>7} {'429s':>6} {'lost':>9} {'twice':>6}"
    print(header)
    failed = False
    for run in runs:
        accepted = Counter(run.accepted)
        never_posted = sum(1 for row_id in run.row_ids if row_id not in accepted)
        twice = sum(count - 1 for count in accepted.values() if count > 1)
        rate = (args.rows - run.unsent) / run.seconds
        share = rate / allowed
        lost = f"{run.unsent}/{never_posted}"
        print(
            f"{run.label:<12} {run.seconds:8.1f} {rate:8.1f} {allowed:10.1f} {share:6.1%} {run.refused:6d} {lost:>9} {twice:6d}"
        )
        failed |= run.unsent > 0 or never_posted > 0 or twice > 0
    print("lost: rows not sent in the database / rows Slack never accepted; twice: rows Slack accepted twice")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
