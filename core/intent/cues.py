"""The classifier's cue phrases, loaded once from ``core/data/intent_cues.toml`` (see the comments there)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from core.intent.text import rx

Patterns = tuple[re.Pattern[str], ...]


@dataclass(frozen=True, slots=True)
class IntentCues:
    filler: Patterns
    yes: Patterns
    no: Patterns
    help: Patterns
    help_question: Patterns
    models: Patterns
    models_question: Patterns
    models_availability: Patterns
    status: Patterns
    usage: Patterns
    prefs_set: Patterns
    prefs_show: Patterns
    prefs_clear: Patterns
    prefs_persist: Patterns
    cancel: Patterns
    cancel_all: Patterns
    smalltalk: Patterns
    again: Patterns
    edit: Patterns
    continue_: Patterns
    generate: Patterns
    chat: Patterns
    feedback: Patterns
    lone: Patterns


def _compile(sources: Sequence[str]) -> Patterns:
    return tuple(rx(source) for source in sources)


def cues_from(data: Mapping[str, Any]) -> IntentCues:
    def get(section: str, key: str) -> Patterns:
        return _compile(data[section][key])

    return IntentCues(
        filler=get("filler", "patterns"),
        yes=get("answer", "yes"),
        no=get("answer", "no"),
        help=get("help", "patterns"),
        help_question=get("help", "question"),
        models=get("models", "patterns"),
        models_question=get("models", "question"),
        models_availability=get("models", "availability"),
        status=get("status", "patterns"),
        usage=get("usage", "patterns"),
        prefs_set=get("prefs", "set"),
        prefs_show=get("prefs", "show"),
        prefs_clear=get("prefs", "clear"),
        prefs_persist=get("prefs", "persist"),
        cancel=get("cancel", "patterns"),
        cancel_all=get("cancel", "all"),
        smalltalk=get("smalltalk", "patterns"),
        again=get("follow_up", "again"),
        edit=get("follow_up", "edit"),
        continue_=get("follow_up", "continue"),
        generate=get("generate", "cues"),
        chat=get("generate", "chat"),
        feedback=get("generate", "feedback"),
        lone=get("generate", "lone"),
    )


@cache
def default_cues() -> IntentCues:
    raw = resources.files("core.data").joinpath("intent_cues.toml").read_text(encoding="utf-8")
    return cues_from(tomllib.loads(raw))


def spans_of(patterns: Iterable[re.Pattern[str]], text: str) -> list[tuple[int, int]]:
    """Every non-empty match of any pattern, as (start, end) in ``text``."""
    return [m.span() for p in patterns for m in p.finditer(text) if m.end() > m.start()]


def matches(patterns: Iterable[re.Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)
