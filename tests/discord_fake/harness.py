"""Start the fake Discord and the real adapter (real discord.py client) against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from adapters.chat.delivery import ResultDownloader
from adapters.discord.adapter import DiscordAdapter, DiscordConfig
from adapters.discord.client import ClientOptions
from adapters.discord.sink import SinkConfig
from core.clock import Clock
from core.platform import BotService
from tests.discord_fake.server import FakeDiscord

TOKEN = "fake-bot-token"


@dataclass
class Running:
    fake: FakeDiscord
    adapter: DiscordAdapter


@asynccontextmanager
async def running_adapter(
    fake: FakeDiscord,
    service: BotService,
    clock: Clock,
    *,
    downloader: ResultDownloader | None = None,
    sink: SinkConfig | None = None,
    client: ClientOptions | None = None,
) -> AsyncIterator[DiscordAdapter]:
    config = DiscordConfig(
        token=TOKEN,
        api_base_url=fake.api_base_url,
        gateway_url=fake.gateway_url,
        client=client or ClientOptions(guild_ready_timeout_s=0.05),
        sink=sink or SinkConfig(),
        # result media the fake itself serves (on loopback) are trusted like a local IMA simulator's
        media_origins=frozenset({"{0.scheme}://{0.netloc}".format(urlsplit(fake.api_base_url))}),
    )
    adapter = DiscordAdapter(config, service, clock, downloader=downloader)
    if hasattr(service, "sink"):
        service.sink = adapter.sink
    await adapter.start()
    try:
        await adapter.wait_until_ready()
        yield adapter
    finally:
        await adapter.aclose()
