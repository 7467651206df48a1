"""The platform contract: everything a chat platform adapter implements or calls.

- UX events (``UxEvent``, ``Step``, ``Slot``, ``ActionKind``): the runner emits them; adapters render them.
- ``EventSink`` and ``AttachmentFetcher``: what an adapter implements for the core.
- ``BotService``: what an adapter calls (``core.pipeline.service`` implements it).
- ``PlatformAdapter``: the lifecycle the composition root drives.

Steps follow the seeds' protocol: 0 Ack, 1 PreGen, 2 Progress, 3 Success, 4 Failure, 5 Done.
``slot`` names the message an event belongs to so adapters edit one "status" message in place for
steps 0-2 and post new "result" messages for steps 3-4. ``text`` is already localized, plain text
(adapters may add platform formatting but never rewrite it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Protocol

from core.catalog.products import ProductLeaf
from core.errors import ErrorKind
from core.request import RequestOverrides
from core.types import Attachment, Conversation, Language, MediaResult, Platform, TaskType


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
    CONFIRM = "confirm"  # "yes" to a question; the target is the question id (core.conversation.questions)
    DECLINE = "decline"  # "no" to a question; the target is the question id


@dataclass(frozen=True, slots=True)
class Alternative:
    model_id: str
    model_name: str
    points: int | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """One button of a question: ``action`` on ``target_id`` (a job id, or a question id for CONFIRM /
    DECLINE), shown as ``label`` (localized). The same answer is always also possible in words."""

    action: ActionKind
    target_id: str
    label: str


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
    choices: tuple[Choice, ...] = ()  # buttons of a question (NOTICE events), each with its own target
    # Idempotency token of a result part (core.pipeline.delivery): a platform that can deduplicate
    # sends (Discord nonce, Feishu uuid) sends it, so a send repeated after a crash posts nothing new.
    token: str | None = None


class EventSink(Protocol):
    """Renders events on one platform.

    Returns the platform reference of the message that now represents ``event.slot`` (new or
    unchanged) so the runner can persist it and later events (even after a restart) edit the same
    message. Returning None means "nothing to remember".
    """

    async def emit(self, event: UxEvent) -> str | None: ...


class AttachmentFetcher(Protocol):
    """Brings a platform attachment to a local file (streamed, size-capped)."""

    async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path: ...


class PlatformAdapter(Protocol):
    @property
    def sink(self) -> EventSink: ...

    @property
    def fetcher(self) -> AttachmentFetcher: ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


class ActionOutcome(StrEnum):
    STARTED = "started"  # a new job was started (retry / variant / first frame)
    CANCELLED = "cancelled"
    # Recorded, to be carried out by the replica running the job; its own message says when it stopped.
    CANCELLING = "cancelling"
    NOT_OWNER = "not_owner"  # someone other than the requester clicked
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"  # e.g. cancel on a finished job


@dataclass(frozen=True, slots=True)
class ActionReply:
    outcome: ActionOutcome
    text: str  # short localized toast / ephemeral note
    new_job_id: str | None = None


class BotService(Protocol):
    async def handle_message(
        self,
        conversation: Conversation,
        text: str,
        attachments: Sequence[Attachment] = (),
        overrides: RequestOverrides | None = None,
    ) -> str | None:
        """Parse and accept a request. Returns once the job row is written and the acknowledgment
        has been emitted (or a notice sent); generation continues in the background. Idempotent on
        (platform, message_id): a repeated delivery returns the same job id and creates nothing.
        Returns the job id, or None when the message produced only a notice."""
        ...

    async def handle_action(self, conversation: Conversation, job_id: str, action: ActionKind) -> ActionReply:
        """A button click by ``conversation.user_id`` on ``job_id``'s message. Answers at once."""
        ...

    async def models_for(self, task_type: TaskType) -> Sequence[ProductLeaf]:
        """The live product list for autocomplete (cached)."""
        ...

    async def describe_preferences(self, platform: Platform, user_id: str, language: Language) -> str: ...

    async def clear_preferences(self, platform: Platform, user_id: str, language: Language) -> str: ...

    def help_text(self, language: Language) -> str: ...
