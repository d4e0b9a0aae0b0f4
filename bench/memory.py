"""Memory: idle and peak RSS of `extramile run` against a bare Bolt app served the same way, in the same run
(issue #12, benchmark 4).

Four processes: a fake Slack, the server under test, and this load generator. Each server is started,
answers one request, rests, and its resident memory is read from /proc (VmRSS: idle). Then it takes a
closed-loop burst of signed `/kudos` requests (REQUESTS, CONCURRENCY in flight: benchmark 1's closed
loop, every request on its full path with an unlimited allowance), and its high-water mark is read
(VmHWM: peak). The baseline is bench/bare_bolt.py: a sync Bolt app that only acks, served the same way.

It also lists which heavy libraries `extramile run` has loaded by the time it is idle, and what each
costs on its own in a fresh interpreter (charts and date parsing are meant to load when first needed).

    python bench/memory.py [--requests 1000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from servers import SECRET, TEAM, clean_env, free_port, kudos_form, serve_fake, wait_for  # noqa: E402

REST_SECONDS = 3.0
# Libraries that weigh on a process, and the module that loads each.
HEAVY = {
    "matplotlib": "matplotlib.pyplot",
    "dateparser": "dateparser",
    "PIL": "PIL.Image",
    "numpy": "numpy",
    "microsoft_agents": "microsoft_agents.hosting.core",
    "sqlalchemy": "sqlalchemy.orm",
    # Loaded at start by what `extramile run` is: migrations checked (/readyz), the scheduler, metrics,
    # settings. Each figure is alone, in a fresh interpreter: shared dependencies count in each.
    "alembic": "alembic.script",
    "apscheduler": "apscheduler.schedulers.background",
    "prometheus_client": "prometheus_client",
    "pydantic_settings": "pydantic_settings",
}


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of `pid` and its children (kB), from /proc."""
    totals = {"VmRSS": 0, "VmHWM": 0}
    for each in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in totals:
                    totals[key] += int(value.split()[0])
        except FileNotFoundError:
            continue
    return totals


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def burst(url: str, slack_url: str, requests: int, concurrency: int) -> tuple[int, float]:
    """Signed /kudos with a real recipient, closed loop: (answers that were not 200, seconds taken)."""
    from handlers.slack.signed_requests import SignedSender

    sender = SignedSender(url, SECRET)

    def one(_: int) -> int:
        form = kudos_form(slack_url, "<@U0ANA|ana> thanks for the bench", trigger_id=uuid.uuid4().hex)
        return 0 if sender.command(form).status == 200 else 1

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        failed = sum(pool.map(one, range(requests)))
    return failed, time.perf_counter() - started


def measure(
    label: str, start: Callable[[int], subprocess.Popen[str]], slack_url: str, requests: int, concurrency: int
) -> dict[str, float]:
    port = free_port()
    process = start(port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url, process)
        burst(url, slack_url, 1, 1)  # one request, so both have met a first request
        time.sleep(REST_SECONDS)
        idle = memory_kib(process.pid)["VmRSS"]
        failed, seconds = burst(url, slack_url, requests, concurrency)
        peak = memory_kib(process.pid)["VmHWM"]
    finally:
        process.terminate()
        process.wait(60)
    return {"idle": idle / 1024, "peak": peak / 1024, "failed": failed, "seconds": seconds}


def loaded_at_idle(slack_url: str, database: str) -> list[str]:
    """The heavy libraries an app built as `extramile run` builds it has loaded before any request."""
    code = (
        "import sys, json\n"
        "from pydantic import SecretStr\n"
        "from bot.app import build_app\n"
        "from bot.settings import Settings\n"
        f"s = Settings(SLACK_BOT_TOKEN=SecretStr('xoxb-bench'), SLACK_SIGNING_SECRET=SecretStr('{SECRET}'),"
        f" SLACK_API_URL='{slack_url}', DATABASE_URL='{database}', _env_file=None)\n"
        "app = build_app(s)\n"
        f"print(json.dumps([name for name in {list(HEAVY)!r} if name in sys.modules]))\n"
        "app.workers.shutdown()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=clean_env(), check=True
    )
    import json

    names: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return names


def import_cost_mib(module: str) -> float:
    """What importing `module` adds to a fresh interpreter's resident memory."""
    code = (
        "import pathlib\n"
        "def rss():\n"
        "    for line in pathlib.Path('/proc/self/status').read_text().splitlines():\n"
        "        if line.startswith('VmRSS:'): return int(line.split()[1])\n"
        "before = rss()\n"
        f"import {module}\n"
        "print(rss() - before)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=clean_env()
    )
    return int(result.stdout.strip() or 0) / 1024


def main(requests: int, concurrency: int) -> int:
    me = [sys.executable, str(Path(__file__).resolve())]
    fake = subprocess.Popen([*me, "--serve-fake"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert fake.stdout and fake.stdin
    slack_url = fake.stdout.readline().strip()
    try:
        with tempfile.TemporaryDirectory() as folder:
            database = f"sqlite:///{Path(folder) / 'bench.db'}"
            env = clean_env(
                SLACK_BOT_TOKEN="xoxb-bench",
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_API_URL=slack_url,
                DATABASE_URL=database,
                LOG_LEVEL="WARNING",
            )
            cli = [sys.executable, "-m", "bot.cli"]
            subprocess.run([*cli, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
            # Every request takes the full path: no allowance stops a kudos.
            subprocess.run(
                [*cli, "workspace", TEAM, "--allowance", "0"],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )

            def bare(port: int) -> subprocess.Popen[str]:
                bare_bolt = str(Path(__file__).resolve().parent / "bare_bolt.py")
                return subprocess.Popen(
                    [sys.executable, bare_bolt, str(port), slack_url, SECRET], env=clean_env(), text=True
                )

            def extramile(port: int) -> subprocess.Popen[str]:
                return subprocess.Popen([*cli, "run"], env={**env, "PORT": str(port)}, cwd=ROOT, text=True)

            runs = {
                "bare Bolt app (baseline)": measure("bare", bare, slack_url, requests, concurrency),
                "extramile run (SQLite)": measure("extramile", extramile, slack_url, requests, concurrency),
            }
            heavy = loaded_at_idle(slack_url, database)
    finally:
        fake.stdin.close()
        fake.wait(30)

    base = runs["bare Bolt app (baseline)"]
    print(f"resident memory; {requests} signed /kudos, {concurrency} in flight, closed loop")
    print(f"{'':26} {'idle MiB':>9} {'peak MiB':>9} {'not 200':>8} {'idle / base':>12} {'peak / base':>12}")
    for label, run in runs.items():
        print(
            f"{label:26} {run['idle']:9.1f} {run['peak']:9.1f} {int(run['failed']):8d} "
            f"{run['idle'] / base['idle']:12.2f} {run['peak'] / base['peak']:12.2f}"
        )
    print("\nheavy libraries loaded by `extramile run` before its first request, and what each costs alone:")
    for name, module in HEAVY.items():
        state = "loaded at start" if name in heavy else "loaded when first needed"
        print(f"  {name:18} {import_cost_mib(module):7.1f} MiB  {state}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake()
    else:
        raise SystemExit(main(args.requests, args.concurrency))
