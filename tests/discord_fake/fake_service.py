"""A small recording ``BotService`` for adapter-level tests (the adapter is under test, not this).

``handle_message`` records the call and, like the real service, emits the acknowledgment through the
Discord sink before returning. ``gate`` lets a test hold a call to prove the adapter answered first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.catalog.products import CreditRule, ProductLeaf
from core.platform import ActionKind, ActionOutcome, ActionReply, EventSink, Slot, Step, UxEvent
from core.request import RequestOverrides
from core.types import Attachment, Conversation, Language, Platform, TaskType


@dataclass
class Call:
    conversation: Conversation
    text: str
    attachments: tuple[Attachment, ...]
    overrides: RequestOverrides | None


def leaf(model_id: str, name: str, points: int, task: TaskType = TaskType.TEXT_TO_VIDEO) -> ProductLeaf:
    return ProductLeaf(
        version_id=f"{model_id}-v1",
        model_id=model_id,
        name=name,
        category=task,
        credit_rules=(CreditRule(1, points, {}),),
    )


@dataclass
class RecordingService:
    sink: EventSink | None = None
    calls: list[Call] = field(default_factory=list)
    actions: list[tuple[Conversation, str, ActionKind]] = field(default_factory=list)
    owners: dict[str, str] = field(default_factory=dict)  # job id -> user id
    refs: dict[str, str | None] = field(default_factory=dict)  # job id -> status message ref
    gate: asyncio.Event | None = None
    leaves: tuple[ProductLeaf, ...] = (
        leaf("kling-v2", "Kling 2.1", 40),
        leaf("wan2.6-t2v", "Wan 2.6", 25),
        leaf("seedance-pro", "Seedance Pro", 90),
    )
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    acked: asyncio.Event = field(default_factory=asyncio.Event)  # set once handle_message returned
    emit_ack: bool = True
    notice_only: str | None = None
    models_gate: asyncio.Event | None = None  # a cold, slow product list
    fail: bool = False  # handle_message raises, like a bug or an outage in the core

    async def handle_message(
        self,
        conversation: Conversation,
        text: str,
        attachments: Sequence[Attachment] = (),
        overrides: RequestOverrides | None = None,
    ) -> str | None:
        self.calls.append(Call(conversation, text, tuple(attachments), overrides))
        self.entered.set()
        if self.fail:
            raise RuntimeError("core exploded")
        if self.gate is not None:
            await self.gate.wait()
        job_id = f"job{len(self.calls)}"
        self.owners[job_id] = conversation.user_id
        assert self.sink is not None
        if self.notice_only is not None:
            await self.sink.emit(
                UxEvent(job_id, conversation, Step.NOTICE, Slot.NOTICE, self.notice_only, Language.EN)
            )
            return None
        if self.emit_ack:
            ref = await self.sink.emit(
                UxEvent(
                    job_id,
                    conversation,
                    Step.ACK,
                    Slot.STATUS,
                    "Got it!",
                    Language.EN,
                    actions=(ActionKind.CANCEL,),
                )
            )
            self.refs[job_id] = ref
        self.acked.set()
        return job_id

    async def handle_action(self, conversation: Conversation, job_id: str, action: ActionKind) -> ActionReply:
        self.actions.append((conversation, job_id, action))
        if self.owners.get(job_id, conversation.user_id) != conversation.user_id:
            return ActionReply(ActionOutcome.NOT_OWNER, "Only the person who asked can use these buttons.")
        return ActionReply(ActionOutcome.STARTED, f"{action.value} started", new_job_id="job-new")

    async def models_for(self, task_type: TaskType) -> Sequence[ProductLeaf]:
        if self.models_gate is not None:
            await self.models_gate.wait()
        return self.leaves

    async def describe_preferences(self, platform: Platform, user_id: str, language: Language) -> str:
        return f"prefs of {user_id}"

    async def clear_preferences(self, platform: Platform, user_id: str, language: Language) -> str:
        return f"cleared {user_id}"

    def help_text(self, language: Language) -> str:
        return "帮助" if language == Language.ZH else "help text"
