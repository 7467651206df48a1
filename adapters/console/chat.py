"""The interactive terminal chat of ``imabot demo``: type requests, attach local files, see results."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import secrets
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import TextIO

from adapters.chat.texts import chat_messages, internal_error
from adapters.console import MESSAGES_PACKAGE
from core.conversation.follow import JOB_REF_PREFIX
from core.intent.hygiene import clean_text
from core.intent.language import detect_language
from core.messages import Messages
from core.platform import ActionKind, ActionOutcome, BotService
from core.types import Attachment, AttachmentKind, Conversation, Language, Platform

_ATTACH_COMMANDS = {"/image": AttachmentKind.IMAGE, "/video": AttachmentKind.VIDEO,
                    "/audio": AttachmentKind.AUDIO}
log = logging.getLogger(__name__)

_QUIT = frozenset({"/quit", "/exit", "/q"})
_ACTIONS = {"/retry": ActionKind.RETRY, "/faster": ActionKind.FASTER, "/better": ActionKind.BETTER,
            "/frame": ActionKind.FIRST_FRAME}
# The job's own messages (a new acknowledgment, the cancellation notice) already say it; a platform's
# toast would print the same news twice in a terminal.
_SHOWN_BY_THE_JOB = frozenset({ActionOutcome.STARTED, ActionOutcome.CANCELLED})


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
                 user_id: str = "you", banner_languages: Sequence[Language] | None = None,
                 on_request: Callable[[str, str], None] | None = None) -> None:
        self._service = service
        self._m = chat_messages(messages, MESSAGES_PACKAGE)
        self._out = out
        self._language = language
        self._user_id = user_id
        self._session = secrets.token_hex(4)  # message ids must not repeat across demo runs
        self._count = 0
        self._pending: list[Attachment] = []
        self._banner_languages = tuple(banner_languages or (language,))
        self._last_job: str | None = None
        self._on_request = on_request  # (job id, the words that started it): the sink labels results

    @property
    def language(self) -> Language:
        """The language the user writes in (console-only texts follow it)."""
        return self._language

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
        elif command in _ACTIONS:
            await self._action(_ACTIONS[command])
        elif command == "/cancel":  # the same words as typing "cancel": one job stops, several are listed
            await self._request(self._t("console.cancel_words"))
        elif command == "/reply":
            await self._reply(arg.strip())
        else:
            self._say(self._t("console.unknown_command", command=command))

    async def _action(self, action: ActionKind) -> None:
        if self._last_job is None:
            self._say(self._t("console.no_job"))
            return
        reply = await self._service.handle_action(self._conversation(), self._last_job, action)
        if reply.outcome not in _SHOWN_BY_THE_JOB:
            self._say(reply.text)
        if reply.new_job_id:
            self._last_job = reply.new_job_id

    async def _reply(self, words: str) -> None:
        """A terminal has no message to reply to: /reply builds on the last result, like a platform reply."""
        if not words:
            self._say(self._t("console.usage_reply"))
            return
        if self._last_job is None:
            self._say(self._t("console.no_job"))
            return
        await self._request(words, reply_to=f"{JOB_REF_PREFIX}{self._last_job}")

    def _conversation(self, reply_to: str | None = None) -> Conversation:
        self._count += 1
        return Conversation(platform=Platform.CONSOLE, chat_id="console", user_id=self._user_id,
                            message_id=f"{self._session}-{self._count}", is_direct=True, reply_to=reply_to)

    async def _request(self, text: str, reply_to: str | None = None) -> None:
        self._language = detect_language(text, self._language)
        attachments, self._pending = tuple(self._pending), []
        try:
            job_id = await self._service.handle_message(self._conversation(reply_to), clean_text(text),
                                                        attachments)
        except Exception as exc:  # a bug must not end the chat; the user can simply try again
            log.error("console request failed: %s", type(exc).__name__)
            self._say(internal_error(self._m, self._language))
            return
        if job_id is not None:
            self._last_job = job_id
            if self._on_request is not None:
                self._on_request(job_id, text)
