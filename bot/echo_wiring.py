"""Start the in-memory echo platform from settings (``[echo] enabled``): tests drive it in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from adapters.echo.adapter import EchoAdapter
from bot.app_context import PlatformContext
from bot.platform_start import register_and_run
from core.types import Language, Platform


def start_echo(ctx: PlatformContext) -> AbstractAsyncContextManager[EchoAdapter] | None:
    if not ctx.settings.echo.enabled:
        return None
    adapter = EchoAdapter(ctx.service, default_language=Language(ctx.settings.bot.default_language))
    return _running(register_and_run(ctx, Platform.ECHO, adapter, lambda _exc: None), adapter)


@asynccontextmanager
async def _running(run: AbstractAsyncContextManager[None], adapter: EchoAdapter
                   ) -> AsyncIterator[EchoAdapter]:
    async with run:
        yield adapter
