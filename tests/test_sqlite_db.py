from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from adapters.sqlite.db import Database, _migrations


async def test_fresh_file_database_applies_every_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:
        first = await db.schema_version()
    async with Database(path) as db:
        assert await db.schema_version() == first
        async with db.conn.execute("SELECT COUNT(*) FROM schema_version") as cur:
            row = await cur.fetchone()
    assert row is not None and row[0] == len(_migrations())


async def test_a_missing_lower_numbered_migration_is_still_applied(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:
        lowest = _migrations()[0][0]
        await db.conn.execute("DELETE FROM schema_version WHERE version = ?", (lowest,))
        await db.conn.commit()
    # The runner notices the gap and applies it again; this also holds every migration to being
    # idempotent (CREATE ... IF NOT EXISTS), which keeps partially migrated dev databases usable.
    async with Database(path) as db:
        assert await db.schema_version() >= lowest
        async with db.conn.execute("SELECT 1 FROM schema_version WHERE version = ?", (lowest,)) as cur:
            assert await cur.fetchone() is not None


async def test_a_unit_of_writes_that_fails_half_way_leaves_nothing_behind(tmp_path: Path) -> None:
    async with Database(tmp_path / "bot.sqlite3") as db:
        await db.change("CREATE TABLE t (k TEXT PRIMARY KEY)")
        with pytest.raises(sqlite3.IntegrityError):
            await db.writes(("INSERT INTO t VALUES (?)", ("a",)), ("INSERT INTO t VALUES (?)", ("a",)))
        assert await db.rows("SELECT k FROM t") == []
        unit = (("INSERT INTO t VALUES (?)", ("a",)), ("DELETE FROM t WHERE k = ?", ("b",)))
        assert await db.writes(*unit) == [1, 0]
        assert [r["k"] for r in await db.rows("SELECT k FROM t")] == ["a"]
