from __future__ import annotations

import asyncio
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


async def test_writes_handed_in_together_commit_together_and_a_failing_one_fails_alone(
        tmp_path: Path) -> None:
    async with Database(tmp_path / "bot.sqlite3") as db:
        await db.change("CREATE TABLE t (k TEXT PRIMARY KEY)")
        hops: list[object] = []
        execute = db.conn._execute

        async def counted(fn: object, *args: object) -> object:
            hops.append(fn)
            return await execute(fn, *args)  # type: ignore[no-untyped-call]

        db.conn._execute = counted  # type: ignore[method-assign]
        outcomes = await asyncio.gather(
            db.change("INSERT INTO t VALUES (?)", ("a",)),
            db.writes(("INSERT INTO t VALUES (?)", ("b",)), ("INSERT INTO t VALUES (?)", ("a",))),  # a twice
            db.change_many("INSERT INTO t VALUES (?)", [("c",), ("d",)]),
            db.returning("DELETE FROM t WHERE k = ? RETURNING k", ("c",)),
            return_exceptions=True)
        assert outcomes[0] == 1 and outcomes[2] == 2 and [r["k"] for r in outcomes[3]] == ["c"]
        assert isinstance(outcomes[1], sqlite3.IntegrityError)  # its unit only: "b" is not kept either
        assert len(hops) == 1  # the four handed in together went over in one hop, with one commit
        assert sorted(r["k"] for r in await db.rows("SELECT k FROM t")) == ["a", "d"]
    async with Database(tmp_path / "bot.sqlite3") as db:  # committed, not just visible to the connection
        assert sorted(r["k"] for r in await db.lookup("SELECT k FROM t")) == ["a", "d"]


async def test_a_lookup_sees_every_committed_write_and_a_session_its_own(tmp_path: Path) -> None:
    async with Database(tmp_path / "bot.sqlite3") as db:
        await db.change("CREATE TABLE t (k TEXT PRIMARY KEY)")
        await db.change("INSERT INTO t VALUES (?)", ("a",))
        assert [r["k"] for r in await db.lookup("SELECT k FROM t WHERE k = ?", ("a",))] == ["a"]
        async with db.session() as s:
            await s.execute("INSERT INTO t VALUES (?)", ("b",))
            assert await s.fetch_one("SELECT k FROM t WHERE k = ?", ("b",)) is not None
            assert await db.first("SELECT k FROM t WHERE k = ?", ("b",)) is None  # not committed yet
        assert await db.first("SELECT k FROM t WHERE k = ?", ("b",)) is not None


async def test_a_lookup_while_another_connection_holds_the_database_waits_on_the_thread(
        tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:
        await db.change("CREATE TABLE t (k TEXT PRIMARY KEY)")
        await db.change("INSERT INTO t VALUES (?)", ("a",))
        await db.journal_mode("DELETE")  # outside WAL a writer's lock keeps readers out
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN EXCLUSIVE")
        looked_up = asyncio.ensure_future(db.lookup("SELECT k FROM t"))
        await asyncio.sleep(0)  # the lookup is running: it found the database busy and waits
        assert not looked_up.done()
        other.execute("ROLLBACK")
        other.close()
        assert [r["k"] for r in await looked_up] == ["a"]
