"""A psycopg 3 connection pool on one PostgreSQL database, with versioned migrations.

Migrations are the ``NNNN_name.sql`` files beside this module (the same numbers and meaning as the
SQLite history, in PostgreSQL's dialect), applied in order, each once, at start. Several replicas may
start at the same moment: an advisory lock makes them take turns, and each migration runs in its own
transaction with its ``schema_version`` row. Add a new file for every schema change; never edit an
applied one.

Driver failures that retrying may cure (connection lost or refused, the server shutting down, a pool
timeout, a serialization conflict: psycopg's ``OperationalError`` family) leave every store as the one
``core.errors.StoreUnavailableError``, mapped here once for all of them, so the job recorder rides them
out on PostgreSQL as it does on SQLite. Everything else (a constraint, a bug in a statement) stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from adapters.job_rows import Row
from adapters.storebase import MigratedDatabase, Session, numbered_migrations
from core.errors import StoreUnavailableError

_MIGRATION_LOCK = 0x1AB07  # pg_advisory_xact_lock key: one replica migrates at a time
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
Connection = psycopg.AsyncConnection[DictRow]


def migrations() -> list[tuple[int, str, str]]:
    return numbered_migrations("adapters.postgres.migrations")


@dataclass(frozen=True, slots=True)
class PoolSize:
    min_size: int = 1
    max_size: int = 10
    timeout_s: float = 30.0


class PostgresDatabase(MigratedDatabase):
    """Owns the pool. ``async with PostgresDatabase(url) as db: async with db.connection() as conn: ...``

    ``schema`` puts every table in that schema (created if missing) instead of ``public``: the test
    suite gives each test its own; an operator may share one database between deployments with it.
    """

    placeholder = "%s"
    insertion_order = "seq"  # the tables' identity column stands in for SQLite's rowid

    def __init__(self, url: str, *, password: str | None = None, schema: str | None = None,
                 size: PoolSize | None = None) -> None:
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise ValueError(f"invalid schema name: {schema!r}")
        self._url = url
        self._password = password
        self._schema = schema
        self._size = size or PoolSize()
        self._pool: AsyncConnectionPool[Connection] | None = None

    @property
    def schema(self) -> str | None:
        return self._schema

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection in a transaction, committed on a clean exit (rolled back otherwise).
        Transient failures, in the statements too, leave as ``StoreUnavailableError``."""
        if self._pool is None:
            raise RuntimeError("PostgresDatabase.start() has not been awaited")
        try:
            async with self._pool.connection() as conn:
                yield conn
        except psycopg.OperationalError as exc:  # PoolTimeout and PoolClosed are OperationalErrors too
            raise self._unavailable(exc) from exc

    async def start(self) -> None:
        kwargs: dict[str, Any] = {"autocommit": False, "row_factory": dict_row}
        if self._password is not None:
            kwargs["password"] = self._password
        if self._schema is not None:
            await self._create_schema(kwargs)
            kwargs["options"] = f"-c search_path={self._schema}"
        pool = AsyncConnectionPool(
            self._url, connection_class=Connection, kwargs=kwargs, min_size=self._size.min_size,
            max_size=self._size.max_size,
            timeout=self._size.timeout_s, open=False, name="imabot")
        try:
            await pool.open(wait=True, timeout=self._size.timeout_s)
        except Exception as exc:
            await pool.close()
            raise self._unavailable(exc, at_start=True) from exc
        self._pool = pool
        await self._migrate()

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """On one pooled connection, in one transaction."""
        async with self.connection() as conn:
            yield _PostgresSession(conn)

    async def _scalar(self, query: str) -> Any:
        async with self.connection() as conn:
            cur = await conn.execute(query.encode())
            row = await cur.fetchone()
        return next(iter(row.values())) if row else None

    async def _create_schema(self, kwargs: dict[str, Any]) -> None:
        assert self._schema is not None
        try:
            async with await Connection.connect(self._url, **kwargs) as conn:
                create = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self._schema))
                await conn.execute(create)
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc, at_start=True) from exc

    def _unavailable(self, exc: Exception, *, at_start: bool = False) -> StoreUnavailableError:
        """The core error, naming the host and the failure's type: never a password, never row data."""
        where, why = _where(self._url), type(exc).__name__
        if at_start:
            return StoreUnavailableError(f"cannot connect to PostgreSQL at {where} ({why})")
        return StoreUnavailableError(f"PostgreSQL at {where} is unavailable ({why})")

    async def _migrate(self) -> None:
        async with self.connection() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            cur = await conn.execute("SELECT version FROM schema_version")
            applied = {int(row["version"]) for row in await cur.fetchall()}
            # Every missing version in order, not just those above the maximum (parallel branches).
            for version, name, text in migrations():
                if version in applied:
                    continue
                await conn.execute(text.encode())
                await conn.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                                   (version, name))


class _PostgresSession:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        cur = await self._conn.execute(sql, args)
        return cur.rowcount

    async def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        cur = await self._conn.execute(sql, args)
        return await cur.fetchone()

    async def fetch_all(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Row]:
        cur = await self._conn.execute(sql, args)
        return await cur.fetchall()


def _where(url: str) -> str:
    """Host and database of ``url`` for messages (no user, no password)."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the configured [storage] url"
    host = info.get("host") or "localhost"
    port = info.get("port") or "5432"
    return f"{host}:{port}/{info.get('dbname') or ''}"
