"""The Feishu / Lark adapter as one unit with an async lifecycle.

Construction does no I/O, so ``sink`` and ``fetcher`` can be registered with the bot before ``start()``
opens the intake (long connection by default, or the webhook server).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

import httpx

from adapters.chat.download import SafeResultDownloader
from adapters.chat.texts import chat_messages
from adapters.feishu import MESSAGES_PACKAGE
from adapters.feishu.api import FeishuApi, RetryPolicy, build_client
from adapters.feishu.delivery import MediaDelivery
from adapters.feishu.dispatcher import ACTION_WAIT_S, build_dispatcher
from adapters.feishu.fetcher import FeishuAttachmentFetcher
from adapters.feishu.long_connection import LongConnection
from adapters.feishu.router import FeishuRouter, RouterConfig
from adapters.feishu.sink import FeishuSink
from adapters.feishu.webhook import WebhookServer
from adapters.media.remote import SafeRemoteFetcher
from core.clock import Clock
from core.errors import ErrorKind, PlatformError
from core.media.ports import MediaProbe
from core.messages import Messages
from core.ops.telemetry import Telemetry
from core.platform import BotService
from core.ports import DedupeStore, InboxStore
from core.types import Language

log = logging.getLogger(__name__)
DOWNLOAD_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class FeishuConfig:
    app_id: str
    app_secret: str
    domain: str = "https://open.feishu.cn"
    intake: Literal["long_connection", "webhook"] = "long_connection"
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8090
    webhook_path: str = "/feishu/events"
    encrypt_key: str = ""
    verification_token: str = ""
    patch_interval_s: float = 3.0
    default_language: Language = Language.ZH
    temp_dir: Path | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    action_wait_s: float = ACTION_WAIT_S  # card callbacks must be answered within 3 s
    media_origins: frozenset[str] = frozenset()  # e.g. a local IMA simulator's origin, trusted by origin
    inbox_hold_s: float = 60.0  # an accepted message unfinished this long is taken over (the job lease)
    inbox_recover_every_s: float | None = None  # how often to look for such messages (None: hold / 2)


class FeishuAdapter:
    def __init__(self, config: FeishuConfig, service: BotService, dedupe: DedupeStore, clock: Clock, *,
                 messages: Messages | None = None, probe: MediaProbe | None = None,
                 media_transport: httpx.AsyncBaseTransport | None = None,
                 telemetry: Telemetry | None = None,
                 inbox: InboxStore | None = None) -> None:
        self._config = config
        messages = chat_messages(messages, MESSAGES_PACKAGE)
        client = build_client(config.app_id, config.app_secret, config.domain)
        self.api = FeishuApi(client, clock, config.retry)
        # Everything is downloaded through the one safe fetcher. Results come from IMA's CDN
        # (``media_transport`` lets tests serve them in-process; a local simulator is trusted by origin);
        # user files come from Feishu itself (trusted by name, per call).
        self._media_fetcher = SafeRemoteFetcher(transport=media_transport, timeout_s=DOWNLOAD_TIMEOUT_S,
                                                trusted_origins=config.media_origins)
        self._feishu_fetcher = SafeRemoteFetcher(timeout_s=DOWNLOAD_TIMEOUT_S)
        delivery = MediaDelivery(self.api, SafeResultDownloader(self._media_fetcher), messages, probe,
                                 config.temp_dir)
        self.sink = FeishuSink(self.api, delivery, messages, clock, config.patch_interval_s,
                               telemetry=telemetry)
        self.fetcher = FeishuAttachmentFetcher(self.api, self._feishu_fetcher, config.domain)
        self.router = FeishuRouter(service, dedupe, self.api, messages,
                                   RouterConfig(default_language=config.default_language,
                                                inbox_hold_s=config.inbox_hold_s,
                                                recover_every_s=config.inbox_recover_every_s
                                                or config.inbox_hold_s / 2),
                                   inbox=inbox, clock=clock)
        self._intake: LongConnection | WebhookServer | None = None

    @property
    def webhook_url(self) -> str | None:
        return self._intake.url if isinstance(self._intake, WebhookServer) else None

    @property
    def connected(self) -> bool:
        return self._intake is not None and self._intake.connected

    async def start(self) -> None:
        try:
            self.router.bot_open_id = await self.api.bot_open_id()
        except PlatformError as exc:
            if exc.kind is ErrorKind.AUTH:
                raise  # the app id / secret are wrong: running deaf would only hide it
            # Still usable: Feishu only delivers group messages that @mention the bot by default.
            log.warning("feishu: bot identity unavailable (%r); any @mention counts as addressed to the bot",
                        exc)
        config = self._config
        dispatcher = build_dispatcher(self.router, asyncio.get_running_loop(),
                                      encrypt_key=config.encrypt_key,
                                      verification_token=config.verification_token,
                                      action_wait_s=config.action_wait_s)
        if config.intake == "webhook":
            self._intake = WebhookServer(dispatcher, host=config.webhook_host, port=config.webhook_port,
                                         path=config.webhook_path, encrypt_key=config.encrypt_key,
                                         verification_token=config.verification_token)
        else:
            self._intake = LongConnection(config.app_id, config.app_secret, config.domain, dispatcher)
        await self._intake.start()
        await self.router.start()
        log.info("feishu adapter started (%s)", config.intake)

    async def aclose(self) -> None:
        if self._intake is not None:
            await self._intake.aclose()
            self._intake = None
        await self.router.aclose()
        await self.sink.aclose()
        await self._media_fetcher.aclose()
        await self._feishu_fetcher.aclose()

    async def __aenter__(self) -> FeishuAdapter:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
