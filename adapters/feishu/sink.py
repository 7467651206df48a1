"""``core.platform.EventSink`` for Feishu: renders the bot's UX events as cards and messages.

- Slot.STATUS (steps 0-2 and the final status): ONE interactive card, created as a reply to the user's
  message and then PATCHed in place through the chat kit's ``StatusEditor`` (one patch per
  ``patch_interval_s`` per card; a newer state replaces a waiting one; the latest state always lands).
- Slot.RESULT: the media (see ``delivery``), then the summary; buttons (``event.actions``) ride on a card.
- Slot.NOTICE: a text reply.
Every send carries a ``uuid`` derived from the job and the part, so a retried or replayed delivery (also
after a restart, within Feishu's one-hour window) never posts twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from adapters.chat.status import EditPolicy, StatusEditor
from adapters.chat.texts import chat_messages
from adapters.feishu import MESSAGES_PACKAGE
from adapters.feishu.api import REPLY_TARGET_GONE, THREAD_REPLY_UNSUPPORTED, FeishuApi
from adapters.feishu.cards import failure_card, question_card, status_card
from adapters.feishu.delivery import MediaDelivery
from adapters.feishu.pacing import ChatPacer
from core.clock import Clock
from core.errors import PlatformError
from core.messages import Messages
from core.ops.telemetry import NoTelemetry, Telemetry
from core.platform import Slot, Step, UxEvent
from core.types import Platform

log = logging.getLogger(__name__)
UUID_MAX = 50


@dataclass(frozen=True, slots=True)
class _StatusCard:
    chat_id: str
    card: dict[str, Any]


def reply_target(message_id: str) -> str:
    """Conversations started by a card button carry ``<card message id>#<event id>``."""
    return message_id.split("#", 1)[0]


def send_uuid(*parts: str) -> str:
    raw = ":".join(parts)
    if len(raw) <= UUID_MAX:
        return raw
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


class FeishuSink:
    def __init__(self, api: FeishuApi, delivery: MediaDelivery, messages: Messages, clock: Clock,
                 patch_interval_s: float = 3.0, *, telemetry: Telemetry | None = None) -> None:
        self._api = api
        self._delivery = delivery
        self._messages = chat_messages(messages, MESSAGES_PACKAGE)
        self._clock = clock
        policy = EditPolicy(interval_s=patch_interval_s, old_after_s=float("inf"))
        waited = partial((telemetry or NoTelemetry()).platform_rate_limited, Platform.FEISHU)
        self._editor: StatusEditor[_StatusCard] = StatusEditor(clock, policy, self._patch, waited=waited)
        self._pacer = ChatPacer(clock, waited=waited)

    async def emit(self, event: UxEvent) -> str | None:
        if event.slot is Slot.STATUS:
            return await self._status(event)
        if event.slot is Slot.RESULT:
            return await self._result(event)
        if event.choices:
            return await self._post(event, "interactive", question_card(event, self._messages),
                                    _notice_part(event))
        return await self._post(event, "text", {"text": event.text}, _notice_part(event))

    async def aclose(self) -> None:
        """Let every waiting patch land (at most one interval away) so no card is left on a stale state."""
        await self._editor.aclose(drain=True)

    # ------------------------------------------------------------------ status card

    async def _status(self, event: UxEvent) -> str:
        render = _StatusCard(event.conversation.chat_id, status_card(event, self._messages))
        if not event.message_ref:
            ref = await self._post(event, "interactive", render.card, "status")
            self._editor.mark_edited(ref, render, self._clock.now())
        else:
            ref = event.message_ref
            due = self._editor.is_due(ref)
            self._editor.submit(ref, render, self._clock.now())
            if due:
                await self._editor.flush(ref)  # let the caller see the card updated
        if event.step is Step.DONE:
            self._editor.retire(ref)
        return ref

    async def _patch(self, ref: str, render: _StatusCard) -> None:
        try:
            async with self._pacer.turn(render.chat_id):
                await self._api.patch_card(ref, render.card)
        except PlatformError as exc:  # a stale progress card is cosmetic; never fail the job for it
            log.warning("feishu card %s not updated: %r", ref, exc)

    # ------------------------------------------------------------------ results

    async def _result(self, event: UxEvent) -> str:
        """One message per result event: the failure card (text and buttons), the media (one gallery for
        several), or the copyable link text. A success's summary and buttons are in the final status card."""
        part = "fail" if event.step is Step.FAILURE else ("r0" if event.media else "r1")

        async def post(msg_type: str, content: Mapping[str, Any], suffix: str) -> str:
            return await self._post(event, msg_type, content, f"{part}:{suffix}")

        if event.step is Step.FAILURE:
            return await post("interactive", failure_card(event, self._messages), "card")
        if event.media:
            return await self._delivery.deliver(event, post)
        return await post("text", {"text": event.text}, "text")

    # ------------------------------------------------------------------ plumbing

    async def _post(self, event: UxEvent, msg_type: str, content: Mapping[str, Any], part: str) -> str:
        conversation = event.conversation
        target = reply_target(conversation.message_id)
        uuid = send_uuid(event.token or event.job_id or target, part)
        in_thread = conversation.thread_id is not None
        async with self._pacer.turn(conversation.chat_id):
            try:
                return await self._api.reply(target, msg_type, content, uuid=uuid, in_thread=in_thread)
            except PlatformError as exc:
                if exc.code == THREAD_REPLY_UNSUPPORTED and in_thread:
                    return await self._api.reply(target, msg_type, content, uuid=uuid)
                if exc.code in REPLY_TARGET_GONE and conversation.chat_id:
                    # The user recalled or deleted their message: the answer still belongs in the chat.
                    return await self._api.send(conversation.chat_id, msg_type, content, uuid=uuid)
                raise


def _notice_part(event: UxEvent) -> str:
    return "n" + hashlib.sha256(event.text.encode()).hexdigest()[:8]
