"""The interactive terminal chat of ``imabot demo``: type requests, attach local files, see results."""

from __future__ import annotations

import asyncio
import mimetypes
import secrets
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TextIO

from core.messages import Messages
from core.service_api import BotService
from core.types import Attachment, AttachmentKind, Conversation, Language, Platform

_ATTACH_COMMANDS = {"/image": AttachmentKind.IMAGE, "/video": AttachmentKind.VIDEO,
                    "/audio": AttachmentKind.AUDIO}
_QUIT = frozenset({"/quit", "/exit", "/q"})


async def stdin_lines() -> AsyncIterator[str]:
    """Lines from stdin without blocking the event loop (a pipe reader, no thread)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        raw = await reader.readline()
        if not raw:
            return
        yield raw.decode("utf-8", errors="replace")


def attachment_for(kind: AttachmentKind, ref: str) -> Attachment | None:
    """An attachment for a local path or an http(s) link; None when the file does not exist."""
    if ref.startswith(("http://", "https://")):
        name = ref.rsplit("/", 1)[-1].split("?", 1)[0] or kind.value
        return Attachment(kind=kind, name=name, ref=ref, mime=mimetypes.guess_type(name)[0])
    path = Path(ref).expanduser()
    if not path.is_file():
        return None
    return Attachment(kind=kind, name=path.name, ref=str(path.resolve()), size=path.stat().st_size,
                      mime=mimetypes.guess_type(path.name)[0])


class ConsoleChat:
    def __init__(self, service: BotService, messages: Messages, out: TextIO, *, language: Language,
                 user_id: str = "you", banner_languages: Sequence[Language] | None = None) -> None:
        self._service = service
        self._m = messages
        self._out = out
        self._language = language
        self._user_id = user_id
        self._session = secrets.token_hex(4)  # message ids must not repeat across demo runs
        self._count = 0
        self._pending: list[Attachment] = []
        self._banner_languages = tuple(banner_languages or (language,))

    def _say(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    def _t(self, key: str, **params: object) -> str:
        return self._m.text(key, self._language, **params)

    async def run(self, lines: AsyncIterator[str]) -> bool:
        """Chat until /quit (returns False) or end of input (returns True)."""
        self._say("\n\n".join(self._m.text("console.banner", lang) for lang in self._banner_languages))
        async for raw in lines:
            line = raw.strip()
            if not line:
                continue
            if line.split(maxsplit=1)[0].lower() in _QUIT:
                self._say(self._t("console.bye"))
                return False
            if line.startswith("/"):
                await self._command(line)
                continue
            await self._request(line)
        return True

    async def _command(self, line: str) -> None:
        command, _, arg = line.partition(" ")
        command = command.lower()
        if command == "/help":
            self._say(self._service.help_text(self._language))
            self._say(self._t("console.banner"))
        elif command in _ATTACH_COMMANDS:
            ref = arg.strip().strip("'\"")
            if not ref:
                self._say(self._t("console.usage_attach"))
                return
            attachment = await asyncio.to_thread(attachment_for, _ATTACH_COMMANDS[command], ref)
            if attachment is None:
                self._say(self._t("console.no_file", path=ref))
                return
            self._pending.append(attachment)
            self._say(self._t("console.attached", name=attachment.name))
        else:
            self._say(self._t("console.unknown_command", command=command))

    async def _request(self, text: str) -> None:
        self._count += 1
        conversation = Conversation(platform=Platform.CONSOLE, chat_id="console", user_id=self._user_id,
                                    message_id=f"{self._session}-{self._count}", is_direct=True)
        attachments, self._pending = tuple(self._pending), []
        await self._service.handle_message(conversation, text, attachments)
