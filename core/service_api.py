"""What platform adapters call. ``core.service`` implements it; adapters depend only on this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core.products import ProductLeaf
from core.request import RequestOverrides
from core.types import Attachment, Conversation, Language, TaskType
from core.ux_events import ActionKind


class ActionOutcome(StrEnum):
    STARTED = "started"  # a new job was started (retry / variant / first frame)
    CANCELLED = "cancelled"
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

    async def describe_preferences(self, platform: str, user_id: str, language: Language) -> str: ...

    async def clear_preferences(self, platform: str, user_id: str, language: Language) -> str: ...

    def help_text(self, language: Language) -> str: ...
