"""Ack latency of `extramile run` against the framework's floor (issue #12, benchmark 1).

Signed `/kudos` requests, and a second run with `reaction_added` events (the burst after an all-hands),
against `extramile run` on SQLite and on PostgreSQL, and against bench/bare_bolt.py (a Bolt app that only
acks, served the same way). Two shapes:
- open loop: a fixed rate (20/s and 60/s) for SECONDS, each request's latency counted from the moment
  it was scheduled, so a stalled server cannot hide behind a slow sender;
- closed loop: CONCURRENCY in flight, CLOSED requests.
Every request takes the full path: an unlimited allowance, a real recipient, each reaction on a message
of its own. Reported: p50/p95/p99, answers later than 3 s, failures (not a 200), kudos posted per
second (until the last kudos of the run is posted), and p99 against the bare app's in the same shape.

    python bench/ack_latency.py [--seconds 20] [--rates 20,60] [--closed 1000] [--concurrency 50]
                                [--databases sqlite,postgres] [--kinds kudos,reaction]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from databases import postgres_database  # noqa: E402
from servers import SECRET, TEAM, clean_env, free_port, kudos_form, serve_fake, wait_for  # noqa: E402

SLACK_BUDGET = 3.0
POSTED_WAIT = 180.0
WARM_UP = 5


@dataclass
class Result:
    latencies: list[float]
    failed: int
    posted: int
    expected: int
    posting_seconds: float

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh, migrated database of that kind, with an unlimited allowance; dropped afterwards."""

    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            _prepare(url)
            yield url
        return
    with postgres_database() as url:
        _prepare(url)
        yield url


def _prepare(url: str) -> None:
    env = clean_env(DATABASE_URL=url)
    cli = [sys.executable, "-m", "bot.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [*cli, "workspace", TEAM, "--allowance", "0"], env=env, cwd=ROOT, check=True, capture_output=True
    )


def posted_kudos(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(text("SELECT count(*) FROM kudos WHERE status = 'posted'")).scalar() or 0
            )
    finally:
        engine.dispose()


def sender_for(kind: str, url: str, slack_url: str) -> Callable[[int], int]:
    """One signed request of `kind` (numbered, so each is a kudos of its own): its HTTP status."""
    from handlers.slack.signed_requests import SignedSender, event_callback

    sender = SignedSender(url, SECRET)
    run = uuid.uuid4().hex[:6]

    def kudos(number: int) -> int:
        form = kudos_form(
            slack_url, "<@U0ANA|ana> thanks for the all-hands demo", trigger_id=f"{run}.{number}"
        )
        return int(sender.command(form).status)

    def reaction(number: int) -> int:
        ts = f"1795014000.{number:06d}"
        event = {
            "type": "reaction_added",
            "user": "U0GIVER",
            "reaction": "clap",
            "item_user": "U0ANA",
            "item": {"type": "message", "channel": "C0GENERAL", "ts": ts},
            "event_ts": f"{time.time():.6f}",
        }
        envelope = event_callback(TEAM, event, event_id=f"Ev{run}{number}", app_id="A0BENCH")
        return int(sender.event(envelope).status)

    return kudos if kind == "kudos" else reaction


def open_loop(send: Callable[[int], int], rate: float, seconds: float) -> tuple[list[float], int]:
    """Request i is due at start + i / rate; its latency runs from then, however late it was sent."""
    count = int(rate * seconds)
    latencies: list[float] = [0.0] * count
    failures = [0]
    lock = threading.Lock()
    start = time.perf_counter() + 0.5

    def one(number: int) -> None:
        due = start + number / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            ok = send(number) == 200
        except OSError:
            ok = False
        latencies[number] = time.perf_counter() - due
        if not ok:
            with lock:
                failures[0] += 1

    # Enough senders that none waits for a free one at the highest rate and a 3 s stall.
    with ThreadPoolExecutor(max(64, int(rate * 4))) as pool:
        list(pool.map(one, range(count)))
    return latencies, failures[0]


def closed_loop(send: Callable[[int], int], requests: int, concurrency: int) -> tuple[list[float], int]:
    def one(number: int) -> tuple[float, bool]:
        started = time.perf_counter()
        try:
            ok = send(number) == 200
        except OSError:
            ok = False
        return time.perf_counter() - started, ok

    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(requests)))
    return [seconds for seconds, _ in results], sum(1 for _, ok in results if not ok)


