from __future__ import annotations

import itertools

from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.jobs import JobState
from core.platform import ActionKind, ActionOutcome, Slot, Step
from core.types import Language, Platform
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
    assert steps[:2] == [Step.ACK, Step.PREGEN]
    assert steps[-3:] == [Step.SUCCESS, Step.SUCCESS, Step.DONE]
    assert set(steps[2:-3]) <= {Step.PROGRESS}
    assert len(await sim.tasks()) == 1
    status = [e for e in sink.for_job(job_id) if e.slot is Slot.STATUS]
    assert all(e.message_ref == "msg-1" for e in status[1:])


async def test_running_jobs_are_capped_by_the_concurrency_limit(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, max_concurrent_jobs=1) as service:
        ids = [await service.handle_message(conversation(), "画一只可爱的橘猫") for _ in range(3)]
        assert len(sink.of_step(Step.ACK)) == 3  # everyone is acknowledged at once
        await service.wait_idle()
    assert all(i is not None for i in ids)
    tasks = await sim.tasks()
    assert len(tasks) == 3
    for earlier, later in itertools.pairwise(tasks):
        assert later["created_at"] >= earlier["finish_after"]  # one at a time


async def test_clearing_preferences_and_describing_them(sim: SimHarness, db: Database, clock: FakeClock,
                                                        sink: RecordingSink) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        assert await service.handle_message(conversation(), "以后都用海螺") is None
        described = await service.describe_preferences(Platform.CONSOLE, "user-1", Language.ZH)
        assert "海螺" in described or "Hailuo" in described
        assert await service.handle_message(conversation(), "用默认的") is None
        assert await service.describe_preferences(Platform.CONSOLE, "user-1", Language.EN) == (
            "You have no model preferences yet; I pick a suitable model automatically.")
        await service.handle_message(conversation(), "以后都用海螺")
        cleared = await service.clear_preferences(Platform.CONSOLE, "user-1", Language.EN)
        assert cleared.startswith("✅")
        assert "想生成" in service.help_text(Language.ZH) or "生成视频" in service.help_text(Language.ZH)
    assert [e.step for e in sink.events] == [Step.NOTICE] * 3


async def test_unknown_job_action_and_platform_without_sink(sim: SimHarness, db: Database, clock: FakeClock,
                                                           sink: RecordingSink) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        reply = await service.handle_action(conversation(), "no-such-job", ActionKind.RETRY)
        assert reply.outcome is ActionOutcome.NOT_FOUND
        job_id = await service.handle_message(conversation(), "画一只可爱的橘猫")
        assert job_id is not None
    # Restart with no console sink registered: the parked job stays parked (nobody could see it).
    async with running_service(sim, db, clock, {}) as service:
        assert service.active_jobs == 0
        job = await service.job(job_id)
    assert job is not None and not job.state.terminal
