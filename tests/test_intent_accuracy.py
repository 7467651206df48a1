"""Accuracy of the intent classifier on a realistic corpus (``tests/intent_cases/classify``): the floor
issue #11 sets is 97 % correct overall; the held-out parts (never tuned on) are reported on their own by
``python -m tests.test_intent_accuracy``."""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.catalog.models import ModelCatalog
from core.intent import Understanding, understand
from core.types import Attachment, AttachmentKind

CORPUS = Path(__file__).parent / "intent_cases" / "classify"
CATALOG = ModelCatalog.load_default()
FLOOR = 0.97
PARTS = ("tuned", "heldout", "heldout_final")


@dataclass(frozen=True)
class Outcome:
    part: str
    case: dict[str, Any]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _cases(part: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = tomllib.loads((CORPUS / f"{part}.toml").read_text(encoding="utf-8"))["case"]
    return cases


def _check(case: dict[str, Any]) -> tuple[str, ...]:
    images = tuple(
        Attachment(AttachmentKind.IMAGE, f"p{i}.png", f"https://files.test/p{i}.png")
        for i in range(int(case.get("images", 0)))
    )
    u: Understanding = understand(case["text"], images, catalog=CATALOG)
    found: dict[str, Any] = {
        "intent": u.intent.value,
        "answer": u.answer.value if u.answer else None,
        "follow_up": u.follow_up.value if u.follow_up else None,
        "prefs": u.prefs.value if u.prefs else None,
    }
    if u.request is not None:
        found |= {
            "task_type": u.request.task_type.value,
            "model_id": u.request.model_id,
            "params": dict(u.request.params),
        }
    problems = []
    for key in ("intent", "answer", "follow_up", "prefs", "task_type", "model_id", "params"):
        if key in case:
            expected = case[key] if case[key] != "" else None
            if found.get(key) != expected:
                problems.append(f"{key}: expected {expected!r}, got {found.get(key)!r}")
    return tuple(problems)


def evaluate(part: str) -> list[Outcome]:
    return [Outcome(part, case, _check(case)) for case in _cases(part)]


def test_corpus_is_big_and_varied_enough() -> None:
    cases = [case for part in PARTS for case in _cases(part)]
    assert len(cases) >= 300
    assert sum(1 for c in cases if c["intent"] != "generate") >= 80
    assert {c["intent"] for c in cases} == {
        "generate", "help", "models", "status", "cancel", "prefs", "usage", "smalltalk", "unclear",
    }  # fmt: skip
    assert any(c.get("images") for c in cases)
    assert any(c["text"].isascii() for c in cases) and any(not c["text"].isascii() for c in cases)


def test_accuracy_floor() -> None:
    outcomes = [outcome for part in PARTS for outcome in evaluate(part)]
    misses = [f"{o.part}: {o.case['text']!r}: {'; '.join(o.problems)}" for o in outcomes if not o.ok]
    accuracy = 1 - len(misses) / len(outcomes)
    assert accuracy >= FLOOR, f"{accuracy:.1%} correct; misses:\n" + "\n".join(misses)


def test_no_non_generation_message_becomes_a_paid_order() -> None:
    """The costly mistake: a question, a thank-you or a cancel understood as an order. None in the tuned
    part; the held-out part is held to the overall floor (its misses are what the next tuning learns)."""
    wrong = [
        o.case["text"]
        for o in evaluate("tuned")
        if o.case["intent"] != "generate"
        and any(p.startswith("intent: ") and "'generate'" in p for p in o.problems)
    ]
    assert wrong == []


def report() -> str:
    lines = []
    for part in PARTS:
        outcomes = evaluate(part)
        lines.append(f"{part}: {sum(o.ok for o in outcomes)}/{len(outcomes)} correct")
        for label, key in (("intent", lambda c: c["intent"]), ("task type", lambda c: c.get("task_type"))):
            total: Counter[str] = Counter()
            good: Counter[str] = Counter()
            for o in outcomes:
                group = key(o.case)
                if group is None:
                    continue
                total[group] += 1
                good[group] += o.ok
            lines += [f"  {label} {g}: {good[g]}/{total[g]}" for g in sorted(total)]
        lines += [f"  MISS {o.case['text']!r}: {'; '.join(o.problems)}" for o in outcomes if not o.ok]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
