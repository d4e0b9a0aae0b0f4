"""How well, and at what cost, promise spotting reads the labelled set (tests/data/promise_sentences.jsonl).

Precision and recall on the tune part, the holdout part and the whole set; the cost per message of the
detector against a baseline measured in the same run (casefold and one regex search over the same texts);
and the cost on a 4,000-character message. Only the tune part's misses and false offers are printed: the
holdout is never read while rules are written.

    python bench/promise_spotting.py
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.services.due_dates import warm_up
from bot.services.spotting import spot_promise
from tests.test_promise_sentences import load

NOW = datetime(2026, 11, 17, 8, 30, tzinfo=UTC)  # a Tuesday morning: every due phrase in the set is ahead
TZ = "Europe/London"
REPEATS = 5
_BASELINE = re.compile(r"\b(?:i'll|will)\b")


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    tp = fp = fn = 0
    false_offers, missed = [], []
    for row in rows:
        offered, wanted = spot_promise(row["text"], now=NOW, tz=TZ) is not None, row["label"] == "offer"
        tp += offered and wanted
        if offered and not wanted:
            fp += 1
            false_offers.append(row)
        if wanted and not offered:
            fn += 1
            missed.append(row)
    return {
        "lines": len(rows),
        "offers": sum(row["label"] == "offer" for row in rows),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": tp / max(1, tp + fp),
        "recall": tp / max(1, tp + fn),
        "false_offers": false_offers,
        "missed": missed,
    }


def microseconds(texts: list[str], read: Callable[[str], object]) -> list[float]:
    """The median over REPEATS runs of each text's cost, in microseconds."""
    runs: list[list[float]] = [[] for _ in texts]
    for _ in range(REPEATS):
        for index, text in enumerate(texts):
            started = time.perf_counter()
            read(text)
            runs[index].append((time.perf_counter() - started) * 1e6)
    return [statistics.median(run) for run in runs]


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main() -> int:
    warm_up()
    rows = load()
    parts = {
        "tune": [row for row in rows if row["split"] == "tune"],
        "holdout": [row for row in rows if row["split"] == "holdout"],
        "all": rows,
    }
    scores = {name: score(part) for name, part in parts.items()}
    print(
        f"{'part':<8} {'lines':>6} {'offers':>7} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>10} {'recall':>7}"
    )
    for name, found in scores.items():
        print(
            f"{name:<8} {found['lines']:>6} {found['offers']:>7} {found['tp']:>4} {found['fp']:>4} {found['fn']:>4}"
            f" {found['precision']:>10.3f} {found['recall']:>7.3f}"
        )

    texts = [row["text"] for row in rows]
    detector = microseconds(texts, lambda text: spot_promise(text, now=NOW, tz=TZ))
    baseline = microseconds(texts, lambda text: _BASELINE.search(text.casefold()))
    walls = {
        # a status update with its promise early on
        "promise early": "Thanks all. I'll send the notes by Friday. "
        + "The rollout went fine today. " * 140,
        # the worst case: every sentence has a commitment cue and a time, and none is an offer
        "all near-misses": "I'll be out tomorrow, back on Monday at 9. " * 100,
    }
    wall_costs = {
        name: statistics.median(microseconds([text[:4000]], lambda text: spot_promise(text, now=NOW, tz=TZ)))
        for name, text in walls.items()
    }
    print()
    print(f"{'cost per message (µs)':<24} {'median':>8} {'p99':>9}")
    print(f"{'detector':<24} {statistics.median(detector):>8.1f} {p99(detector):>9.1f}")
    print(f"{'baseline (casefold+re)':<24} {statistics.median(baseline):>8.1f} {p99(baseline):>9.1f}")
    print(
        f"{'ratio':<24} {statistics.median(detector) / statistics.median(baseline):>8.1f}"
        f" {p99(detector) / p99(baseline):>9.1f}"
    )
    for name, cost in wall_costs.items():
        print(f"{'4,000 chars, ' + name:<24} {cost:>8.1f}")

    tune = scores["tune"]
    print("\ntune: false offers")
    for row in tune["false_offers"]:
        print(f"  [{row['kind']}] {row['text']!r}")
    print("tune: missed offers")
    for row in tune["missed"]:
        print(f"  {row['text']!r} (due {row['due']!r})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
