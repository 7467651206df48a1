"""A recording stand-in for ``core.platform.BotService`` (adapter-level tests only).

It deliberately does NOT dedupe: tests that deliver an event several times prove the adapter's own
dedupe. ``sink`` (optional) receives an Ack status event per accepted message, like the real service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.catalog.products import ProductLeaf
from core.platform import ActionKind, ActionOutcome, ActionReply, EventSink, Slot, Step, UxEvent
from core.request import RequestOverrides
from core.types import Attachment, Conversation, Language, Platform, TaskType


@dataclass
class HandledMessage:
    conversation: Conversation
    text: str
    attachments: tuple[Attachment, ...]


@dataclass
class RecordingService:
    sink: EventSink | None = None
    action_gate: asyncio.Event | None = None  # when set, actions wait for it (a slow service)
    messages: list[HandledMessage] = field(default_factory=list)
    actions: list[tuple[Conversation, str, ActionKind]] = field(default_factory=list)
    owners: dict[str, str] = field(default_factory=dict)  # job id -> requester

    def __post_init__(self) -> None:
        self.received = asyncio.Event()

    async def handle_message(self, conversation: Conversation, text: str,
                             attachments: Sequence[Attachment] = (),
                             overrides: RequestOverrides | None = None) -> str | None:
        job_id = f"job-{len(self.messages) + 1}"
        self.messages.append(HandledMessage(conversation, text, tuple(attachments)))
        self.owners[job_id] = conversation.user_id
        if self.sink is not None:
            await self.sink.emit(UxEvent(job_id=job_id, conversation=conversation, step=Step.ACK,
                                         slot=Slot.STATUS, text="收到！", language=Language.ZH))
        self.received.set()
        return job_id

    async def handle_action(self, conversation: Conversation, job_id: str, action: ActionKind) -> ActionReply:
        if self.action_gate is not None:
            await self.action_gate.wait()
        self.actions.append((conversation, job_id, action))
        if self.owners.get(job_id) != conversation.user_id:
            return ActionReply(ActionOutcome.NOT_OWNER, "只有发起人可以操作")
        return ActionReply(ActionOutcome.STARTED, "已重新开始", new_job_id=job_id + "-retry")

    async def models_for(self, task_type: TaskType) -> Sequence[ProductLeaf]:
        return ()

    async def describe_preferences(self, platform: Platform, user_id: str, language: Language) -> str:
        return ""

    async def clear_preferences(self, platform: Platform, user_id: str, language: Language) -> str:
        return ""

    def help_text(self, language: Language) -> str:
        return "help"
