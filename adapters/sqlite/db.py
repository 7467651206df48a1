"""One aiosqlite connection with versioned migrations.

Migrations are the ``NNNN_name.sql`` files beside this module, applied in order, each once; the
applied versions are recorded in ``schema_version``. Add a new file for every schema change; never
edit an applied one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import aiosqlite

from adapters.job_rows import Row
from adapters.sqlite.group_commit import GroupCommit, Outcome, Work
from adapters.sqlite.loop_side import CHECKPOINT_EVERY, LoopConnections
from adapters.storebase import MigratedDatabase, Session, numbered_migrations
from core.errors import StoreUnavailableError


def _migrations() -> list[tuple[int, str, str]]:
    return numbered_migrations("adapters.sqlite.migrations")


class DatabaseUnusableError(RuntimeError):
    """The data folder or database file cannot be used. The message is one line for an operator: which
    file or folder, what is wrong and what to do."""


BUSY_TIMEOUT_MS = 5_000  # a brief lock by another connection is waited for, not reported as an error
_TRANSIENT = ("locked", "busy", "full", "disk i/o", "unable to open", "readonly")
log = logging.getLogger("imabot.sqlite")
P = ParamSpec("P")
R = TypeVar("R")


def store_error(exc: sqlite3.Error) -> StoreUnavailableError | None:
    """The one mapping of SQLite failures a retry may cure (locked, busy, disk full, I/O) to
    ``core.errors.StoreUnavailableError``; None for everything else (a bug, a schema problem)."""
    text = str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError) and any(word in text for word in _TRANSIENT):
        return StoreUnavailableError(f"sqlite: {exc}")
    return None


def mapped_store_errors(method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Decorates a store method (first argument: an object with a ``_db: Database``): transient SQLite
    failures become ``StoreUnavailableError`` after the half-done transaction is rolled back."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except sqlite3.Error as exc:
            mapped = store_error(exc)
            if mapped is None:
                raise
            database = getattr(args[0], "_db", None)
            if isinstance(database, Database) and database._conn is not None:
                with contextlib.suppress(sqlite3.Error, ValueError):
                    await database._conn.rollback()
            raise mapped from exc

    return wrapper


def check_data_dir(folder: Path) -> None:
    """Create ``folder`` if needed and prove it is writable (a probe file), or raise
    ``DatabaseUnusableError`` naming the folder (or the file that stands in its way)."""
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        where = "is a file" if blocker == folder else f"is under {blocker}, which is a file"
        raise DatabaseUnusableError(f"data dir {folder} {where}; set [storage] data_dir to a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".imabot-write-check-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DatabaseUnusableError(f"data dir {folder} is not writable ({reason}); fix its permissions "
                                    "or set [storage] data_dir to a writable folder") from None


class Database(MigratedDatabase):
    """Owns the connection. ``async with Database(path) as db: db.conn.execute(...)``."""

    placeholder = "?"
    insertion_order = "rowid"

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self._path = str(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._conn: aiosqlite.Connection | None = None
        self._loop_side: LoopConnections | None = None
        self._writes: GroupCommit | None = None
        self._checkpoint: asyncio.Task[None] | None = None
        self._held: list[tuple[Work, asyncio.Future[Outcome | None]]] | None = None
        """Units waiting on the loop while a checkpoint copies the WAL's tail (None: no such wait)."""

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("Database.start() has not been awaited")
        return self._conn

    @property
    def path(self) -> str:
        return self._path

    async def start(self) -> None:
        """Open and migrate; any problem is a one-line ``DatabaseUnusableError`` (and no thread is left
        running, so a failed start never keeps the process alive)."""
        if self._path != ":memory:":
            await asyncio.to_thread(self._check_file)
        try:
            self._conn = await aiosqlite.connect(self._path)
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None
        try:
            self._conn.row_factory = aiosqlite.Row
            await self._conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            await self._conn.execute("PRAGMA journal_mode=WAL")
            await self._conn.execute("PRAGMA synchronous=NORMAL")
            await self._conn.execute("PRAGMA foreign_keys=ON")
            await self._check_ours()
            await self._migrate()
            self._writes = GroupCommit(self._conn)
            if self._path != ":memory:":  # another connection to ":memory:" would be another database
                self._loop_side = await asyncio.to_thread(LoopConnections.open, self._path)
        except BaseException as exc:
            await self.aclose()
            if isinstance(exc, sqlite3.Error):
                raise self._unusable(exc) from None
            raise

    def _check_file(self) -> None:
        path = Path(self._path)
        check_data_dir(path.parent)
        if path.is_dir():
            raise DatabaseUnusableError(f"database {path} is a folder; set [storage] db_file to a file name")

    def _unusable(self, exc: sqlite3.Error) -> DatabaseUnusableError:
        text = str(exc).lower()
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            return DatabaseUnusableError(
                f"database {self._path} is damaged or not a SQLite file; move it away (imabot then starts "
                "a new one) or restore it from a backup")
        if "locked" in text or "busy" in text:
            return DatabaseUnusableError(f"database {self._path} is locked by another process; stop the "
                                         "other imabot using it or point [storage] data_dir elsewhere")
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return DatabaseUnusableError(f"database {self._path} cannot be opened for writing; check the "
                                         "permissions of the file and its folder")
        if "full" in text:
            return DatabaseUnusableError(f"database {self._path}: the disk is full; free some space")
        return DatabaseUnusableError(f"database {self._path} cannot be used ({exc}); move it away or "
                                     "restore it from a backup")

    async def _check_ours(self) -> None:
        """A database made by another program (tables but no ``schema_version``, or versions we did not
        write) is refused rather than migrated into."""
        async with self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur:
            tables = {str(row[0]) for row in await cur.fetchall()}
        if not tables:
            return
        if "schema_version" not in tables:
            raise DatabaseUnusableError(
                f"database {self._path} belongs to another program (tables {', '.join(sorted(tables)[:3])}, "
                "no imabot schema); set [storage] db_file to another name or move the file away")
        ours = {version: name for version, name, _ in _migrations()}
        async with self.conn.execute("SELECT version, name FROM schema_version") as cur:
            rows = [(int(row[0]), str(row[1])) for row in await cur.fetchall()]
        strangers = [f"{v}:{n}" for v, n in rows if v in ours and ours[v] != n]
        if strangers:
            raise DatabaseUnusableError(
                f"database {self._path} was written by another program (schema {strangers[0]}); set "
                "[storage] db_file to another name or move the file away")

    async def journal_mode(self, mode: str) -> None:
        """Switch the journal mode (WAL is the default). Leaving WAL needs the file to itself, so the
        loop's connections are closed meanwhile; everything goes through the thread until WAL is back."""
        loop_side, self._loop_side = self._loop_side, None
        if loop_side is not None:
            loop_side.close()
        await self.rows(f"PRAGMA journal_mode={mode}")
        if mode.upper() == "WAL" and self._path != ":memory:":
            self._loop_side = await asyncio.to_thread(LoopConnections.open, self._path)

    async def aclose(self) -> None:
        # The checkpoint first: a write it held that then finds the database busy goes to the thread
        while self._checkpoint is not None:
            await asyncio.shield(self._checkpoint)
        writes, self._writes = self._writes, None
        if writes is not None:
            await writes.aclose()
        loop_side, self._loop_side = self._loop_side, None
        if loop_side is not None:
            loop_side.close()
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    # One thread hop per unit of work: aiosqlite's ``execute`` + ``fetch`` + ``commit`` would be three,
    # and at 200 messages/s every hop is a wake-up of the event loop from the connection's thread.
    async def rows(self, sql: str, args: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        return list(await self.conn.execute_fetchall(sql, tuple(args)))

    async def first(self, sql: str, args: Sequence[Any] = ()) -> aiosqlite.Row | None:
        found = await self.lookup(sql, args)
        return found[0] if found else None

    async def lookup(self, sql: str, args: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        """A read of a few rows found through an index (a key, or a LIMIT on an indexed order), run at
        once on the event loop's thread (``loop_side``). It sees every committed write (WAL: a reader
        never waits for a writer); a unit of work reads its own uncommitted writes through ``session``.
        Scans and reports use ``rows``."""
        if self._loop_side is not None:
            found = self._loop_side.read(sql, args)
            if found is not None:
                return found
        return await self.rows(sql, args)  # busy: wait for it on the thread

    async def returning(self, sql: str, args: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        """A change with ``RETURNING``, run to its end (a half-read one would make another store's
        commit fail with "SQL statements in progress") and committed; the rows it returned."""
        return await self._commit_unit(lambda cursor: list(cursor().execute(sql, tuple(args)).fetchall()))

    async def change(self, sql: str, args: Sequence[Any] = ()) -> int:
        """One statement, committed; the number of rows it changed."""
        (changed,) = await self.writes((sql, args))
        return changed

    async def change_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """One statement for each of ``rows``, committed together; the rows changed in all."""
        return await self._commit_unit(lambda cursor: int(cursor().executemany(sql, rows).rowcount))

    async def writes(self, *statements: tuple[str, Sequence[Any]]) -> list[int]:
        return await self._commit_unit(
            lambda cursor: [int(cursor().execute(sql, tuple(args)).rowcount) for sql, args in statements])

    async def _commit_unit(self, work: Callable[[Callable[[], sqlite3.Cursor]], R]) -> R:
        """``work`` (given a maker of cursors) committed as one unit: on the loop's thread
        (``loop_side``; at once, or right after a checkpoint's short second pass), or, when another
        connection holds the write lock, on the connection's thread with the others handed in
        meanwhile, in one hop and one commit (``group_commit``)."""
        loop_side = self._loop_side
        if loop_side is not None:
            if self._held is None:
                outcome = loop_side.write(work)
            else:  # committed here as soon as the checkpoint's second pass is done (_checkpoint_wal)
                held: asyncio.Future[Outcome | None] = asyncio.get_running_loop().create_future()
                self._held.append((work, held))
                outcome = await held
            if outcome is not None:
                if loop_side.commits >= CHECKPOINT_EVERY and self._checkpoint is None:
                    loop_side.commits = 0
                    self._checkpoint = asyncio.ensure_future(self._checkpoint_wal())
                ok, value = outcome
                if not ok:
                    raise value
                result: R = value
                return result
        if self._writes is None:
            raise RuntimeError("Database.start() has not been awaited")
        return await self._writes.run(work)

    async def _checkpoint_wal(self) -> None:
        """Copies the WAL into the database file on the connection's thread (it syncs to disk), so that
        it can start over.

        It starts over only when a write begins after a checkpoint copied all of it. Under a steady
        stream of loop-side writes (2,400 commits/s at 200 messages/s) there always was a newer frame,
        so the WAL grew without end and every commit got slower (12 µs at first, 240 µs after 45 s).
        So a first pass copies what is there while the loop goes on writing (~15 ms for 500 commits),
        and a second copies what came meanwhile while writes wait on the loop (p50 ~4 ms); the first
        of them then starts the WAL over. (Sent to aiosqlite's thread instead, they waited p99 46 ms:
        every step there waits for the GIL.)"""
        try:
            # read to its end: a statement left open would keep this connection on an old snapshot
            await self.conn.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
            self._held = []
            await self.conn.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:  # the next one tries again; the WAL only grows meanwhile
            log.warning("sqlite checkpoint failed: %s", exc)
        finally:
            held, self._held = self._held or [], None
            self._checkpoint = None
            for work, waiting in held:
                if waiting.done():  # its caller was cancelled: nothing of it was written
                    continue
                try:  # None (busy, or the loop's connections closed): the caller takes it to the thread
                    waiting.set_result(self._loop_side.write(work) if self._loop_side is not None else None)
                except BaseException as exc:
                    waiting.set_exception(exc)

    async def _scalar(self, query: str) -> Any:
        async with self.conn.execute(query) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """On the one shared connection: committed at the end if anything was written."""
        session = _SqliteSession(self)
        yield session
        if session.wrote:
            await self.conn.commit()

    async def _migrate(self) -> None:
        conn = self.conn
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )
        async with conn.execute("SELECT version FROM schema_version") as cur:
            applied = {int(row[0]) for row in await cur.fetchall()}
        # Apply every missing version in order, not just those above the maximum: a migration file
        # merged from a parallel branch may carry a lower number than one already applied.
        for version, name, sql in _migrations():
            if version in applied:
                continue
            await conn.executescript(f"BEGIN;\n{sql}\nINSERT INTO schema_version(version, name) "
                                     f"VALUES ({version}, '{name}');\nCOMMIT;")
        await conn.commit()


class _SqliteSession:
    """Each call one thread hop (as ``Database.rows`` / ``first`` / ``change``)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.wrote = False

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        self.wrote = True
        cursor = await self._db.conn.execute(sql, tuple(args))
        return int(cursor.rowcount)

    async def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        found = await self.fetch_all(sql, args)
        return found[0] if found else None

    async def fetch_all(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Row]:
        if self.wrote:  # its own writes are not committed yet: only the shared connection sees them
            return await self._db.rows(sql, args)
        return await self._db.lookup(sql, args)


def available_migrations() -> list[tuple[int, str]]:
    """(version, file name) of every migration this code carries, in order (``imabot check``)."""
    return [(version, name) for version, name, _ in _migrations()]
