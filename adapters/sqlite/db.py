"""One aiosqlite connection with versioned migrations.

Migrations are the ``NNNN_name.sql`` files beside this module, applied in order, each once; the
applied versions are recorded in ``schema_version``. Add a new file for every schema change; never
edit an applied one.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from types import TracebackType

import aiosqlite

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def _migrations() -> list[tuple[int, str, str]]:
    found: list[tuple[int, str, str]] = []
    for entry in resources.files("adapters.sqlite.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"duplicate migration numbers: {versions}")
    return found


class Database:
    """Owns the connection. ``async with Database(path) as db: db.conn.execute(...)``."""

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._conn: aiosqlite.Connection | None = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("Database.start() has not been awaited")
        return self._conn

    async def start(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = await aiosqlite.connect(self._path)
        self._conn.row_factory = aiosqlite.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._migrate()

    async def aclose(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def __aenter__(self) -> Database:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def schema_version(self) -> int:
        async with self.conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

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
