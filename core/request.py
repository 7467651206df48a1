"""What the intent parser produces and the pipeline consumes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.types import Attachment, Language, MediaType, TaskType


class Tier(StrEnum):
    FAST = "fast"
    PRO = "pro"
    CHEAPEST = "cheapest"
    BEST = "best"


class PreferenceIntent(StrEnum):
    SAVE = "save"
    CLEAR = "clear"


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """A parsed user request.

    ``params`` holds normalized parameter overrides the user asked for: ``duration`` (int seconds),
    ``aspect_ratio`` ("W:H"), ``resolution`` (upper-case, "720P"), ``size`` and any TTS / music
    fields mapped to form_config names. ``model_id`` is the model the user named (resolved, may be
    None). ``notices`` are localized strings to show before generation (e.g. contradictions).
    """

    media_type: MediaType
    task_type: TaskType
    prompt: str
    language: Language
    model_id: str | None = None
    tier: Tier | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    preference: PreferenceIntent | None = None
    attachments: tuple[Attachment, ...] = ()
    notices: tuple[str, ...] = ()
    unknown_model: str | None = None  # a model name the user typed that matched nothing

    @property
    def missing_prompt(self) -> bool:
        return not self.prompt.strip() and not self.attachments


@dataclass(frozen=True, slots=True)
class RequestOverrides:
    """Typed options from a structured command (Discord slash command, card button).

    Anything set here wins over what the parser found in the free text.
    """

    media_type: MediaType | None = None
    task_type: TaskType | None = None
    model_id: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
