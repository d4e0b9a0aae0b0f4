"""Shape of the labelled promise-spotting set (tests/data/promise_sentences.jsonl).

The set is written before any detector is tuned; these tests only hold its shape, so that
the benchmark's precision and recall mean something.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

SET_PATH = Path(__file__).parent / "data" / "promise_sentences.jsonl"

OFFER_KINDS = {"commitment_with_time"}
NONE_KINDS = {
    "commitment_without_time",
    "request_to_others",
    "others_promise",
    "past_tense",
    "negation_refusal",
    "conditional",
    "quoted_speech",
    "absence",
    "figure_of_speech",
    "schedule_statement",
    "question",
    "small_talk",
}
MIN_LINES = 300
MIN_OFFERS = 120
MIN_PER_NONE_KIND = 12
HOLDOUT_SHARE = (0.25, 0.35)
FIELDS = {"text", "label", "kind", "split", "due"}


def load(path: Path = SET_PATH) -> list[dict[str, Any]]:
    """Every non-blank line as a JSON object; a bad line fails with its line number."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise AssertionError(f"line {number} is not JSON: {error}") from error
        assert isinstance(row, dict), f"line {number} is not an object"
        rows.append(row)
    return rows


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def row_problems(row: dict[str, Any]) -> list[str]:
    """What is wrong with one row (empty when it is well formed)."""
    problems = []
    if set(row) - FIELDS:
        problems.append(f"unknown fields {sorted(set(row) - FIELDS)}")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        return [*problems, "text missing or empty"]
    label, kind = row.get("label"), row.get("kind")
    if row.get("split") not in {"tune", "holdout"}:
        problems.append(f"split {row.get('split')!r}")
    if label == "offer":
        if kind not in OFFER_KINDS:
            problems.append(f"offer with kind {kind!r}")
        due = row.get("due")
        if not isinstance(due, str) or not due.strip():
            problems.append("offer without due")
        elif due.casefold() not in text.casefold():
            problems.append(f"due {due!r} is not in the text")
    elif label == "none":
        if kind not in NONE_KINDS:
            problems.append(f"none with kind {kind!r}")
        if "due" in row:
            problems.append("due on a non-offer")
    else:
        problems.append(f"label {label!r}")
    return problems


def set_problems(rows: list[dict[str, Any]]) -> list[str]:
    """What is wrong with the set as a whole: size, per-kind counts, holdout, duplicates."""
    problems = []
    if len(rows) < MIN_LINES:
        problems.append(f"{len(rows)} lines, want at least {MIN_LINES}")
    kinds = Counter(row.get("kind") for row in rows)
    offers = sum(1 for row in rows if row.get("label") == "offer")
    if offers < MIN_OFFERS:
        problems.append(f"{offers} offers, want at least {MIN_OFFERS}")
    for kind in sorted(NONE_KINDS):
        if kinds[kind] < MIN_PER_NONE_KIND:
            problems.append(f"{kind}: {kinds[kind]} lines, want at least {MIN_PER_NONE_KIND}")
    holdout = Counter(row.get("kind") for row in rows if row.get("split") == "holdout")
    for kind in sorted(OFFER_KINDS | NONE_KINDS):
        if kinds[kind] and not holdout[kind]:
            problems.append(f"{kind}: nothing held out")
    share = sum(holdout.values()) / len(rows) if rows else 0.0
    low, high = HOLDOUT_SHARE
    if not low <= share <= high:
        problems.append(f"holdout share {share:.2f}, want {low}..{high}")
    seen: dict[str, str] = {}
    for row in rows:
        key = _normal(str(row.get("text", "")))
        if key in seen:
            problems.append(f"duplicate text {row.get('text')!r}")
        seen[key] = str(row.get("text"))
    return problems


def test_every_row_is_well_formed() -> None:
    problems = {row["text"]: row_problems(row) for row in load() if row_problems(row)}
    assert problems == {}


def test_the_set_has_its_size_balance_holdout_and_no_duplicates() -> None:
    assert set_problems(load()) == []


# The checks above must be able to fail: each of these rows or sets is wrong in one way.
GOOD_OFFER = {"text": "will send it by Friday", "label": "offer", "kind": "commitment_with_time"}


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({**GOOD_OFFER, "split": "tune"}, "offer without due"),
        ({**GOOD_OFFER, "split": "tune", "due": "  "}, "offer without due"),
        ({**GOOD_OFFER, "split": "tune", "due": "by Monday"}, "is not in the text"),
        ({**GOOD_OFFER, "split": "train", "due": "by Friday"}, "split"),
        ({**GOOD_OFFER, "split": "tune", "due": "by Friday", "kind": "past_tense"}, "offer with kind"),
        ({"text": "lol", "label": "none", "kind": "chitchat", "split": "tune"}, "none with kind"),
        ({"text": "lol", "label": "maybe", "kind": "small_talk", "split": "tune"}, "label"),
        ({"text": "lol", "label": "none", "kind": "small_talk", "split": "tune", "due": "x"}, "due on"),
        ({"text": " ", "label": "none", "kind": "small_talk", "split": "tune"}, "text missing"),
        ({"text": "hi", "label": "none", "kind": "small_talk", "split": "tune", "style": "x"}, "unknown"),
    ],
)
def test_a_bad_row_is_caught(row: dict[str, Any], problem: str) -> None:
    assert any(problem in found for found in row_problems(row))


def test_a_good_row_passes() -> None:
    assert row_problems({**GOOD_OFFER, "split": "holdout", "due": "BY FRIDAY"}) == []


def test_a_duplicate_differing_only_in_case_and_spaces_is_caught() -> None:
    rows = load()
    rows.append({**rows[0], "text": "  " + rows[0]["text"].upper().replace(" ", "   ")})
    assert any("duplicate" in problem for problem in set_problems(rows))


def test_a_short_set_is_caught() -> None:
    problems = set_problems(load()[:200])
    assert any("lines, want at least" in problem for problem in problems)


def test_a_kind_below_its_minimum_or_without_holdout_is_caught() -> None:
    rows = [row for row in load() if not (row["kind"] == "absence" and row["split"] == "holdout")]
    assert "absence: nothing held out" in set_problems(rows)
    quoted = [row for row in load() if row["kind"] == "quoted_speech"]
    rows = [row for row in load() if row["kind"] != "quoted_speech"] + quoted[:5]
    assert any(problem.startswith("quoted_speech: 5 lines") for problem in set_problems(rows))


def test_a_lopsided_holdout_is_caught() -> None:
    for split in ("tune", "holdout"):
        rows = [{**row, "split": split} for row in load()]
        assert any("holdout share" in problem for problem in set_problems(rows))


def test_too_few_offers_are_caught() -> None:
    rows = [row for row in load() if row["label"] == "none"] * 2
    assert any(problem.startswith("0 offers") for problem in set_problems(rows))


def test_a_line_that_is_not_json_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "set.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": oops}\n', encoding="utf-8")
    with pytest.raises(AssertionError, match="line 2 is not JSON"):
        load(bad)
