"""Feishu events → the bot service, on the main event loop.

Message events: ignore what is not for the bot (group messages without an @mention, other bots), drop
redeliveries (durable keys for the event id AND the message id, kept 12 h: Feishu redelivers for about
7.1 h), answer unsupported message types with a short help, and hand the rest to ``BotService``.
With an inbox (``core.ports.InboxStore``), ``accept_message`` is the one insert made before Feishu is
answered: it claims the message and records the raw event, so a replica killed before the job row exists
loses nothing: the item's hold runs out and ``recover`` (on any replica) processes it. The service's
job key (UNIQUE per platform message) keeps that to one job.
Card button callbacks: map to ``BotService.handle_action`` and answer with a toast.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.chat.actions import decode_action
from adapters.chat.texts import INTERNAL_ERROR_KEY, chat_messages, reply_language
from adapters.feishu import MESSAGES_PACKAGE
from adapters.feishu.api import FeishuApi
from adapters.feishu.cards import ACTION_KEY
from adapters.feishu.inbound import InboundMessage, parse_message_event
from adapters.feishu.sink import send_uuid
from adapters.secrets.redaction import FEISHU_LOGGERS, install_key_shape_redaction
from core.clock import Clock, SystemClock
from core.errors import ImabotError
from core.messages import Messages
from core.platform import ActionOutcome, BotService
from core.ports import DedupeStore, InboxStore
from core.types import Conversation, Language, Platform

log = logging.getLogger(__name__)

DEDUPE_TTL_S = 12 * 3600.0
_TOAST_TYPE = {
    ActionOutcome.STARTED: "success",
    ActionOutcome.CANCELLED: "success",
    ActionOutcome.NOT_OWNER: "warning",
    ActionOutcome.NOT_FOUND: "warning",
    ActionOutcome.NOT_ALLOWED: "warning",
}


@dataclass(frozen=True, slots=True)
class RouterConfig:
    default_language: Language = Language.ZH
    dedupe_ttl_s: float = DEDUPE_TTL_S
    # How long the replica that accepted a message holds it before another may take it over: well above
    # the time from acceptance to the stored job row (after which the job's own lease takes over).
    inbox_hold_s: float = 60.0
    recover_every_s: float = 10.0
    recover_batch: int = 50


def toast(kind: str, text: str) -> dict[str, Any]:
    return {"toast": {"type": kind, "content": text}}


class FeishuRouter:
    def __init__(self, service: BotService, dedupe: DedupeStore, api: FeishuApi, messages: Messages,
                 config: RouterConfig | None = None, *, inbox: InboxStore | None = None,
                 clock: Clock | None = None) -> None:
        self._service = service
        self._dedupe = dedupe
        self._inbox = inbox
        self._clock = clock or SystemClock()
        self._recovery: asyncio.Task[None] | None = None
        self._api = api
        self._messages = chat_messages(messages, MESSAGES_PACKAGE)
        self._config = config or RouterConfig()
        self._tasks: set[asyncio.Task[None]] = set()
        install_key_shape_redaction(FEISHU_LOGGERS)  # a DM may carry a user's own IMA key
        self.bot_open_id: str | None = None

    def text(self, key: str) -> str:
        """A catalog message in the default language (when the user's language is unknown)."""
        return self._messages.text(key, self._config.default_language)

    # ------------------------------------------------------------------ message events

    def submit_message(self, payload: Mapping[str, Any]) -> None:
        """Called on the main loop by the intake; the work runs as a tracked background task."""
        task = asyncio.get_running_loop().create_task(self.handle_message_event(payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def durable_intake(self) -> bool:
        """True when messages are recorded (``accept_message``) before Feishu is answered."""
        return self._inbox is not None

    async def accept_message(self, payload: Mapping[str, Any]) -> None:
        """The acknowledgement-side step: one durable insert, then the rest runs in the background.

        Raises when the record could not be written, so Feishu is not told "received" and redelivers."""
        message = self._addressed(payload)
        if message is None or self._inbox is None:
            return
        key = _inbox_key(message)
        config = self._config
        if not await self._inbox.accept(key, json.dumps(payload, ensure_ascii=False), config.dedupe_ttl_s,
                                        config.inbox_hold_s):
            log.info("feishu: redelivery of %s ignored", message.conversation.message_id)
            return
        self._track(self._process(key, message))

    async def recover(self) -> int:
        """Process accepted messages whose holder died before finishing them; returns how many."""
        if self._inbox is None:
            return 0
        items = await self._inbox.take_stale(self._config.inbox_hold_s, self._config.recover_batch)
        for item in items:
            message = self._addressed(_loads(item.payload))
            if message is None:
                await self._inbox.finish(item.key)
                continue
            log.info("feishu: resuming message %s accepted by a replica that stopped",
                     message.conversation.message_id)
            self._track(self._process(item.key, message))
        return len(items)

    async def start(self) -> None:
        """Resume what a previous run accepted but did not finish, then keep looking (other replicas')."""
        if self._inbox is not None and self._recovery is None:
            await self._recover_logged()
            self._recovery = asyncio.get_running_loop().create_task(self._recover_forever())

    async def _recover_forever(self) -> None:
        while True:
            await self._clock.sleep(self._config.recover_every_s)
            await self._recover_logged()

    async def _recover_logged(self) -> None:
        try:
            await self.recover()
        except Exception:
            log.exception("feishu: inbox recovery failed; retrying")

    async def _process(self, key: str, message: InboundMessage) -> None:
        await self._handle(message)
        if self._inbox is not None:
            await self._inbox.finish(key)

    def _track(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _addressed(self, payload: Mapping[str, Any]) -> InboundMessage | None:
        message = parse_message_event(payload, self.bot_open_id)
        if message is None:
            log.warning("feishu: ignoring a malformed message event")
            return None
        if not message.from_user or not message.addressed_to_bot:
            return None
        return message

    async def handle_message_event(self, payload: Mapping[str, Any]) -> None:
        message = self._addressed(payload)
        if message is None:
            return
        if not await self._first_delivery(message):
            log.info("feishu: redelivery of %s ignored", message.conversation.message_id)
            return
        await self._handle(message)

    async def _handle(self, message: InboundMessage) -> None:
        try:
            if not message.supported:
                await self._reply_unsupported(message)
                return
            await self._service.handle_message(message.conversation, message.text, message.attachments)
        except ImabotError as exc:
            log.warning("feishu: message %s not handled: %r", message.conversation.message_id, exc)
            await self._reply_text(message, INTERNAL_ERROR_KEY)
        except Exception:
            log.exception("feishu: message %s failed", message.conversation.message_id)
            await self._reply_text(message, INTERNAL_ERROR_KEY)

    async def _first_delivery(self, message: InboundMessage) -> bool:
        ttl = self._config.dedupe_ttl_s
        new_event = await self._dedupe.first_seen(f"feishu:event:{message.event_id}", ttl)
        new_message = await self._dedupe.first_seen(f"feishu:message:{message.conversation.message_id}", ttl)
        return new_event and new_message

    async def _reply_unsupported(self, message: InboundMessage) -> None:
        await self._reply_text(message, "feishu.unsupported")

    async def _reply_text(self, message: InboundMessage, key: str) -> None:
        language = reply_language(message.text, self._config.default_language)
        conversation = message.conversation
        content = {"text": self._messages.text(key, language)}
        try:
            await self._api.reply(conversation.message_id, "text", content,
                                  uuid=send_uuid(conversation.message_id, key),
                                  in_thread=conversation.thread_id is not None)
        except ImabotError as exc:
            log.warning("feishu: could not answer %s: %r", conversation.message_id, exc)

    # ------------------------------------------------------------------ card callbacks

    async def handle_card_action(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        language = self._config.default_language
        event = _map(payload.get("event"))
        value = _map(_map(event.get("action")).get("value"))
        context = _map(event.get("context"))
        event_id = str(_map(payload.get("header")).get("event_id") or "")
        user = str(_map(event.get("operator")).get("open_id") or "")
        card_message = str(context.get("open_message_id") or "")
        decoded = decode_action(str(value.get(ACTION_KEY) or ""))
        if decoded is None:
            return toast("warning", self._messages.text("feishu.action.unknown", language))
        action, job_id = decoded
        if not (user and card_message and event_id):
            return toast("warning", self._messages.text("feishu.action.unknown", language))
        if not await self._dedupe.first_seen(f"feishu:event:{event_id}", self._config.dedupe_ttl_s):
            return toast("info", self._messages.text("feishu.action.pending", language))
        # The card message is where follow-ups are replied to; the event id keeps every click distinct.
        conversation = Conversation(platform=Platform.FEISHU, chat_id=str(context.get("open_chat_id") or ""),
                                    user_id=user, message_id=f"{card_message}#{event_id}")
        try:
            reply = await self._service.handle_action(conversation, job_id, action)
        except Exception:
            log.exception("feishu: card action %s on %s failed", action.value, job_id)
            return toast("error", self._messages.text("feishu.action.failed", language))
        return toast(_TOAST_TYPE.get(reply.outcome, "info"), reply.text)

    # ------------------------------------------------------------------ lifecycle

    async def drain(self) -> None:
        """Wait for messages already handed over (each returns once the job is recorded)."""
        await asyncio.sleep(0)  # let hand-overs queued from the intake thread create their tasks
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
            self._recovery = None
        await self.drain()


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _inbox_key(message: InboundMessage) -> str:
    return f"feishu:message:{message.conversation.message_id}"


def _loads(payload: str) -> Mapping[str, Any]:
    try:
        value = json.loads(payload)
    except ValueError:
        return {}
    return _map(value)
