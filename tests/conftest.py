"""Fixtures shared by every test module. Keep them generic: platform tests reuse them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.ima.client import ImaClient
from adapters.sqlite.db import Database
from core.clock import FakeClock
from tests.support.backends import BACKENDS, Backend, embedded_postgres
from tests.support.ima import SimHarness, simulator
from tests.support.sinks import RecordingSink

# ``imabot run`` starts its ops server on 9464 by default; tests run side by side must not fight over it.
os.environ.setdefault("IMABOT_OPS__PORT", "0")


@pytest.fixture
def clock() -> FakeClock:
    """Auto-advancing virtual time: sleeps resolve instantly in deadline order."""
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "imabot.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    """A migrated, file-backed database in tmp_path (a second ``Database(db_path)`` sees the same data)."""
    async with Database(db_path) as database:
        yield database


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[SimHarness]:
    """The in-process IMA simulator on virtual time (speed 1: models take their real estimated time)."""
    async with simulator(clock) as harness:
        yield harness


@pytest.fixture
async def ima(sim: SimHarness) -> AsyncIterator[ImaClient]:
    """A started ``ImaClient`` talking to ``sim``."""
    async with sim.client() as client:
        yield client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line, not a wall of 's': which browser tests were skipped and why."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "browser:" in str(r.longrepr)]
    if skipped:
        files = sorted({r.nodeid.split("::")[0] for r in skipped})
        reason = str(skipped[0].longrepr[-1]).split("browser:", 1)[-1].strip()  # type: ignore[index]
        terminalreporter.write_line(f"browser tests skipped ({', '.join(files)}): {reason}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL 18 (``embedded-postgres``) for the whole session, started on first use."""
    with embedded_postgres() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each store test runs once on SQLite and once on PostgreSQL (a fresh file / schema per test)."""
    if request.param == "sqlite":
        yield Backend("sqlite", sqlite_path=tmp_path / "data" / "imabot.sqlite3")
        return
    chosen = Backend("postgresql", postgres_url=request.getfixturevalue("postgres_url"))
    try:
        yield chosen
    finally:
        chosen.drop()
