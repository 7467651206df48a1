"""``imabot discord sync [--guild ID]``: register the slash commands with Discord.

Sync is a bulk overwrite that counts against Discord's daily command-create limit, so it is an explicit
step (after install or after upgrading imabot), never done on every start. ``--guild`` registers the
commands in one server, where they appear at once (handy while trying the bot).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import aiohttp
import discord

from bot.discord_wiring import build_adapter
from bot.settings import Settings, SettingsError, load_settings
from core.catalog.products import ProductLeaf
from core.clock import SystemClock
from core.types import Language, Platform, TaskType


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="discord_command", metavar="ACTION", required=True)
    sync = actions.add_parser("sync", help="register (overwrite) the slash commands with Discord")
    sync.add_argument(
        "--guild", type=int, metavar="ID", help="only in this server (instant); default: global"
    )
    sync.set_defaults(handler=run_sync)


class _NoService:
    """Sync only reads the command definitions; nothing is generated."""

    async def handle_message(self, *args: Any, **kwargs: Any) -> str | None:
        return None

    async def handle_action(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("not serving")

    async def models_for(self, task_type: TaskType) -> list[ProductLeaf]:
        return []

    async def describe_preferences(self, platform: Platform, user_id: str, language: Language) -> str:
        return ""

    async def clear_preferences(self, platform: Platform, user_id: str, language: Language) -> str:
        return ""

    def help_text(self, language: Language) -> str:
        return ""


async def sync_commands(settings: Settings, guild_id: int | None) -> int:
    adapter = build_adapter(settings, _NoService(), SystemClock())
    if adapter is None:
        raise SettingsError("DISCORD_BOT_TOKEN is not set (or discord.enabled is false); see docs/discord.md")
    try:
        await adapter.login()
        return await adapter.sync_commands(guild_id)
    finally:
        await adapter.aclose()


def run_sync(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(Path(args.config) if args.config else None)
        count = asyncio.run(sync_commands(settings, args.guild))
    except SettingsError as exc:
        print(f"imabot discord sync: {exc}", file=sys.stderr)
        return 2
    except discord.LoginFailure:
        print("imabot discord sync: Discord rejected DISCORD_BOT_TOKEN", file=sys.stderr)
        return 2
    except discord.HTTPException as exc:
        print(f"imabot discord sync: Discord answered HTTP {exc.status} (code {exc.code})", file=sys.stderr)
        return 1
    except (aiohttp.ClientConnectionError, TimeoutError) as exc:
        print(f"imabot discord sync: cannot reach Discord's API ({type(exc).__name__}); check the network, "
              "or discord.api_base_url when using a proxy or a fake", file=sys.stderr)
        return 1
    where = f"server {args.guild}" if args.guild else "all servers (global)"
    print(f"Registered {count} slash commands for {where}.")
    return 0
