# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""Starting the adapter from settings, and ``imabot discord sync`` as a user runs it."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from adapters.sqlite.db import Database
from bot.app_context import AppContext
from bot.discord_wiring import start_discord
from bot.settings import Settings, SettingsError, load_settings
from core.clock import FakeClock
from core.types import Platform
from tests.discord_fake.fake_service import RecordingService
from tests.discord_fake.fixtures import fake  # noqa: F401
from tests.discord_fake.server import FakeDiscord
from tests.support.stores import sqlite_stores

ROOT = Path(__file__).resolve().parent.parent


def settings_for(fake: FakeDiscord | None, tmp_path: Path, token: str | None = "tok") -> Settings:
    env = {"DISCORD_BOT_TOKEN": token} if token else {}
    settings = load_settings(None, env=env)
    settings.storage.data_dir = tmp_path
    if fake is not None:
        settings.discord.api_base_url = fake.api_base_url
        settings.discord.gateway_url = fake.gateway_url
    return settings


def context(settings: Settings, db: Database) -> AppContext:
    return AppContext(settings=settings, service=RecordingService(), stores=sqlite_stores(db),
                      clock=FakeClock(auto=False))


async def test_not_configured_without_a_token_or_when_disabled(db: Database, tmp_path: Path) -> None:
    assert start_discord(context(settings_for(None, tmp_path, token=None), db)) is None
    disabled = settings_for(None, tmp_path)
    disabled.discord.enabled = False
    assert start_discord(context(disabled, db)) is None


async def test_registers_sink_and_fetcher_before_connecting(
    fake: FakeDiscord, db: Database, tmp_path: Path
) -> None:
    ctx = context(settings_for(fake, tmp_path), db)
    manager = start_discord(ctx)
    assert manager is not None
    assert Platform.DISCORD in ctx.sinks and Platform.DISCORD in ctx.fetchers
    assert fake.requests == []  # nothing sent before the context is entered
    async with manager:
        async with asyncio.timeout(10):
            await fake.identified.wait()
    assert fake.find("GET", "/users/@me")


async def test_a_rejected_token_is_a_settings_error(fake: FakeDiscord, db: Database, tmp_path: Path) -> None:
    fake.add_fault("GET", r"/users/@me$", 401, {"message": "401: Unauthorized", "code": 0})
    manager = start_discord(context(settings_for(fake, tmp_path), db))
    assert manager is not None
    with pytest.raises(SettingsError, match="DISCORD_BOT_TOKEN"):
        async with manager:
            pass


async def test_an_unreachable_api_is_a_settings_error_naming_the_host(db: Database, tmp_path: Path) -> None:
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        settings = settings_for(None, tmp_path)
        settings.discord.api_base_url = f"http://127.0.0.1:{port}"
        settings.discord.gateway_url = f"ws://127.0.0.1:{port}/"
        manager = start_discord(context(settings, db))
        assert manager is not None
        with pytest.raises(SettingsError, match=f"cannot reach Discord's API at 127.0.0.1:{port}"):
            async with manager:
                pass


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_discord_sync_registers_the_commands_in_one_guild(fake: FakeDiscord, tmp_path: Path) -> None:
    env = {
        "DISCORD_BOT_TOKEN": "tok",
        "IMABOT_DISCORD__API_BASE_URL": fake.api_base_url,
        "IMABOT_DISCORD__GATEWAY_URL": fake.gateway_url,
        "IMABOT_STORAGE__DATA_DIR": str(tmp_path),
    }
    code, out, err = await run_cli("discord", "sync", "--guild", "1200000000000000001", env=env)
    assert (code, err) == (0, "")
    assert "Registered 9 slash commands for server 1200000000000000001" in out
    (put,) = fake.find("PUT", "/applications/1100000000000000001/guilds/1200000000000000001/commands")
    assert sorted(c["name"] for c in put.body) == ["help", "imabot", "imabot-admin", "image", "music",
                                                   "prefs", "speech", "usage", "video"]
    admin = next(c for c in put.body if c["name"] == "imabot-admin")
    assert int(admin["default_member_permissions"]) == 1 << 5  # Manage Server: hidden from other members
    assert fake.requests[-1] is put  # sync never opens the gateway


async def test_discord_sync_without_a_token_explains_what_to_set(tmp_path: Path) -> None:
    env = {"DISCORD_BOT_TOKEN": "", "IMABOT_STORAGE__DATA_DIR": str(tmp_path)}
    code, _, err = await run_cli("discord", "sync", env=env)
    assert code == 2 and "DISCORD_BOT_TOKEN is not set" in err
