"""``start_feishu``: off unless configured; registers its sink before receiving; runs the intake."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.sqlite.db import Database
from bot.app_context import AppContext
from bot.feishu_wiring import start_feishu
from bot.settings import FeishuSettings, Secrets, Settings, SettingsError, StorageSettings
from core.clock import FakeClock
from core.types import Platform
from tests.feishu_fake.events import message_event
from tests.feishu_fake.fixtures import running_fake
from tests.feishu_fake.service import RecordingService
from tests.support.stores import sqlite_stores


def settings_for(tmp_path: Path, domain: str, app_id: str | None, **feishu: object) -> Settings:
    settings = Settings(feishu=FeishuSettings(domain=domain, **feishu),  # type: ignore[arg-type]
                        storage=StorageSettings(data_dir=tmp_path))
    settings.secrets = Secrets(feishu_app_id=SecretStr(app_id) if app_id else None,
                               feishu_app_secret=SecretStr("secret") if app_id else None)
    return settings


async def test_not_configured_means_not_started(tmp_path: Path) -> None:
    async with Database(tmp_path / "db.sqlite3") as db:
        ctx = AppContext(settings=settings_for(tmp_path, "http://127.0.0.1:1", None),
                         service=RecordingService(), stores=sqlite_stores(db), clock=FakeClock())
        assert start_feishu(ctx) is None
        ctx.settings.secrets = Secrets(feishu_app_id=SecretStr("cli_x"), feishu_app_secret=SecretStr("s"))
        ctx.settings.feishu.enabled = False
        assert start_feishu(ctx) is None
        assert ctx.sinks == {}


async def test_webhook_without_any_secret_is_refused(tmp_path: Path) -> None:
    async with Database(tmp_path / "db.sqlite3") as db:
        ctx = AppContext(settings=settings_for(tmp_path, "http://127.0.0.1:1", "cli_x", intake="webhook"),
                         service=RecordingService(), stores=sqlite_stores(db), clock=FakeClock())
        with pytest.raises(SettingsError):
            start_feishu(ctx)


async def test_configured_adapter_receives_through_the_long_connection(tmp_path: Path) -> None:
    async with running_fake() as fake, Database(tmp_path / "db.sqlite3") as db:
        service = RecordingService()
        ctx = AppContext(settings=settings_for(tmp_path, fake.base_url, fake.app_id), service=service,
                         stores=sqlite_stores(db), clock=FakeClock())
        running = start_feishu(ctx)
        assert running is not None
        assert Platform.FEISHU in ctx.sinks  # registered before anything is received
        service.sink = ctx.sinks[Platform.FEISHU]
        async with running:
            ack = await fake.push_event(message_event(text="一只猫", chat_type="p2p", app_id=fake.app_id))
            assert ack.code == 200
            await asyncio.wait_for(service.received.wait(), 10)
        assert [m.text for m in service.messages] == ["一只猫"]


async def test_wrong_app_secret_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    async with running_fake() as fake, Database(tmp_path / "db.sqlite3") as db:
        settings = settings_for(tmp_path, fake.base_url, fake.app_id)
        settings.secrets = Secrets(feishu_app_id=SecretStr("cli_wrong_app"), feishu_app_secret=SecretStr("x"))
        running = start_feishu(AppContext(settings=settings, service=RecordingService(),
                                          stores=sqlite_stores(db), clock=FakeClock()))
        assert running is not None
        with pytest.raises(SettingsError, match="FEISHU_APP_SECRET"):
            async with running:
                pass
        assert fake.token_requests == 1  # not retried: a wrong secret stays wrong