def run_one(
    server: str, db: str | None, kind: str, shape: tuple[str, float, float], slack_url: str
) -> Result:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if server == "bare":
        process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve().parent / "bare_bolt.py"),
                str(port),
                slack_url,
                SECRET,
            ],
            env=clean_env(),
            text=True,
        )
    else:
        assert db is not None
        env = clean_env(
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack_url,
            DATABASE_URL=db,
            LOG_LEVEL="WARNING",
            PORT=str(port),
        )
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=ROOT, text=True)
    try:
        wait_for(url, process)
        send = sender_for(kind, url, slack_url)
        for number in range(WARM_UP):  # first requests, outside the measure
            send(10_000_000 + number)
        if db is not None:  # their kudos posted before the clock starts
            deadline = time.monotonic() + 30
            while posted_kudos(db) < WARM_UP and time.monotonic() < deadline:
                time.sleep(0.1)
        before = posted_kudos(db) if db else 0
        name, a, b = shape
        started = time.perf_counter()
        if name == "open":
            latencies, failed = open_loop(send, a, b)
        else:
            latencies, failed = closed_loop(send, int(a), int(b))
        expected = len(latencies) - failed
        posted, seconds = 0, 0.0
        if db is not None:
            deadline = time.monotonic() + POSTED_WAIT
            while True:
                posted = posted_kudos(db) - before
                if posted >= expected or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            seconds = time.perf_counter() - started
        return Result(latencies, failed, posted, expected, seconds)
    finally:
        process.terminate()
        process.wait(60)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rates", default="20,60")
    parser.add_argument("--closed", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--kinds", default="kudos,reaction")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake()
        return 0
    shapes = [("open", float(rate), args.seconds) for rate in args.rates.split(",")]
    shapes.append(("closed", float(args.closed), float(args.concurrency)))
    rows: list[tuple[str, str, str, Result]] = []
    bare: dict[tuple[str, str], Result] = {}
    fake = subprocess.Popen(
        [sys.executable, __file__, "--serve-fake"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert fake.stdout and fake.stdin
    slack_url = fake.stdout.readline().strip()
    try:
        for kind in args.kinds.split(","):
            for shape in shapes:
                label = _shape(shape)
                bare[(kind, label)] = run_one("bare", None, kind, shape, slack_url)
                rows.append(("bare Bolt app", kind, label, bare[(kind, label)]))
                for db_kind in args.databases.split(","):
                    with database(db_kind) as db:
                        result = run_one("extramile", db, kind, shape, slack_url)
                    rows.append((f"extramile ({db_kind})", kind, label, result))
    finally:
        fake.stdin.close()
        fake.wait(30)

    print("signed requests; app, fake Slack and load generator in their own processes")
    print(
        f"{'server':20} {'kind':9} {'shape':26} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'>3 s':>5} "
        f"{'failed':>6} {'posted':>11} {'kudos/s':>8} {'p99/bare':>9}"
    )
    for server, kind, label, result in rows:
        base = bare[(kind, label)]
        is_bare = server == "bare Bolt app"
        rate = "-" if is_bare else f"{result.posted / result.posting_seconds:.1f}"
        posted = "-" if is_bare else f"{result.posted}/{result.expected}"
        print(
            f"{server:20} {kind:9} {label:26} {statistics.median(result.latencies) * 1e3:8.1f} "
            f"{result.pct(95) * 1e3:8.1f} {result.pct(99) * 1e3:8.1f} "
            f"{sum(1 for v in result.latencies if v > SLACK_BUDGET):5d} {result.failed:6d} {posted:>11} "
            f"{rate:>8} {result.pct(99) / base.pct(99):9.2f}"
        )
    print(json.dumps({"cores": os.cpu_count(), "python": sys.version.split()[0]}))
    return 0


def _shape(shape: tuple[str, float, float]) -> str:
    name, a, b = shape
    return f"open {a:g}/s for {b:g} s" if name == "open" else f"closed {int(a)}, {int(b)} in flight"


if __name__ == "__main__":
    raise SystemExit(main())
