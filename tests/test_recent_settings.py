"""Spend settings through a short memory (core.spend.recent.RecentSettings) on the real SQLite store:
an operator's pause or budget reaches a running bot within a second, the bot's own writes at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.sqlite.db import Database
from adapters.sqlite.spend_settings import SqliteSpendSettings
from core.clock import FakeClock
from core.spend.recent import RecentSettings


async def test_the_bots_own_write_is_seen_at_once_an_admin_write_within_a_second(tmp_path: Path) -> None:
    clock = FakeClock(auto=False)
    async with Database(tmp_path / "bot.sqlite3") as bot_db, Database(tmp_path / "bot.sqlite3") as cli_db:
        settings = RecentSettings(SqliteSpendSettings(bot_db), clock, fresh_s=1.0)
        admin_cli = SqliteSpendSettings(cli_db)  # `imabot admin pause` in another process
        assert dict(await settings.values("chat", "discord:5")) == {}
        await settings.put("user", "discord:1", "skip_confirm", "1")
        assert dict(await settings.values("user", "discord:1")) == {"skip_confirm": "1"}

        await admin_cli.put("chat", "discord:5", "paused", "1")
        clock.advance(0.5)
        assert dict(await settings.values("chat", "discord:5")) == {}  # remembered for up to a second
        clock.advance(0.6)
        assert dict(await settings.values("chat", "discord:5")) == {"paused": "1"}


class SlowStore:
    """A store whose reads take a turn of the loop, so a write can land while one is in flight."""

    def __init__(self, inner: SqliteSpendSettings) -> None:
        self.inner = inner
        self.reads = 0

    async def values(self, scope: str, subject: str) -> dict[str, str]:
        self.reads += 1
        found = dict(await self.inner.values(scope, subject))
        await asyncio.sleep(0)
        return found

    async def put(self, scope: str, subject: str, name: str, value: str | None) -> None:
        await self.inner.put(scope, subject, name, value)

    async def put_once(self, scope: str, subject: str, name: str, value: str) -> bool:
        return await self.inner.put_once(scope, subject, name, value)


async def test_a_read_that_raced_a_write_is_not_remembered(tmp_path: Path) -> None:
    clock = FakeClock(auto=False)
    async with Database(tmp_path / "bot.sqlite3") as db:
        slow = SlowStore(SqliteSpendSettings(db))
        settings = RecentSettings(slow, clock, fresh_s=60.0)
        stale, _ = await asyncio.gather(settings.values("chat", "feishu:9"),
                                        settings.put("chat", "feishu:9", "paused", "1"))
        assert dict(stale) == {}
        assert dict(await settings.values("chat", "feishu:9")) == {"paused": "1"}
        reads = slow.reads
        assert dict(await settings.values("chat", "feishu:9")) == {"paused": "1"}
        assert slow.reads == reads  # remembered now
