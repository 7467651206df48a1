from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from adapters.sqlite import db as db_module
from adapters.sqlite.db import Database, _migrations
from adapters.sqlite.loop_side import CHECKPOINT_EVERY


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


def _count_hops(db: Database) -> list[object]:
    hops: list[object] = []
    execute = db.conn._execute

    async def counted(fn: object, *args: object) -> object:
        hops.append(fn)
        return await execute(fn, *args)  # type: ignore[no-untyped-call]

    db.conn._execute = counted  # type: ignore[method-assign]
    return hops


async def test_a_write_commits_at_once_on_the_loops_thread(tmp_path: Path) -> None:
    async with Database(tmp_path / "bot.sqlite3") as db:
        await db.change("CREATE TABLE t (k TEXT PRIMARY KEY)")
        hops = _count_hops(db)
        assert await db.change("INSERT INTO t VALUES (?)", ("a",)) == 1
        assert [r["k"] for r in await db.lookup("SELECT k FROM t")] == ["a"]
        assert hops == []  # no trip to the connection's thread
    async with Database(tmp_path / "bot.sqlite3") as db:  # committed
        assert [r["k"] for r in await db.rows("SELECT k FROM t")] == ["a"]


async def test_writes_while_another_connection_holds_the_lock_wait_on_the_thread_and_commit_together(
        tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:
        await db.change("CREATE TABLE t (k TEXT PRIMARY KEY)")
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process writing
        hops = _count_hops(db)
        writes = asyncio.gather(
            db.change("INSERT INTO t VALUES (?)", ("a",)),
            db.writes(("INSERT INTO t VALUES (?)", ("b",)), ("INSERT INTO t VALUES (?)", ("a",))),  # a twice
            db.change_many("INSERT INTO t VALUES (?)", [("c",), ("d",)]),
            db.returning("DELETE FROM t WHERE k = ? RETURNING k", ("c",)),
            return_exceptions=True)
        await asyncio.sleep(0)
        other.execute("ROLLBACK")
        other.close()
        outcomes = await writes
        assert outcomes[0] == 1 and outcomes[2] == 2 and [r["k"] for r in outcomes[3]] == ["c"]
        assert isinstance(outcomes[1], sqlite3.IntegrityError)  # its unit only: "b" is not kept either
        assert len(hops) == 1  # the four went over together: one hop, one commit
        assert sorted(r["k"] for r in await db.rows("SELECT k FROM t")) == ["a", "d"]


async def test_the_wal_is_checkpointed_on_the_thread_so_it_does_not_grow_without_end(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    wal = path.with_name(path.name + "-wal")
    async with Database(path) as db:
        await db.change("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
        sizes = []
        for batch in range(6):
            for i in range(CHECKPOINT_EVERY - 1):
                await db.change("INSERT INTO t VALUES (?, ?)", (batch * CHECKPOINT_EVERY + i, "x" * 2000))
            sizes.append(wal.stat().st_size)
            last = batch * CHECKPOINT_EVERY + CHECKPOINT_EVERY - 1
            await db.change("INSERT INTO t VALUES (?, ?)", (last, ""))
            if db._checkpoint is not None:
                await db._checkpoint
        # and the checkpoint left the thread's connection on no old snapshot: it sees the newest write
        await db.change("INSERT INTO t VALUES (?, ?)", (-1, "newest"))
        assert [r["v"] for r in await db.rows("SELECT v FROM t WHERE k = ?", (-1,))] == ["newest"]
    # the WAL is reused after each checkpoint: it holds about one batch, not all six
    assert max(sizes) < 1.5 * sizes[0], sizes


async def test_the_wal_starts_over_even_while_writes_never_stop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A steady stream of writes (as at 200 messages/s) always had a frame newer than the checkpoint, so
    # the WAL never started over and grew with every write, slowing every commit.
    monkeypatch.setattr(db_module, "CHECKPOINT_EVERY", 50)
    path = tmp_path / "bot.sqlite3"
    wal = path.with_name(path.name + "-wal")
    async with Database(path) as db:
        await db.change("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")

        async def writer(first: int) -> None:
            for k in range(first, first + 1000):
                await db.change("INSERT INTO t VALUES (?, ?)", (k, "x" * 3000))  # a page of its own
                await asyncio.sleep(0)

        await asyncio.gather(*(writer(w * 1000) for w in range(4)))
        assert len(await db.rows("SELECT k FROM t")) == 4000
        # 4,000 pages (16 MB) were written; kept, they would all still be in the WAL
        assert wal.stat().st_size < 2000 * 4096, wal.stat().st_size


async def test_writes_wait_out_the_checkpoints_second_pass_and_a_cancelled_one_is_not_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with Database(tmp_path / "bot.sqlite3") as db:
        await db.change("CREATE TABLE t (k TEXT PRIMARY KEY)")
        in_second_pass, second_pass, passes = asyncio.Event(), asyncio.Event(), []
        checkpoint = db.conn.execute_fetchall

        async def held_second_pass(sql: str, *args: object) -> object:
            passes.append(sql)
            if len(passes) == 2:
                in_second_pass.set()
                await second_pass.wait()
            return await checkpoint(sql, *args)

        monkeypatch.setattr(db.conn, "execute_fetchall", held_second_pass)
        db._checkpoint = asyncio.ensure_future(db._checkpoint_wal())
        await in_second_pass.wait()
        kept = asyncio.ensure_future(db.change("INSERT INTO t VALUES ('kept')"))
        dropped = asyncio.ensure_future(db.change("INSERT INTO t VALUES ('dropped')"))
        await asyncio.sleep(0)
        assert not kept.done()  # waiting for the pass, not sent anywhere
        dropped.cancel()
        second_pass.set()
        assert await kept == 1
        if db._checkpoint is not None:
            await db._checkpoint
        assert [r["k"] for r in await db.rows("SELECT k FROM t")] == ["kept"]


async def test_reads_on_the_thread_see_every_write_made_on_the_loop_while_checkpoints_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "CHECKPOINT_EVERY", 20)  # many checkpoints among the writes
    async with Database(tmp_path / "bot.sqlite3") as db:
        await db.change("CREATE TABLE t (k INTEGER PRIMARY KEY)")

        async def write_then_read(k: int) -> bool:
            await db.change("INSERT INTO t VALUES (?)", (k,))
            return bool(await db.rows("SELECT k FROM t WHERE k = ?", (k,)))  # on the thread's connection

        seen = [await asyncio.gather(*(write_then_read(b * 50 + i) for i in range(50))) for b in range(40)]
    assert all(all(batch) for batch in seen)


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
