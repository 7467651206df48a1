from __future__ import annotations

from pathlib import Path

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
