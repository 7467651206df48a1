"""``core.platform.EventSink`` for Feishu: renders the bot's UX events as cards and messages.

- Slot.STATUS (steps 0-2 and the final status): ONE interactive card, created as a reply to the user's
  message and then PATCHed in place. Patches are throttled to one per ``patch_interval_s`` per card; a
  newer state replaces a waiting one, and a timer always delivers the latest state.
- Slot.RESULT: the media (see ``delivery``), then the summary; buttons (``event.actions``) ride on a card.
- Slot.NOTICE: a text reply.
Every send carries a ``uuid`` derived from the job and the part, so a retried or replayed delivery (also
after a restart, within Feishu's one-hour window) never posts twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.feishu.api import REPLY_TARGET_GONE, THREAD_REPLY_UNSUPPORTED, FeishuApi
from adapters.feishu.cards import actions_card, question_card, status_card
from adapters.feishu.delivery import MediaDelivery
from adapters.feishu.pacing import ChatPacer
from core.clock import Clock
from core.errors import PlatformError
from core.messages import Messages
from core.platform import Slot, Step, UxEvent

log = logging.getLogger(__name__)
UUID_MAX = 50


@dataclass
class _CardState:
    last_patch_at: float
    pending: dict[str, Any] | None = None
    final: bool = False
    chat_id: str = ""
    timer: asyncio.Task[None] | None = field(default=None, repr=False)


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
                 patch_interval_s: float = 3.0) -> None:
        self._api = api
        self._delivery = delivery
        self._messages = messages
        self._clock = clock
        self._interval = patch_interval_s
        self._cards: dict[str, _CardState] = {}
        self._pacer = ChatPacer(clock)

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
        timers = [state.timer for state in self._cards.values() if state.timer is not None]
        await asyncio.gather(*timers, return_exceptions=True)
        self._cards.clear()

    # ------------------------------------------------------------------ status card

    async def _status(self, event: UxEvent) -> str:
        card = status_card(event, self._messages)
        if not event.message_ref:
            ref = await self._post(event, "interactive", card, "status")
            self._cards[ref] = _CardState(last_patch_at=self._clock.now(), final=event.step is Step.DONE,
                                          chat_id=event.conversation.chat_id)
            return ref
        ref = event.message_ref
        state = self._cards.setdefault(ref, _CardState(last_patch_at=float("-inf"),
                                                       chat_id=event.conversation.chat_id))
        state.pending = card
        state.final = state.final or event.step is Step.DONE
        if state.timer is None:
            # One task per card owns all its patches, so two never overlap (a timer-driven patch still in
            # flight while a newer event arrives would otherwise race it).
            state.timer = asyncio.create_task(self._patch_loop(ref, state))
            if state.last_patch_at + self._interval <= self._clock.now():
                await asyncio.shield(state.timer)  # due now: let the caller see the card updated
        return ref

    async def _patch_loop(self, ref: str, state: _CardState) -> None:
        try:
            while state.pending is not None:
                wait = state.last_patch_at + self._interval - self._clock.now()
                if wait > 0:
                    await self._clock.sleep(wait)
                await self._flush(ref, state)
        finally:
            state.timer = None
            if state.final and state.pending is None:
                self._cards.pop(ref, None)

    async def _flush(self, ref: str, state: _CardState) -> None:
        card, state.pending = state.pending, None
        if card is None:
            return
        try:
            async with self._pacer.turn(state.chat_id):
                await self._api.patch_card(ref, card)
        except PlatformError as exc:  # a stale progress card is cosmetic; never fail the job for it
            log.warning("feishu card %s not updated: %r", ref, exc)
        # Counted from the end of the call, so consecutive patches reach Feishu at least an interval apart
        # however long each request takes.
        state.last_patch_at = self._clock.now()

    # ------------------------------------------------------------------ results

    async def _result(self, event: UxEvent) -> str:
        part = "fail" if event.step is Step.FAILURE else ("r0" if event.media else "r1")
        first: str | None = None

        async def post(msg_type: str, content: Mapping[str, Any], suffix: str) -> str:
            return await self._post(event, msg_type, content, f"{part}:{suffix}")

        for index, media in enumerate(event.media):
            ref = await self._delivery.deliver(media, index, event, post)
            first = first or ref
        if event.step is Step.FAILURE or event.actions:
            if event.step is not Step.FAILURE:
                await post("text", {"text": event.text}, "text")
            ref = await post("interactive", actions_card(event, self._messages), "card")
        else:
            ref = await post("text", {"text": event.text}, "text")
        return first or ref

    # ------------------------------------------------------------------ plumbing

    async def _post(self, event: UxEvent, msg_type: str, content: Mapping[str, Any], part: str) -> str:
        conversation = event.conversation
        target = reply_target(conversation.message_id)
        uuid = send_uuid(event.job_id or target, part)
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
