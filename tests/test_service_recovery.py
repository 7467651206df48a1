"""A crash at every job state, then a restart on the same database file: exactly one create and
exactly one delivery (or, for a crash during the create call, a clear "lost" failure and no re-create)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from core.clock import FakeClock
from core.errors import ErrorKind
from core.jobs import Job, JobState
from core.platform import Step
from core.types import Platform
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink


class Crash(BaseException):
    """The process dies (not an Exception: nothing in the service may swallow it)."""


class CrashingJobStore(SqliteJobStore):
    """Persists normally, then "kills the process" right after the first save matching ``when``."""

    def __init__(self, db: Database, when: Callable[[Job], bool]) -> None:
        super().__init__(db)
        self._when = when
        self.crashed = False

    async def save(self, job: Job) -> None:
        await super().save(job)
        if not self.crashed and self._when(job):
            self.crashed = True
            raise Crash(job.state.value)


def at(state: JobState) -> Callable[[Job], bool]:
    return lambda job: job.state is state


CRASH_POINTS: dict[str, Callable[[Job], bool]] = {
    "received": lambda job: job.state is JobState.RECEIVED,  # the save of the ack's status ref
    "acknowledged": at(JobState.ACKNOWLEDGED),
    "selected": lambda job: job.state is JobState.ACKNOWLEDGED and job.model_id is not None,
    "submitting": at(JobState.SUBMITTING),
    "submitted": at(JobState.SUBMITTED),
    "running": at(JobState.RUNNING),
    "delivering": at(JobState.DELIVERING),
    "media_shown": lambda job: job.state is JobState.DELIVERING and "result:0" in job.message_refs,
    "link_shown": lambda job: job.state is JobState.DELIVERING and "result:1" in job.message_refs,
    "done": at(JobState.DONE),
}


def media_deliveries(sinks: Sequence[RecordingSink]) -> int:
    return sum(1 for s in sinks for e in s.of_step(Step.SUCCESS) if e.media)


def link_deliveries(sinks: Sequence[RecordingSink]) -> int:
    return sum(1 for s in sinks for e in s.of_step(Step.SUCCESS) if not e.media)


@pytest.mark.parametrize("point", list(CRASH_POINTS))
async def test_crash_then_restart_creates_once_and_delivers_once(
        point: str, sim: SimHarness, db_path: Path, clock: FakeClock) -> None:
    first, second = RecordingSink("a"), RecordingSink("b")
    async with Database(db_path) as db:
        store = CrashingJobStore(db, CRASH_POINTS[point])
        async with running_service(sim, db, clock, {Platform.CONSOLE: first},
                                   jobs=store) as service:
            try:
                await service.handle_message(conversation(message_id="m-1"), "一只柴犬在海边奔跑的视频")
                await service.wait_idle()
            except Crash:
                pass
        assert store.crashed
    # ---- restart: a new process on the same file
    sinks = {Platform.CONSOLE: second}
    async with Database(db_path) as db, running_service(sim, db, clock, sinks) as service:
        again = await service.handle_message(conversation(message_id="m-1"), "一只柴犬在海边奔跑的视频")
        await service.wait_idle()
        jobs = SqliteJobStore(db)
        job = await jobs.by_key("console:m-1")
    assert job is not None and again == job.job_id  # redelivery of the same message: same job
    creates = len(await sim.tasks())
    if point == "submitting":
        assert creates == 0
        assert job.state is JobState.FAILED and job.error_kind is ErrorKind.LOST
        assert "创作记录" in second.of_step(Step.FAILURE)[0].text
        assert media_deliveries([first, second]) == 0
        return
    assert creates == 1
    assert job.state is JobState.DONE
    assert media_deliveries([first, second]) == 1
    assert link_deliveries([first, second]) == 1
    assert not any(s.of_step(Step.FAILURE) for s in (first, second))
    status = [e for e in second.events if e.step is not Step.SUCCESS]
    # the status message keeps being edited in place after the restart (its ref survived)
    if job.message_refs.get("status"):
        assert all(e.message_ref == job.message_refs["status"] for e in status)


async def test_crash_while_uploading_starts_over_and_still_creates_once(
        sim: SimHarness, db_path: Path, clock: FakeClock, tmp_path: Path) -> None:
    from core.types import Attachment, AttachmentKind
    from tests import media_factory as mf

    picture = mf.image(tmp_path / "cat.png", 800, 600)
    attachments = (Attachment(AttachmentKind.IMAGE, "cat.png", str(picture)),)
    first, second = RecordingSink("a"), RecordingSink("b")
    async with Database(db_path) as db:
        store = CrashingJobStore(db, at(JobState.UPLOADING))
        async with running_service(sim, db, clock, {Platform.CONSOLE: first}, jobs=store,
                                   media_dir=tmp_path / "w") as service:
            await service.handle_message(conversation(message_id="up-1"), "让这张图动起来", attachments)
            await service.wait_idle()
        assert store.crashed
    async with Database(db_path) as db, running_service(sim, db, clock, {Platform.CONSOLE: second},
                                                        media_dir=tmp_path / "w") as service:
        await service.wait_idle()
        job = await SqliteJobStore(db).by_key("console:up-1")
    assert job is not None and job.state is JobState.DONE
    assert len(await sim.tasks()) == 1
    assert media_deliveries([first, second]) == 1


class DiesBeforeSaving(SqliteJobStore):
    """The process dies after IMA accepted the create but before the task id reached the database."""

    async def save(self, job: Job) -> None:
        if job.state is JobState.SUBMITTED:
            raise Crash("before saving the task id")
        await super().save(job)


async def test_crash_after_create_before_recording_it_is_never_created_again(
        sim: SimHarness, db_path: Path, clock: FakeClock) -> None:
    first, second = {Platform.CONSOLE: RecordingSink("a")}, RecordingSink("b")
    async with Database(db_path) as db, running_service(sim, db, clock, first,
                                                        jobs=DiesBeforeSaving(db)) as service:
        await service.handle_message(conversation(message_id="lost-1"), "一只柴犬在海边奔跑")
        await service.wait_idle()
    async with Database(db_path) as db, running_service(sim, db, clock, {Platform.CONSOLE: second}) as svc:
        await svc.wait_idle()
        job = await SqliteJobStore(db).by_key("console:lost-1")
    assert len(await sim.tasks()) == 1  # created once at IMA, never again
    assert job is not None and job.state is JobState.FAILED and job.error_kind is ErrorKind.LOST
    (failure,) = second.of_step(Step.FAILURE)
    assert failure.text.splitlines()[1] == "• 原因：提交任务时机器人服务重启了"
    assert failure.text.splitlines()[2].startswith("⚠️ 无法确认任务是否已创建；如果已创建，积分已被扣除。")
    assert "https://www.imastudio.com/ai-creation/text-to-video" in failure.text
    assert failure.actions == ()
