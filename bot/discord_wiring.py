"""Start the Discord adapter from settings (used by ``imabot run`` and ``imabot discord sync``)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import discord

from adapters.discord.adapter import DiscordAdapter, DiscordConfig
from adapters.discord.client import ClientOptions
from adapters.discord.sink import SinkConfig
from adapters.discord.throttle import EditPolicy
from bot.app_context import AppContext
from bot.platform_start import register_and_run
from bot.settings import Settings, SettingsError
from core.clock import Clock
from core.service_api import BotService
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
        ),
        sink=SinkConfig(
            edit_policy=EditPolicy(interval_s=d.edit_interval_s), temp_dir=settings.storage.data_dir / "tmp"
        ),
    )


def build_adapter(settings: Settings, service: BotService, clock: Clock) -> DiscordAdapter | None:
    config = discord_config(settings)
    return DiscordAdapter(config, service, clock) if config is not None else None


def start_discord(ctx: AppContext) -> AbstractAsyncContextManager[None] | None:
    """Registers the Discord sink and attachment fetcher at once; entering the returned context logs in
    and connects to the gateway in the background; leaving it disconnects."""
    adapter = build_adapter(ctx.settings, ctx.service, ctx.clock)
    if adapter is None:
        return None
    return register_and_run(ctx, Platform.DISCORD, adapter, _refusal)


def _refusal(exc: BaseException) -> SettingsError | None:
    if isinstance(exc, discord.LoginFailure):
        return SettingsError("Discord rejected DISCORD_BOT_TOKEN; copy the bot token again (docs/discord.md)")
    return None
