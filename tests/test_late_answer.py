"""A job is not declared timed out on an answer that was asked for before its deadline: when a poll's
reply arrives only after the deadline (a slow reply, a stalled process), the task may have finished
meanwhile, so the bot looks once more before telling the user it took too long."""

from __future__ import annotations

from typing import Any

from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.jobs import Job, JobState
from core.platform import Step
from core.ports import ImaGateway, TaskSnapshot
from core.types import Platform
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink

AN_HOUR_S = 3600.0  # longer than any model's wait


class LateReply:
    """Wraps the gateway: the first status poll is answered (still running) only an hour later."""

    def __init__(self, inner: ImaGateway, clock: FakeClock) -> None:
        self._inner, self._clock = inner, clock
        self.polls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get_task(self, task_id: str) -> TaskSnapshot:
        snapshot = await self._inner.get_task(task_id)
        self.polls += 1
        if self.polls == 1:
            self._clock.advance(AN_HOUR_S)
        return snapshot


async def _generate_with_a_late_reply(sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
                                     ) -> tuple[Job, LateReply]:
    wrapped: list[LateReply] = []

    def wrap(gateway: ImaGateway) -> ImaGateway:
        wrapped.append(LateReply(gateway, clock))
        return wrapped[0]

    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, wrap_gateway=wrap) as service:
        job_id = await service.handle_message(conversation(), "一只柴犬在海边奔跑的视频")
        assert job_id is not None
        job = await service.wait_for(job_id)
    assert job is not None
    return job, wrapped[0]


async def test_a_reply_that_comes_after_the_deadline_is_checked_once_more_before_a_timeout(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    job, late = await _generate_with_a_late_reply(sim, db, clock, sink)
    assert job.state is JobState.DONE
    assert late.polls == 2  # the late "still running", then one more look: done
    assert sink.of_step(Step.FAILURE, job.job_id) == []
    assert len(sink.of_step(Step.SUCCESS, job.job_id)) == 2  # the video and its link
    assert len(await sim.tasks()) == 1


async def test_a_task_still_running_at_the_look_after_the_deadline_times_out(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    await sim.set_faults(["task:stuck"])
    job, late = await _generate_with_a_late_reply(sim, db, clock, sink)
    assert job.state is JobState.TIMED_OUT
    assert late.polls == 2  # no endless looking either
    assert len(sink.of_step(Step.FAILURE, job.job_id)) == 1
