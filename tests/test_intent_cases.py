"""Table-driven parser cases: every row of the seeds' parsing tables plus realistic phrasings
(``tests/intent_cases/*.toml``; see the README there for the format)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from core.catalog.models import ModelCatalog
from core.intent import parse
from core.request import GenerationRequest
from core.types import Attachment, AttachmentKind

CASES_DIR = Path(__file__).parent / "intent_cases"
CATALOG = ModelCatalog.load_default()


def _load() -> list[tuple[str, dict[str, Any]]]:
    cases: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(CASES_DIR.glob("*.toml")):
        for index, case in enumerate(tomllib.loads(path.read_text(encoding="utf-8"))["case"]):
            cases.append((f"{path.stem}[{index}] {case['text'][:40]}", case))
    return cases


CASES = _load()


def _attachments(case: dict[str, Any]) -> list[Attachment]:
    out: list[Attachment] = []
    for key, kind, ext in (
        ("images", AttachmentKind.IMAGE, "png"),
        ("videos", AttachmentKind.VIDEO, "mp4"),
        ("audios", AttachmentKind.AUDIO, "mp3"),
    ):
        out += [
            Attachment(kind, f"{key}{i}.{ext}", f"https://files.test/{key}{i}.{ext}")
            for i in range(int(case.get(key, 0)))
        ]
    return out


def _value(request: GenerationRequest, key: str) -> Any:
    value = getattr(request, key)
    return getattr(value, "value", value)


@pytest.mark.parametrize(("case_id", "case"), CASES, ids=[c[0] for c in CASES])
def test_case(case_id: str, case: dict[str, Any]) -> None:
    request = parse(case["text"], _attachments(case), catalog=CATALOG)
    problems: list[str] = []
    for key in ("media_type", "task_type", "model_id", "tier", "preference", "language"):
        if key in case:
            expected = case[key] or None
            if _value(request, key) != expected:
                problems.append(f"{key}: expected {expected!r}, got {_value(request, key)!r}")
    if "params" in case and dict(request.params) != case["params"]:
        problems.append(f"params: expected {case['params']!r}, got {dict(request.params)!r}")
    if "prompt" in case and request.prompt != case["prompt"]:
        problems.append(f"prompt: expected {case['prompt']!r}, got {request.prompt!r}")
    for part in case.get("prompt_contains", []):
        if part not in request.prompt:
            problems.append(f"prompt {request.prompt!r} lacks {part!r}")
    for part in case.get("prompt_excludes", []):
        if part in request.prompt:
            problems.append(f"prompt {request.prompt!r} still contains {part!r}")
    if "notices" in case and len(request.notices) != case["notices"]:
        problems.append(f"notices: expected {case['notices']}, got {list(request.notices)!r}")
    assert not problems, "; ".join(problems)


def test_case_tables_are_big_enough() -> None:
    seed = [c for name, c in CASES if name.startswith("seed_tables")]
    realistic = [c for name, c in CASES if name.startswith("realistic")]
    assert len(seed) >= 150
    assert len(realistic) >= 150
