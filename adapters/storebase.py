"""What every database adapter shares (SQLite ``Database``, ``PostgresDatabase``): the async lifecycle
(``start`` opens and migrates, ``aclose`` lets go, ``async with`` does both), the numbered migration
files beside it, the highest migration applied, and units of work (``session``) whose statements are
written once and rendered in the database's dialect (``render``), so one store class serves both."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from importlib import resources
from types import TracebackType
from typing import Any, ClassVar, Protocol, Self

from adapters.job_rows import Row

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
SCHEMA_VERSION_SQL = "SELECT COALESCE(MAX(version), 0) AS version FROM schema_version"


def numbered_migrations(package: str) -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every ``NNNN_name.sql`` file in ``package``, in order."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files(package).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"duplicate migration numbers: {versions}")
    return found


class Session(Protocol):
    """One unit of work on a database (statements already ``render``-ed)."""

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        ...

    async def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Row | None: ...

    async def fetch_all(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Row]: ...


class MigratedDatabase(ABC):
    placeholder: ClassVar[str]  # how the driver writes a parameter
    insertion_order: ClassVar[str]  # the column that orders rows written in the same instant

    def render(self, statement: str) -> str:
        """``statement`` written once (``?`` parameters, ``{order}`` for the insertion order) in this
        database's dialect."""
        return statement.replace("{order}", self.insertion_order).replace("?", self.placeholder)

    @abstractmethod
    def session(self) -> AbstractAsyncContextManager[Session]:
        """A unit of work: its statements are committed together when the block ends without an error."""

    async def writes(self, *statements: tuple[str, Sequence[Any]]) -> list[int]:
        """Statements that need no answer in between, committed together; the rows each changed.
        (A backend may run them in one round trip.)"""
        async with self.session() as s:
            return [await s.execute(sql, args) for sql, args in statements]

    @abstractmethod
    async def start(self) -> None:
        """Open the connection(s) and apply every missing migration."""

    @abstractmethod
    async def aclose(self) -> None:
        """Let go of the connection(s); harmless when not started or already closed."""

    @abstractmethod
    async def _scalar(self, query: str) -> Any:
        """The first column of the first row ``query`` returns (None without a row)."""

    async def schema_version(self) -> int:
        """The highest migration applied (0 on an empty database)."""
        value = await self._scalar(SCHEMA_VERSION_SQL)
        return int(value) if value is not None else 0

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
