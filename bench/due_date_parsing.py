"""What reading a promise's due time costs as the promise grows, against a short one in the same run.

`split_due` tries only the last few words as the due phrase (MAX_DUE_WORDS), so the cost must stay
flat however long the text; it used to grow with the square of the length ("on " repeated 800 times: 11 s).
The texts are the worst case: every word looks like the start of a date.

    python bench/due_date_parsing.py
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.services.due_dates import split_due, warm_up

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
REPEATS = 7


def cost(text: str) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        split_due(text, now=NOW, tz="America/Los_Angeles")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    warm_up()
    baseline_text = "send the deck by Friday 3pm"
    baseline = cost(baseline_text)
    print(f"{'characters':>10} {'words':>6} {'median ms':>10} {'/ baseline':>11}")
    print(
        f"{len(baseline_text):>10} {len(baseline_text.split()):>6} {baseline * 1e3:10.2f} {1.0:11.2f}  (baseline)"
    )
    for words in (25, 50, 100, 200):  # 600 characters is the most /promise reads at all
        text = "on " * words + "by Friday 3pm"
        seconds = cost(text)
        print(f"{len(text):>10} {len(text.split()):>6} {seconds * 1e3:10.2f} {seconds / baseline:11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
