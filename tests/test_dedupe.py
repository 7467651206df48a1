"""The durable dedupe store: one winner per key within its lifetime, also across a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.sqlite.db import Database
from adapters.sqlite.dedupe import SqliteDedupeStore
from core.clock import FakeClock

EIGHT_HOURS = 8 * 3600.0


async def test_second_sighting_within_ttl_is_not_first(tmp_path: Path) -> None:
    clock = FakeClock(auto=False)
    async with Database(tmp_path / "db.sqlite3") as db:
        store = SqliteDedupeStore(db, clock)
        assert await store.first_seen("feishu:msg:om_1", EIGHT_HOURS) is True
        clock.advance(7 * 3600 + 600)  # Feishu's last redelivery comes about 7.1 h later
        assert await store.first_seen("feishu:msg:om_1", EIGHT_HOURS) is False
        assert await store.first_seen("feishu:msg:om_2", EIGHT_HOURS) is True


async def test_key_is_new_again_after_its_lifetime(tmp_path: Path) -> None:
    clock = FakeClock(auto=False)
    async with Database(tmp_path / "db.sqlite3") as db:
        store = SqliteDedupeStore(db, clock)
        assert await store.first_seen("k", 60) is True
        clock.advance(61)
        assert await store.first_seen("k", 60) is True
        assert await store.first_seen("k", 60) is False


async def test_survives_a_restart(tmp_path: Path) -> None:
    clock = FakeClock(auto=False)
    path = tmp_path / "db.sqlite3"
    async with Database(path) as db:
        assert await SqliteDedupeStore(db, clock).first_seen("feishu:event:e1", EIGHT_HOURS) is True
    clock.advance(3600)
    async with Database(path) as db:
        assert await SqliteDedupeStore(db, clock).first_seen("feishu:event:e1", EIGHT_HOURS) is False


async def test_concurrent_claims_have_exactly_one_winner(tmp_path: Path) -> None:
    async with Database(tmp_path / "db.sqlite3") as db:
        store = SqliteDedupeStore(db, FakeClock(auto=False))
        results = await asyncio.gather(*(store.first_seen("same", EIGHT_HOURS) for _ in range(20)))
        assert results.count(True) == 1


async def test_expired_keys_are_purged(tmp_path: Path) -> None:
    clock = FakeClock(auto=False)
    async with Database(tmp_path / "db.sqlite3") as db:
        store = SqliteDedupeStore(db, clock, purge_every=3)
        for key in ("a", "b"):
            await store.first_seen(key, 10)
        clock.advance(11)
        await store.first_seen("c", 10)  # third claim triggers the purge
        async with db.conn.execute("SELECT key FROM dedupe_keys ORDER BY key") as cur:
            assert [row[0] for row in await cur.fetchall()] == ["c"]
        clock.advance(11)
        assert await store.purge_expired() == 1
