"""``imabot run``: start every configured platform adapter and serve until SIGINT/SIGTERM.

Each platform's wiring module has a starter (``bot.discord_wiring.start_discord(ctx)``,
``bot.feishu_wiring.start_feishu(ctx)``) that returns an async context manager, or None when that
platform is not configured. A wiring module (and so its SDK: discord.py, lark_oapi) is imported only
when the settings configure that platform. Exit 2 when no platform is configured.

Start-up order: the platforms that need no store (Discord) connect first, with a service that waits
for the app (``bot.late_service``); the app (database, IMA client, parser, pipeline) is built while the
gateway handshake is under way, then the ops server and the platforms that need the stores (Feishu
records its inbox there) start, and the service resumes unfinished jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.app_context import AppContext, PlatformContext
from bot.late_service import LateService
from bot.logs import FORMATS, JobLog, configure_logging
from bot.runtime import GcPacer, settle_heap, warm_up
from bot.settings import Settings, SettingsError, ima_api_key, load_settings
from core.clock import Clock, SystemClock
from core.messages import Messages
from core.ops.telemetry import FanOut

if TYPE_CHECKING:
    from bot.ops.wiring import OpsParts
    from bot.wiring import App

log = logging.getLogger("imabot")

C = TypeVar("C", bound=PlatformContext)
EarlyStarter = Callable[[PlatformContext], AbstractAsyncContextManager[Any] | None]
Starter = Callable[[AppContext], AbstractAsyncContextManager[Any] | None]
SIGNALS = (signal.SIGINT, signal.SIGTERM)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--log-format", choices=FORMATS, default=None,
                        help="json or text (default: text on a terminal, JSON otherwise)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    configure_logging(args.log_level, args.log_format)
    try:
        settings = load_settings(Path(args.config) if args.config else None)
        return asyncio.run(serve(settings))
    except SettingsError as exc:
        print(f"imabot run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def _start_discord(ctx: PlatformContext) -> AbstractAsyncContextManager[Any] | None:
    settings = ctx.settings
    if not settings.discord.enabled or settings.secrets.discord_bot_token is None:
        return None
    from bot.discord_wiring import start_discord

    return start_discord(ctx)


def _start_feishu(ctx: AppContext) -> AbstractAsyncContextManager[Any] | None:
    settings, secrets = ctx.settings, ctx.settings.secrets
    if not settings.feishu.enabled or secrets.feishu_app_id is None or secrets.feishu_app_secret is None:
        return None
    from bot.feishu_wiring import start_feishu

    return start_feishu(ctx)


def early_platform_starters() -> list[tuple[str, EarlyStarter]]:
    """Platforms that need no store: they connect before the app is built."""
    return [("discord", _start_discord)]


def platform_starters() -> list[tuple[str, Starter]]:
    """Platforms that start once the app is built."""
    return [("feishu", _start_feishu)]


async def serve(settings: Settings, stop: asyncio.Event | None = None, clock: Clock | None = None) -> int:
    """Run until ``stop`` is set (SIGINT/SIGTERM set it, from the very start: a signal during start-up,
    e.g. while a platform is still logging in, ends the start-up and exits cleanly); ``clock`` is for
    tests."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        stop.set()
        for sig in SIGNALS:  # a second signal while shutting down gets the default action again
            loop.remove_signal_handler(sig)

    for sig in SIGNALS:
        loop.add_signal_handler(sig, on_signal)
    try:
        return await _serve(settings, stop, clock)
    finally:
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)


async def _serve(settings: Settings, stop: asyncio.Event, clock: Clock | None) -> int:
    ima_api_key(settings)  # a setup problem is told before any platform connects
    clock = clock or SystemClock()
    ops = _ops_parts(settings, clock)
    telemetry = FanOut([JobLog(), *([ops.telemetry] if ops else [])])
    late = LateService(Messages.from_package())
    early = PlatformContext(settings=settings, service=late, clock=clock, telemetry=telemetry)
    started: list[str] = []
    async with AsyncExitStack() as platforms:  # closed before the app: no platform outlives the service
        if not await _unless_stopped(_start(early_platform_starters(), early, platforms, started), stop):
            log.info("imabot stopped during start-up")
            return 0
        from bot.wiring import build_app  # the whole app: loaded while the gateway handshake goes on

        async with build_app(settings, clock=clock, telemetry=telemetry, platforms=early) as app:
            late.bind(app.conversation)
            try:
                return await _run_app(app, settings, ops, platforms, started, stop)
            finally:
                await platforms.aclose()


async def _run_app(app: App, settings: Settings, ops: OpsParts | None, platforms: AsyncExitStack,
                   started: list[str], stop: asyncio.Event) -> int:
    if ops is not None:  # /healthz answers from here on; /readyz says what is not ready yet
        await platforms.enter_async_context(ops.serving(settings, app))
    if not await _unless_stopped(_start(platform_starters(), app.context, platforms, started), stop):
        log.info("imabot stopped during start-up")
        return 0
    if not started:
        print("imabot run: no platform is configured; set DISCORD_BOT_TOKEN and/or FEISHU_APP_ID + "
              "FEISHU_APP_SECRET (see README), or try `imabot demo`", file=sys.stderr)
        return 2
    await app.start()
    warm_up()
    settle_heap()  # everything alive now lives as long as the process (bot/runtime.py)
    collector = GcPacer()
    collector.start()
    log.info("imabot running on %s", ", ".join(started))
    try:
        await stop.wait()
    finally:
        log.info("imabot shutting down")
        await collector.aclose()
        await app.service.aclose()  # park jobs before the platforms close under them
    return 0


async def _start(starters: Sequence[tuple[str, Callable[[C], AbstractAsyncContextManager[Any] | None]]],
                 ctx: C, stack: AsyncExitStack, started: list[str]) -> None:
    for name, starter in starters:
        manager = starter(ctx)
        if manager is not None:
            await stack.enter_async_context(manager)
            started.append(name)


def _ops_parts(settings: Settings, clock: Clock) -> OpsParts | None:
    if not settings.ops.enabled:
        return None
    from bot.ops.wiring import OpsParts  # prometheus_client and the server load only when ops is on

    return OpsParts.create(settings, clock)


async def _unless_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Run ``work`` unless ``stop`` is set first (then cancel it); True when it completed."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False
