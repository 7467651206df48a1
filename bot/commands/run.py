"""``imabot run``: start every configured platform adapter and serve until SIGINT/SIGTERM.

Platform starters are optional modules: ``bot.discord_wiring.start_discord(ctx)`` and
``bot.feishu_wiring.start_feishu(ctx)`` each return an async context manager (or None when that
platform is not configured). Exit 2 when no platform is configured.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import signal
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from pathlib import Path
from typing import Any

from bot.app_context import AppContext
from bot.settings import Settings, SettingsError, load_settings
from bot.wiring import build_app
from core.clock import Clock

log = logging.getLogger("imabot")

Starter = Callable[[AppContext], AbstractAsyncContextManager[Any] | None]
STARTERS = (("bot.discord_wiring", "start_discord"), ("bot.feishu_wiring", "start_feishu"))


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run the bot on the configured platforms (Discord, Feishu)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(Path(args.config) if args.config else None)
        return asyncio.run(serve(settings))
    except SettingsError as exc:
        print(f"imabot run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def available_starters() -> list[tuple[str, Starter]]:
    found: list[tuple[str, Starter]] = []
    for module_name, attr in STARTERS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        found.append((module_name, getattr(module, attr)))
    return found


async def serve(settings: Settings, stop: asyncio.Event | None = None, clock: Clock | None = None) -> int:
    """Run until ``stop`` is set (SIGINT/SIGTERM set it); ``clock`` is for tests."""
    stop = stop or asyncio.Event()
    async with build_app(settings, clock=clock) as app, AsyncExitStack() as platforms:
        started = []
        for name, starter in available_starters():
            manager = starter(app.context)
            if manager is not None:
                await platforms.enter_async_context(manager)
                started.append(name)
        if not started:
            print("imabot run: no platform is configured; set DISCORD_BOT_TOKEN and/or FEISHU_APP_ID + "
                  "FEISHU_APP_SECRET (see README), or try `imabot demo`", file=sys.stderr)
            return 2
        await app.start()
        log.info("imabot running on %s", ", ".join(started))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            log.info("imabot shutting down")
            await app.service.aclose()  # park jobs before the platforms close under them
    return 0
