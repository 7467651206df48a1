"""``EventSink`` for Discord: one status message edited in place (steps 0-2), new result messages
(steps 3-4) that mention the requester, and notices.

Status edits go through the interaction's original response while its token is usable, then through
bot-token edits of the same channel message; both go through the chat kit's ``StatusEditor``. Results
come through the chat kit's delivery: files that fit are attached, the rest are links Discord unfurls.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import discord

from adapters.chat.delivery import DeliveryLimits, ResultDownloader, ResultFile, deliver_results
from adapters.chat.status import EditPolicy, StatusEditor
from adapters.chat.texts import chat_messages
from adapters.discord import MESSAGES_PACKAGE
from adapters.discord.buttons import action_view, choice_view
from adapters.discord.origins import Origin, Origins
from adapters.discord.refs import MessageRef
from adapters.discord.render import result_content, status_content, truncate
from core.clock import Clock
from core.errors import ErrorKind, PlatformError
from core.messages import Messages
from core.ops.telemetry import NoTelemetry, Telemetry
from core.platform import ActionKind, Slot, Step, UxEvent
from core.types import Conversation, Language, Platform

_log = logging.getLogger(__name__)
DEFAULT_FILESIZE_LIMIT = 10 * 1024 * 1024
_FLUSH_MEMORY = 1000
MAX_FILES_PER_MESSAGE = 10
_MENTIONS = discord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=True)


@dataclass(frozen=True, slots=True)
class StatusRender:
    content: str
    job_id: str
    actions: tuple[ActionKind, ...]
    language: Language
    ref: MessageRef = field(compare=False)


@dataclass(frozen=True, slots=True)
class SinkConfig:
    edit_policy: EditPolicy = field(default_factory=EditPolicy)
    token_margin_s: float = 60.0  # stop using a 15-min interaction token this long before it expires
    default_filesize_limit: int = DEFAULT_FILESIZE_LIMIT
    max_request_bytes: int = 25 * 1024 * 1024  # Discord caps one message's uploads together
    temp_dir: Path | None = None  # where results are downloaded before upload (default: the system's)


def platform_error(exc: discord.HTTPException) -> PlatformError:
    kind = (
        ErrorKind.RATE_LIMITED
        if exc.status == 429
        else (ErrorKind.NETWORK if exc.status >= 500 else ErrorKind.INTERNAL)
    )
    return PlatformError(f"discord HTTP {exc.status} code {exc.code}", kind=kind, code=exc.code)


class DiscordSink:
    def __init__(
        self,
        client: discord.Client,
        messages: Messages,
        clock: Clock,
        origins: Origins,
        downloader: ResultDownloader,
        config: SinkConfig | None = None,
        *,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._client = client
        self._messages = chat_messages(messages, MESSAGES_PACKAGE)
        self._clock = clock
        self._origins = origins
        self._downloader = downloader
        self._config = config or SinkConfig()
        self._editor: StatusEditor[StatusRender] = StatusEditor(
            clock, self._config.edit_policy, self._apply_status,
            waited=partial((telemetry or NoTelemetry()).platform_rate_limited, Platform.DISCORD),
        )
        self._status: dict[str, StatusRender] = {}  # job id -> last submitted status (while running)
        self._status_keys: OrderedDict[str, str] = OrderedDict()  # job id -> status key (for flush)
        self._dead_tokens: set[str] = set()
        self._mentioned: OrderedDict[str, None] = OrderedDict()  # jobs whose requester was pinged

    async def aclose(self) -> None:
        await self._editor.aclose(drain=False)

    async def flush(self, job_id: str) -> None:
        """Wait for the job's pending status edit (tests and orderly shutdown)."""
        key = self._status_keys.get(job_id)
        if key is not None:
            await self._editor.flush(key)

    # ------------------------------------------------------------------ EventSink
    async def emit(self, event: UxEvent) -> str | None:
        try:
            if event.step == Step.DONE:  # the final summary; the buttons ride on the result message
                ref = await self._status_event(replace(event, actions=())) if event.message_ref else None
                self._close_status(event.job_id)
                return ref
            if event.slot == Slot.STATUS:
                return await self._status_event(event)
            if event.slot == Slot.RESULT:
                self._close_status(event.job_id)
                return await self._result_event(event)
            return await self._notice_event(event)
        except discord.HTTPException as exc:
            raise platform_error(exc) from exc
        except discord.RateLimited as exc:  # a 429 wait longer than max_ratelimit_timeout
            raise PlatformError(
                "discord rate limit", kind=ErrorKind.RATE_LIMITED, retry_after=exc.retry_after
            ) from exc

    # ------------------------------------------------------------------ status (steps 0-2)
    async def _status_event(self, event: UxEvent) -> str:
        content = status_content(event.text, event.percent)
        known = self._status.get(event.job_id)
        ref = known.ref if known is not None else MessageRef.decode(event.message_ref)
        if ref is None:
            ref = await self._post_status(event, content)
            render = StatusRender(content, event.job_id, event.actions, event.language, ref)
            self._editor.mark_edited(_key(ref), render, ref.created_at)
        else:
            render = StatusRender(content, event.job_id, event.actions, event.language, ref)
            self._editor.submit(_key(ref), render, ref.created_at)
        self._status[event.job_id] = render
        self._status_keys[event.job_id] = _key(ref)
        while len(self._status_keys) > _FLUSH_MEMORY:
            self._status_keys.popitem(last=False)
        # Persist the interaction token only while it can still be used.
        usable = ref.token_usable(self._clock.now(), self._config.token_margin_s)
        return (ref if usable else ref.without_token()).encode()

    async def _post_status(self, event: UxEvent, content: str) -> MessageRef:
        view = action_view(event.job_id, event.actions, self._messages, event.language)
        now = self._clock.now()
        origin = self._origins.get(event.conversation.message_id)
        if origin is not None and origin.interaction is not None and self._original_free(origin):
            origin.original_used = True
            msg = await origin.interaction.edit_original_response(
                content=content, view=view, allowed_mentions=_MENTIONS
            )
            return MessageRef(msg.channel.id, msg.id, now, origin.interaction.token, origin.token_expires_at)
        sent = await self._send_or_fall_back(event, content, view, origin)
        return MessageRef(sent.channel.id, sent.id, now)

    def _original_free(self, origin: Origin) -> bool:
        return (
            origin.owns_original
            and not origin.original_used
            and self._clock.now() < origin.token_expires_at - self._config.token_margin_s
        )

    async def _apply_status(self, key: str, render: StatusRender) -> None:
        ref = render.ref
        view = action_view(render.job_id, render.actions, self._messages, render.language)
        if (
            ref.token
            and ref.token not in self._dead_tokens
            and ref.token_usable(self._clock.now(), self._config.token_margin_s)
        ):
            origin = self._origins.by_token(ref.token)
            if origin is not None and origin.interaction is not None:
                try:
                    await origin.interaction.edit_original_response(content=render.content, view=view)
                    return
                except discord.HTTPException as exc:
                    if exc.status not in (401, 404):
                        raise
                    _log.info(
                        "interaction token no longer usable (HTTP %s); using bot-token edits", exc.status
                    )
                    self._dead_tokens.add(ref.token)
        message = self._client.get_partial_messageable(ref.channel_id).get_partial_message(ref.message_id)
        await message.edit(content=render.content, view=view)

    def _close_status(self, job_id: str) -> None:
        """The job finished: take the Cancel button off its status message."""
        render = self._status.pop(job_id, None)
        if render is None:
            return
        if render.actions:
            self._editor.submit(_key(render.ref), replace(render, actions=()), render.ref.created_at)
        self._editor.retire(_key(render.ref))

    # ------------------------------------------------------------------ results (steps 3-4)
    async def _result_event(self, event: UxEvent) -> str:
        view = action_view(event.job_id, event.actions, self._messages, event.language)
        limit = self._filesize_limit(event.conversation)
        limits = DeliveryLimits(max_file_bytes=lambda _media: limit, max_files=MAX_FILES_PER_MESSAGE,
                                max_message_bytes=self._config.max_request_bytes)

        async def post(files: list[ResultFile], _workdir: Path) -> discord.Message:
            attached = [f.path for f in files if f.path is not None]
            unfurl = [f.media.url for f in files if f.path is None]
            # The core sends the copyable link as its own RESULT part; mention the user once per job.
            mention = self._mention_once(event)
            content = result_content(mention, event.text, unfurl, ())
            return await self._deliver(event, mention, content, attached, view)

        msg = await deliver_results(event.media, self._downloader, limits, post, self._config.temp_dir)
        return MessageRef(msg.channel.id, msg.id, self._clock.now()).encode()

    def _mention_once(self, event: UxEvent) -> str | None:
        if event.job_id in self._mentioned:
            return None
        self._mentioned[event.job_id] = None
        while len(self._mentioned) > _FLUSH_MEMORY:
            self._mentioned.popitem(last=False)
        return event.conversation.user_id

    async def _deliver(
        self,
        event: UxEvent,
        mention: str | None,
        content: str,
        files: list[Path],
        view: discord.ui.View | None,
    ) -> discord.Message:
        origin = self._origins.get(event.conversation.message_id)
        try:
            return await self._send(event.conversation, content, view=view, files=files, origin=origin,
                                    nonce=event.token)
        except discord.Forbidden:
            if files:
                _log.warning("cannot attach files in channel %s; sending links", event.conversation.chat_id)
                links = [m.url for m in event.media]
                content = result_content(mention, event.text, links, ())
                try:
                    return await self._send(event.conversation, content, view=view, origin=origin,
                                            nonce=event.token)
                except discord.Forbidden:
                    pass
            return await self._send_elsewhere(event, content, view, origin)

    async def _send_or_fall_back(
        self, event: UxEvent, content: str, view: discord.ui.View | None, origin: Origin | None
    ) -> discord.Message:
        try:
            return await self._send(event.conversation, content, view=view, origin=origin, nonce=event.token)
        except discord.Forbidden:
            return await self._send_elsewhere(event, content, view, origin)

    async def _send_elsewhere(
        self, event: UxEvent, content: str, view: discord.ui.View | None, origin: Origin | None
    ) -> discord.Message:
        """The channel refused us: a followup through the interaction if possible, else a DM."""
        _log.warning("cannot post in channel %s; falling back", event.conversation.chat_id)
        if (
            origin is not None
            and origin.interaction is not None
            and self._clock.now() < origin.token_expires_at - self._config.token_margin_s
        ):
            kwargs: dict[str, Any] = {"view": view} if view is not None else {}
            return await origin.interaction.followup.send(
                content=content, allowed_mentions=_MENTIONS, wait=True, **kwargs
            )
        note = self._messages.text("discord.result.moved_to_dm", event.language)
        links = [m.url for m in event.media]
        dm_content = result_content(event.conversation.user_id, event.text, links, links, note=note)
        dm = await self._client.create_dm(discord.Object(id=int(event.conversation.user_id)))
        return await dm.send(
            content=dm_content, view=view or discord.utils.MISSING, allowed_mentions=_MENTIONS
        )

    def _filesize_limit(self, conversation: Conversation) -> int:
        origin = self._origins.get(conversation.message_id)
        if origin is not None and origin.interaction is not None:
            return int(origin.interaction.filesize_limit)
        channel = (
            self._client.get_channel(int(conversation.chat_id)) if conversation.chat_id.isdigit() else None
        )
        guild = getattr(channel, "guild", None)
        if isinstance(guild, discord.Guild):
            return guild.filesize_limit
        return self._config.default_filesize_limit

    # ------------------------------------------------------------------ notices
    async def _notice_event(self, event: UxEvent) -> str:
        content = truncate(event.text)
        origin = self._origins.get(event.conversation.message_id)
        view = choice_view(event.choices)
        msg: discord.Message
        if origin is not None and origin.interaction is not None and self._original_free(origin):
            origin.original_used = True
            extra: dict[str, Any] = {"view": view} if view is not None else {}
            msg = await origin.interaction.edit_original_response(content=content, **extra)
        else:
            msg = await self._send_or_fall_back(event, content, view, origin)
        return MessageRef(msg.channel.id, msg.id, self._clock.now()).encode()

    # ------------------------------------------------------------------ sending
    async def _send(
        self,
        conversation: Conversation,
        content: str,
        *,
        view: discord.ui.View | None = None,
        files: list[Path] | None = None,
        origin: Origin | None = None,
        nonce: str | None = None,
    ) -> discord.Message:
        """``nonce``: a result part's idempotency token; discord.py sends it with ``enforce_nonce``, so
        Discord answers a repeat (within a few minutes) with the message it already made."""
        channel = self._client.get_partial_messageable(int(conversation.chat_id))
        kwargs: dict[str, Any] = {"allowed_mentions": _MENTIONS}
        if nonce:
            kwargs["nonce"] = nonce
        if view is not None:
            kwargs["view"] = view
        if files:
            kwargs["files"] = [discord.File(p, filename=p.name) for p in files]
        if origin is not None and origin.message is not None:
            kwargs["reference"] = origin.message.to_reference(fail_if_not_exists=False)
        try:
            return await channel.send(content=content, **kwargs)
        finally:
            for f in kwargs.get("files", []):
                f.close()


def _key(ref: MessageRef) -> str:
    return f"{ref.channel_id}/{ref.message_id}"
