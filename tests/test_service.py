from __future__ import annotations

from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.jobs import JobState
from core.types import Platform
from core.ux_events import Slot, Step
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink


async def test_text_to_image_runs_every_step_in_order(sim: SimHarness, db: Database, clock: FakeClock,
                                                        sink: RecordingSink) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        job_id = await service.handle_message(conversation(), "画一只可爱的橘猫")
        assert job_id is not None
        assert sink.steps(job_id) == [Step.ACK]
        await service.wait_idle()
        job = await service.job(job_id)
    assert job is not None and job.state is JobState.DONE
    steps = sink.steps(job_id)
    print("\n".join(sink.texts(job_id)))
    assert steps[:2] == [Step.ACK, Step.PREGEN]
    assert steps[-3:] == [Step.SUCCESS, Step.SUCCESS, Step.DONE]
    assert set(steps[2:-3]) <= {Step.PROGRESS}
    assert len(await sim.tasks()) == 1
    status = [e for e in sink.for_job(job_id) if e.slot is Slot.STATUS]
    assert all(e.message_ref == "msg-1" for e in status[1:])
