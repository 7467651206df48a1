"""One Discord connection: the client, its sink and downloader, with an async lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import discord
import discord.http

from adapters.chat.delivery import ResultDownloader
from adapters.chat.download import SafeResultDownloader
from adapters.chat.texts import chat_messages
from adapters.discord import MESSAGES_PACKAGE
from adapters.discord.client import ClientOptions, ImabotDiscordClient
from adapters.discord.download import DiscordAttachmentFetcher
from adapters.discord.endpoints import (
    LOOPBACK_NAMES,
    apply_endpoint_overrides,
    normalized_api_base,
    normalized_gateway,
    override_hosts,
    set_gateway,
)
from adapters.discord.origins import Origins
from adapters.discord.sink import DiscordSink, SinkConfig
from adapters.media.remote import SafeRemoteFetcher
from core.clock import Clock
from core.messages import Messages
from core.ops.telemetry import Telemetry
from core.platform import BotService

_log = logging.getLogger(__name__)
DOWNLOAD_TIMEOUT_S = 60.0
HANDSHAKE_WAIT_S = 2.0


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    token: str = field(repr=False)
    api_base_url: str | None = None
    gateway_url: str | None = None
    client: ClientOptions = field(default_factory=ClientOptions)
    sink: SinkConfig = field(default_factory=SinkConfig)
    media_origins: frozenset[str] = frozenset()  # e.g. a local IMA simulator's origin, trusted by origin


class DiscordAdapter:
    def __init__(
        self,
        config: DiscordConfig,
        service: BotService,
        clock: Clock,
        *,
        messages: Messages | None = None,
        downloader: ResultDownloader | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._config = config
        # The one safe fetcher for attachments and results; the IMA hosts the operator configured (a local
        # simulator) are trusted by origin, Discord's own hosts by name (per call).
        self._fetcher = SafeRemoteFetcher(timeout_s=DOWNLOAD_TIMEOUT_S, trusted_origins=config.media_origins)
        self.downloader: ResultDownloader = downloader or SafeResultDownloader(self._fetcher)
        self.messages = chat_messages(messages, MESSAGES_PACKAGE)
        self.origins = Origins(clock)
        self.client = ImabotDiscordClient(service, self.messages, self.origins, config.client)
        self.sink = DiscordSink(self.client, self.messages, clock, self.origins, self.downloader, config.sink,
                                telemetry=telemetry)
        self.fetcher = DiscordAttachmentFetcher(
            self._fetcher, override_hosts(config.api_base_url, config.gateway_url)
        )
        self._task: asyncio.Task[None] | None = None

    async def login(self) -> None:
        apply_endpoint_overrides(self._config.api_base_url, self._config.gateway_url)
        await self.client.login(self._config.token)
        if self._config.api_base_url and not self._config.gateway_url:
            await self._discover_gateway()

    async def _discover_gateway(self) -> None:
        """A REST override without a gateway override: ask that server where its gateway is, as
        Discord documents (``GET /gateway/bot``, then ``GET /gateway``), rather than dialling the real
        Discord gateway with a token meant for a proxy or a fake."""
        for path in ("/gateway/bot", "/gateway"):
            try:
                data = await self.client.http.request(discord.http.Route("GET", path))
            except discord.HTTPException:
                continue
            url = data.get("url") if isinstance(data, dict) else None
            if isinstance(url, str) and url and self._may_dial(url):
                gateway = normalized_gateway(url)
                set_gateway(gateway)
                self.fetcher.trust(override_hosts(url))
                return
        api = urlsplit(normalized_api_base(self._config.api_base_url))
        fallback = f"{'wss' if api.scheme == 'https' else 'ws'}://{api.netloc}/"
        _log.warning("discord: the API override does not say where its gateway is; trying %s", fallback)
        set_gateway(normalized_gateway(fallback))

    def _may_dial(self, gateway_url: str) -> bool:
        """A loopback REST override (a local fake) never sends the bot to a gateway elsewhere, e.g. a
        copied real answer naming gateway.discord.gg."""
        local = override_hosts(self._config.api_base_url)
        if not (local & LOOPBACK_NAMES):
            return True
        return (urlsplit(gateway_url).hostname or "").lower() in local

    async def start(self) -> None:
        """Log in and keep the gateway connection running in the background. Returns once the session
        is identifying (at most ``HANDSHAKE_WAIT_S``): work that blocks the event loop next, such as
        building the rest of the app, then no longer holds up the handshake; a gateway that cannot be
        reached yet is retried in the background as before."""
        await self.login()
        self._task = asyncio.get_running_loop().create_task(self._connect(), name="discord-gateway")
        identifying = asyncio.ensure_future(self.client.identifying.wait())
        await asyncio.wait({identifying, self._task}, timeout=HANDSHAKE_WAIT_S,
                           return_when=asyncio.FIRST_COMPLETED)
        identifying.cancel()

    async def _connect(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired:
            _log.error("Discord refused the requested intents; see docs/discord.md")
        except discord.LoginFailure:
            _log.error("Discord rejected the bot token (DISCORD_BOT_TOKEN)")

    @property
    def connected(self) -> bool:
        """The gateway socket is open and the session is ready (false while reconnecting)."""
        ws = self.client.ws
        return self.client.is_ready() and not self.client.is_closed() and ws is not None and ws.open

    async def wait_until_ready(self) -> None:
        await self.client.wait_until_ready()

    async def sync_commands(self, guild_id: int | None = None) -> int:
        """Overwrite the registered slash commands (global, or one guild: instant). Needs ``login``."""
        guild = discord.Object(id=guild_id) if guild_id is not None else None
        if guild is not None:
            self.client.tree.copy_global_to(guild=guild)
        synced = await self.client.tree.sync(guild=guild)
        return len(synced)

    async def aclose(self) -> None:
        await self.sink.aclose()
        await self.client.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._fetcher.aclose()
