"""What every platform starter shares: register the adapter's sink and attachment fetcher with the app,
then run the adapter for as long as the returned context is entered."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from bot.app_context import PlatformContext
from bot.settings import SettingsError
from core.ops.observed import ObservedSink
from core.ops.telemetry import Connectable
from core.platform import PlatformAdapter
from core.types import Platform

RefusalCheck = Callable[[BaseException], SettingsError | None]
"""Maps a start-up failure to a configuration error for the operator (None: not a refusal)."""


def register_and_run(ctx: PlatformContext, platform: Platform, adapter: PlatformAdapter,
                     refused: RefusalCheck) -> AbstractAsyncContextManager[None]:
    """The sink and fetcher are registered at once, before anything is received; every emit is observed
    (platform calls, progress, deliveries)."""
    ctx.sinks[platform] = ObservedSink(platform, adapter.sink, ctx.telemetry)
    ctx.fetchers[platform] = adapter.fetcher
    return _running(ctx, platform, adapter, refused)


@asynccontextmanager
async def _running(ctx: PlatformContext, platform: Platform, adapter: PlatformAdapter,
                   refused: RefusalCheck) -> AsyncIterator[None]:
    ctx.connections[platform] = lambda: False
    try:
        await adapter.start()
    except BaseException as exc:
        await adapter.aclose()
        problem = refused(exc)
        if problem is not None:
            raise problem from exc
        raise
    # An adapter that cannot tell counts as connected while it runs.
    ctx.connections[platform] = _probe(adapter)
    try:
        yield
    finally:
        ctx.connections[platform] = lambda: False
        await adapter.aclose()


def _probe(adapter: PlatformAdapter) -> Callable[[], bool]:
    if isinstance(adapter, Connectable):
        return lambda: adapter.connected
    return lambda: True
