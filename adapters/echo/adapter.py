"""An in-memory chat: people ``say`` things and ``click`` buttons; the bot's messages land in ``transcript``.

It implements the whole platform contract (``core.platform``): the sink renders UX events (the status
message edited in place, new messages for results and notices), the fetcher refuses attachments (this
chat has none), and every text and button comes from the chat kit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from adapters.chat.actions import decode_action, encode_action
from adapters.chat.texts import chat_messages, internal_error, reply_language
from core.errors import InputError
from core.intent.hygiene import clean_text
from core.messages import Messages
from core.platform import AttachmentFetcher, BotService, EventSink, Slot, UxEvent
from core.types import Attachment, Conversation, Language, Platform

BOT = "bot"


@dataclass
class EchoMessage:
    ref: str
    author: str  # a user id, or BOT
    text: str
    buttons: tuple[str, ...] = ()  # the chat kit's action encodings
    media: tuple[str, ...] = ()  # result URLs
    edits: int = 0


class EchoAdapter:
    def __init__(self, service: BotService, messages: Messages | None = None,
                 default_language: Language = Language.ZH) -> None:
        self._service = service
        self._m = chat_messages(messages)
        self._language = default_language
        self._ids = itertools.count(1)
        self.transcript: list[EchoMessage] = []

    # ------------------------------------------------------------ PlatformAdapter
    @property
    def sink(self) -> EventSink:
        return self

    @property
    def fetcher(self) -> AttachmentFetcher:
        return self

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    # ------------------------------------------------------------ people
    async def say(self, user_id: str, text: str, chat_id: str = "echo") -> str | None:
        text = clean_text(text)  # the one intake hygiene every platform applies
        message = self._add(user_id, text)
        conversation = Conversation(Platform.ECHO, chat_id, user_id, message.ref)
        try:
            return await self._service.handle_message(conversation, text)
        except Exception:  # the chat goes on; the user may simply try again
            self._add(BOT, internal_error(self._m, reply_language(text, self._language)))
            return None

    async def click(self, user_id: str, button: str, chat_id: str = "echo") -> str:
        decoded = decode_action(button)
        if decoded is None:
            raise ValueError(f"not a button of this bot: {button!r}")
        action, target = decoded
        conversation = Conversation(Platform.ECHO, chat_id, user_id, f"click-{next(self._ids)}")
        return (await self._service.handle_action(conversation, target, action)).text

    def bot_messages(self) -> list[EchoMessage]:
        return [m for m in self.transcript if m.author == BOT]

    # ------------------------------------------------------------ EventSink
    async def emit(self, event: UxEvent) -> str | None:
        buttons = tuple(encode_action(a, event.job_id) for a in event.actions)
        buttons += tuple(encode_action(c.action, c.target_id) for c in event.choices)
        known = next((m for m in self.transcript if m.ref == event.message_ref), None)
        if event.slot is Slot.STATUS and known is not None:
            known.text, known.buttons, known.edits = event.text, buttons, known.edits + 1
            return known.ref
        media = tuple(m.url for m in event.media)
        return self._add(BOT, event.text, buttons, media).ref

    # ------------------------------------------------------------ AttachmentFetcher
    async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path:
        raise InputError("the echo chat has no attachments", params={"name": attachment.name})

    def _add(self, author: str, text: str, buttons: tuple[str, ...] = (), media: tuple[str, ...] = ()
             ) -> EchoMessage:
        message = EchoMessage(f"echo-{next(self._ids)}", author, text, buttons, media)
        self.transcript.append(message)
        return message
