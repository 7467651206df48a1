"""What every database adapter shares (SQLite ``Database``, ``PostgresDatabase``): the async lifecycle
(``start`` opens and migrates, ``aclose`` lets go, ``async with`` does both), the numbered migration
files beside it, and the highest migration applied."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from importlib import resources
from types import TracebackType
from typing import Any, Self

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


class MigratedDatabase(ABC):
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
