"""A paid task is never lost to the database (issue #13 item 2), with REAL SQLite faults: a second
connection holding an exclusive lock, and a full disk (a small tmpfs filled up), during and after
the create call. Exactly one task is created and its result delivered once; a short outage is ridden
out silently; a long one is told truthfully (task created, id, creation record) and the result follows
when the store is back. A job that crashes ends with a failure message and an error log naming it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from core.clock import FakeClock
from core.jobs import Job, JobState
from core.platform import Step
from core.ports import CreatedTask, CreateWatch, ImaGateway, TaskSnapshot, TaskSpec
from core.types import Platform
from tests.support.conversations import conversation
from tests.support.ima import SimHarness, WatchTap
from tests.support.service import running_service
from tests.support.sinks import RecordingSink

PROMPT = "一只柴犬在海边奔跑"
RECORD = "https://www.imastudio.com/ai-creation/text-to-video"


class Locker:
    """Another process's connection to the same file, holding an exclusive lock."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def lock(self) -> None:
        self._conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self._conn.close()


class DiskFull:
    """The disk under the database fills up (a small tmpfs and a ballast file taking every free byte):
    WAL appends fail with SQLITE_FULL until the ballast is removed."""

    def __init__(self, folder: Path, db: Database) -> None:
        self._ballast = folder / "ballast.bin"
        self._db = db

    async def fill(self) -> None:
        # A rollback journal is a new file for every write (a WAL would be overwritten in place), so
        # with the disk full every write fails, as it would on a fresh or growing WAL.
        await self._db.journal_mode("DELETE")
        stats = os.statvfs(self._ballast.parent)
        with self._ballast.open("wb") as handle, contextlib.suppress(OSError):  # ENOSPC, as intended
            handle.write(b"\0" * (stats.f_bavail * stats.f_frsize))
            handle.flush()

    async def free(self) -> None:
        self._ballast.unlink()
        await self._db.journal_mode("WAL")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs (root only; skipped where mounting is not allowed)."""
    folder = tmp_path / "small"
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a small filesystem needs root (mount -t tmpfs)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip("mount -t tmpfs is not allowed here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


Fault = tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]


class FaultyAround:
    """Wraps the IMA gateway: the store breaks as the create request leaves (``at="create"``) or at the
    second poll (``at="poll"``), and is repaired at the first store write ``hold_s`` virtual seconds
    later (tied to a write, not to a timer: virtual time jumps whenever the loop waits on a thread)."""

    def __init__(self, inner: ImaGateway, clock: FakeClock, fault: Fault, *, at: str, hold_s: float) -> None:
        self._inner, self._clock, self._fault, self._at, self._hold_s = inner, clock, fault, at, hold_s
        self._polls = 0
        self._broken_at: float | None = None
        self.repaired = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def _break(self) -> None:
        if self._broken_at is None:
            await self._fault[0]()
            self._broken_at = self._clock.now()

    async def maybe_repair(self) -> None:
        if self._broken_at is not None and not self.repaired.is_set() and (
                self._clock.now() >= self._broken_at + self._hold_s):
            await self._fault[1]()
            self.repaired.set()

    async def create_task(self, spec: TaskSpec, watch: CreateWatch | None = None) -> CreatedTask:
        if self._at == "create" and watch is not None:  # SUBMITTING is recorded; the request leaves next
            watch = WatchTap(watch, after_sending=self._break)
        return await self._inner.create_task(spec, watch)

    async def get_task(self, task_id: str) -> TaskSnapshot:
        self._polls += 1
        if self._at == "poll" and self._polls == 2:
            await self._break()
        return await self._inner.get_task(task_id)


class RepairingJobs:
    """The real SQLite job store; before each write, the fault may be over."""

    def __init__(self, inner: SqliteJobStore, faults: list[FaultyAround]) -> None:
        self._inner, self._faults = inner, faults

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def save(self, job: Job) -> None:
        for fault in self._faults:
            await fault.maybe_repair()
        await self._inner.save(job)


@asynccontextmanager
async def bot_db(path: Path) -> AsyncIterator[Database]:
    async with Database(path, busy_timeout_ms=0) as db:  # a lock fails at once instead of blocking 5 s
        yield db


async def _lock_fault(path: Path) -> tuple[Fault, Locker]:
    locker = Locker(path)

    async def lock() -> None:
        locker.lock()

    async def release() -> None:
        locker.release()

    return (lock, release), locker


@pytest.mark.parametrize(("kind", "at", "hold_s", "told"), [
    ("lock", "create", 10.0, False),  # the campaign's case: locked 10 s while the create was in flight
    ("lock", "create", 600.0, True),
    ("lock", "poll", 900.0, True),
    ("full", "create", 600.0, True),
    ("full", "poll", 900.0, True),
])
async def test_a_created_task_survives_the_store_and_is_delivered_once(
        kind: str, at: str, hold_s: float, told: bool, sim: SimHarness, clock: FakeClock,
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    folder = request.getfixturevalue("small_disk") if kind == "full" else tmp_path
    path = folder / "bot.sqlite3"
    sink = RecordingSink()
    locker: Locker | None = None
    async with bot_db(path) as db:
        if kind == "lock":
            fault, locker = await _lock_fault(path)
        else:
            full = DiskFull(folder, db)
            fault = (full.fill, full.free)
        wrapped: list[FaultyAround] = []

        def wrap(gateway: ImaGateway) -> ImaGateway:
            wrapped.append(FaultyAround(gateway, clock, fault, at=at, hold_s=hold_s))
            return wrapped[0]

        jobs = RepairingJobs(SqliteJobStore(db), wrapped)
        async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, wrap_gateway=wrap,
                                   jobs=jobs) as service:
            job_id = await service.handle_message(conversation(), PROMPT)
            assert job_id is not None
            job = await service.wait_for(job_id)
        stored = await SqliteJobStore(db).get(job_id)
    if locker is not None:
        locker.close()
    assert wrapped[0].repaired.is_set()
    assert len(await sim.tasks()) == 1
    assert job is not None and stored is not None
    assert stored.state is JobState.DONE and stored.task_id
    assert sink.of_step(Step.FAILURE, job_id) == []
    assert len(sink.of_step(Step.SUCCESS, job_id)) == 2  # the media and its link, once each
    # the truth rides in the status message (message economy: no extra message)
    told_at = [i for i, e in enumerate(sink.for_job(job_id)) if "数据库暂时无法写入" in e.text]
    if told:
        event = sink.for_job(job_id)[told_at[0]]
        assert stored.task_id in event.text and RECORD in event.text and "任务已创建" in event.text
        first_success = next(i for i, e in enumerate(sink.for_job(job_id)) if e.step is Step.SUCCESS)
        assert told_at[0] < first_success
    else:
        assert told_at == []


async def test_a_crashed_job_ends_with_a_failure_message_and_a_log_naming_it_even_without_a_store(
        sim: SimHarness, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "bot.sqlite3"
    sink = RecordingSink()
    fault, locker = await _lock_fault(path)

    class Crashes:
        def __init__(self, inner: ImaGateway) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        async def get_task(self, task_id: str) -> TaskSnapshot:
            await fault[0]()  # the store goes down for good, then the job itself breaks
            raise RuntimeError("a bug")

    caplog.set_level(logging.ERROR)
    async with bot_db(path) as db, running_service(sim, db, clock, {Platform.CONSOLE: sink},
                                                  wrap_gateway=Crashes) as service:
        job_id = await service.handle_message(conversation(), PROMPT)
        assert job_id is not None
        await service.wait_for(job_id)
        await fault[1]()
    locker.close()
    (failure,) = sink.of_step(Step.FAILURE, job_id)
    assert "已创建" in failure.text and RECORD in failure.text
    assert any(job_id in r.getMessage() and "crashed" in r.getMessage() for r in caplog.records)
    assert len(await sim.tasks()) == 1
