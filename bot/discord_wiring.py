"""Start the Discord adapter from settings (used by ``imabot run`` and ``imabot discord sync``)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from urllib.parse import urlsplit

import aiohttp
import discord

from adapters.chat.status import EditPolicy
from adapters.discord.adapter import DiscordAdapter, DiscordConfig
from adapters.discord.client import ClientOptions
from adapters.discord.endpoints import normalized_api_base
from adapters.discord.sink import SinkConfig
from bot.app_context import PlatformContext
from bot.platform_start import register_and_run
from bot.settings import Settings, SettingsError
from core.clock import Clock
from core.ops.telemetry import Telemetry
from core.platform import BotService
from core.types import Language, Platform


def discord_config(settings: Settings) -> DiscordConfig | None:
    """None when DISCORD_BOT_TOKEN is not set or ``discord.enabled`` is false."""
    token = settings.secrets.discord_bot_token
    if token is None or not settings.discord.enabled:
        return None
    d = settings.discord
    return DiscordConfig(
        token=token.get_secret_value(),
        api_base_url=d.api_base_url,
        gateway_url=d.gateway_url,
        client=ClientOptions(
            max_attachment_bytes=settings.bot.max_attachment_bytes,
            default_language=Language(settings.bot.default_language),
            application_id=d.application_id,
            shard_id=d.shard_ids[0] if d.shard_ids else None,
            shard_count=d.shard_count,
        ),
        sink=SinkConfig(
            edit_policy=EditPolicy(interval_s=d.edit_interval_s), temp_dir=settings.storage.data_dir / "tmp"
        ),
        media_origins=settings.ima.origins,
    )


def build_adapter(settings: Settings, service: BotService, clock: Clock,
                  telemetry: Telemetry | None = None) -> DiscordAdapter | None:
    config = discord_config(settings)
    return DiscordAdapter(config, service, clock, telemetry=telemetry) if config is not None else None


def start_discord(ctx: PlatformContext) -> AbstractAsyncContextManager[None] | None:
    """Registers the Discord sink and attachment fetcher at once; entering the returned context logs in
    and connects to the gateway in the background; leaving it disconnects."""
    adapter = build_adapter(ctx.settings, ctx.service, ctx.clock, ctx.telemetry)
    if adapter is None:
        return None
    api_host = urlsplit(normalized_api_base(ctx.settings.discord.api_base_url)).netloc
    return register_and_run(ctx, Platform.DISCORD, adapter, lambda exc: _refusal(exc, api_host))


def _refusal(exc: BaseException, api_host: str) -> SettingsError | None:
    if isinstance(exc, discord.LoginFailure):
        return SettingsError("Discord rejected DISCORD_BOT_TOKEN; copy the bot token again (docs/discord.md)")
    if isinstance(exc, aiohttp.ClientConnectionError | TimeoutError):
        return SettingsError(f"cannot reach Discord's API at {api_host} ({type(exc).__name__}); check the "
                             "network, or discord.api_base_url when using a proxy or a fake")
    return None
