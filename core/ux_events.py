"""Platform-neutral UX events. The runner emits them; platform adapters render them.

Steps follow the seeds' protocol: 0 Ack, 1 PreGen, 2 Progress, 3 Success, 4 Failure, 5 Done.
``slot`` names the message an event belongs to so adapters edit one "status" message in place for
steps 0-2 and post new "result" messages for steps 3-4. ``text`` is already localized, plain text
(adapters may add platform formatting but never rewrite it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Protocol

from core.errors import ErrorKind
from core.types import Conversation, Language, MediaResult


class Step(IntEnum):
    ACK = 0
    PREGEN = 1
    PROGRESS = 2
    SUCCESS = 3
    FAILURE = 4
    DONE = 5
    NOTICE = 6  # replies that are not a generation: help, preference saved, missing prompt...


class Slot(StrEnum):
    STATUS = "status"
    RESULT = "result"
    NOTICE = "notice"


class ActionKind(StrEnum):
    RETRY = "retry"
    FASTER = "faster"
    BETTER = "better"
    FIRST_FRAME = "first_frame"  # use this result as the first frame of a new image_to_video
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class Alternative:
    model_id: str
    model_name: str
    points: int | None = None


@dataclass(frozen=True, slots=True)
class UxEvent:
    job_id: str
    conversation: Conversation
    step: Step
    slot: Slot
    text: str
    language: Language
    message_ref: str | None = None  # the platform message this slot already has, if any
    percent: int | None = None
    media: tuple[MediaResult, ...] = ()
    credits: int | None = None
    model_id: str | None = None
    model_name: str | None = None
    error_kind: ErrorKind | None = None
    alternatives: tuple[Alternative, ...] = ()
    actions: tuple[ActionKind, ...] = ()


class EventSink(Protocol):
    """Renders events on one platform.

    Returns the platform reference of the message that now represents ``event.slot`` (new or
    unchanged) so the runner can persist it and later events (even after a restart) edit the same
    message. Returning None means "nothing to remember".
    """

    async def emit(self, event: UxEvent) -> str | None: ...
