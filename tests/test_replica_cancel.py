"""A cancel that reaches a replica which does not hold the job's lease (issue #15): it never writes over
the holder's live lease. It is recorded in the store; the holder stops the job at its next heartbeat and
its own message says so; if the holder died instead, the replica that takes the job over after the lease
cancels it rather than resuming it. Never do two replicas act on one job.

Two services on two store handles act as two replicas, on SQLite and on a real PostgreSQL, on virtual
time (``FakeClock(auto=False)``: time moves only when the test says so). The real-time bounds below only
end a stuck test; they schedule nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import NamedTuple

import pytest

from bot.storage import Stores
from core.catalog.models import ModelCatalog
from core.clock import FakeClock
from core.errors import ErrorKind
from core.jobs import Job, JobState, LeaseLostError
from core.messages import Messages
from core.pipeline.deps import RunnerDeps
from core.pipeline.service import GenerationService, ServiceConfig
from core.platform import ActionKind, ActionOutcome, Step
from core.types import Platform
from tests.support.backends import Backend
from tests.support.conversations import conversation
from tests.support.ima import SimHarness, simulator
from tests.support.sinks import RecordingSink
from tests.test_store_suite import leased

LEASE_S = 30.0
BEAT_S = LEASE_S / 3  # the lease keeper's heartbeat
VIDEO = "用可灵生成10秒视频，一只猫在弹钢琴"
BOUND_S = 60.0


# ---------------------------------------------------------------- the store's part


async def test_a_cancel_request_leaves_a_live_lease_with_its_holder_and_survives_its_writes(
        backend: Backend) -> None:
    async with backend.open() as one, backend.open() as two:  # r1 and r2 on the same store
        job, _ = await one.jobs.insert(leased("a", "r1", until=130.0))
        running = job.advance(JobState.ACKNOWLEDGED, 101.0)
        await one.jobs.save(running)

        asked = await two.jobs.request_cancel("a", "r2", 110.0, 140.0)

        assert asked is not None and (asked.lease_owner, asked.lease_until) == ("r1", 130.0)
        assert asked.state is JobState.ACKNOWLEDGED and asked.cancel_requested_at == 110.0
        assert await two.jobs.cancel_requests("r2") == frozenset()
        await one.jobs.save(running.update(112.0, polls=1))  # the holder's own writes do not wipe it out
        assert await one.jobs.cancel_requests("r1") == {"a"}
        await two.jobs.request_cancel("a", "r2", 115.0, 145.0)  # asked twice: the first time is kept
        stored = await one.jobs.get("a")
        assert stored is not None and stored.cancel_requested_at == 110.0 and stored.polls == 1
        await one.jobs.save(running.advance(JobState.CANCELLED, 120.0, error_kind=ErrorKind.CANCELLED))
        assert await one.jobs.cancel_requests("r1") == frozenset()  # carried out


async def test_a_cancel_request_takes_a_lease_nobody_renewed_and_the_old_holder_is_fenced_off(
        backend: Backend) -> None:
    async with backend.open() as one, backend.open() as two:
        job, _ = await one.jobs.insert(leased("a", "r1", until=130.0))
        taken = await two.jobs.request_cancel("a", "r2", 130.0, 160.0)
        assert taken is not None and (taken.lease_owner, taken.lease_until) == ("r2", 160.0)
        with pytest.raises(LeaseLostError):  # r1 wakes up from its stall: refused
            await one.jobs.save(job.advance(JobState.ACKNOWLEDGED, 131.0))
        assert await two.jobs.claim("r3", 131.0, 161.0, 10, ("console",)) == []
        done, _ = await one.jobs.insert(leased("b", None, created_at=90.0))
        await one.jobs.save(done.advance(JobState.FAILED, 91.0, error_kind=ErrorKind.AUTH))
        unchanged = await two.jobs.request_cancel("b", "r2", 132.0, 162.0)
        assert unchanged is not None and unchanged.state is JobState.FAILED
        assert unchanged.cancel_requested_at is None and unchanged.lease_owner is None
        assert await two.jobs.request_cancel("nope", "r2", 132.0, 162.0) is None


# ---------------------------------------------------------------- two replicas running jobs


@asynccontextmanager
async def replica(sim: SimHarness, stores: Stores, clock: FakeClock, sink: RecordingSink, name: str, *,
                  heartbeat: bool = True) -> AsyncIterator[GenerationService]:
    """One ``imabot run`` replica: its own IMA client, store handle and chat sink, under ``name``."""
    async with sim.client() as client:
        deps = RunnerDeps(gateway=client, jobs=stores.jobs, preferences=stores.preferences,
                          catalog=ModelCatalog.load_default(), messages=Messages.from_package(), clock=clock,
                          sinks={Platform.CONSOLE: sink}, fetchers={}, deliveries=stores.deliveries)
        service = GenerationService(deps, ServiceConfig(replica_id=name, lease_s=LEASE_S, takeover=heartbeat))
        await service.start()
        try:
            yield service
        finally:
            await service.aclose()


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Let the loop run (no virtual time passes) until ``check`` holds."""
    give_up = time.monotonic() + BOUND_S
    while time.monotonic() < give_up:
        if await check():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


async def submitted(service: GenerationService, stores: Stores) -> Job:
    """A video job taken in by ``service``, once its task exists at IMA and it polls on virtual time."""
    job_id = await service.handle_message(conversation(), VIDEO)
    assert job_id is not None

    async def created() -> bool:
        job = await stores.jobs.get(job_id)
        return job is not None and job.state is JobState.SUBMITTED

    await until(created, "the job's task was created")
    job = await stores.jobs.get(job_id)
    assert job is not None
    return job


class Pair(NamedTuple):
    """r1 (``a``) and r2 (``b``): each its own store handle and chat sink, one simulator, one clock."""

    clock: FakeClock
    sim: SimHarness
    stores_a: Stores
    stores_b: Stores
    a: GenerationService
    b: GenerationService
    sink_a: RecordingSink
    sink_b: RecordingSink


@asynccontextmanager
async def two_replicas(backend: Backend, *, a_heartbeats: bool = True) -> AsyncIterator[Pair]:
    clock = FakeClock(auto=False)
    sink_a, sink_b = RecordingSink("a"), RecordingSink("b")
    async with simulator(clock) as sim, backend.open(clock) as stores_a, backend.open(clock) as stores_b, \
            replica(sim, stores_b, clock, sink_b, "r2") as b, \
            replica(sim, stores_a, clock, sink_a, "r1", heartbeat=a_heartbeats) as a:
        yield Pair(clock, sim, stores_a, stores_b, a, b, sink_a, sink_b)


async def test_a_cancel_at_a_replica_without_the_lease_is_carried_out_by_the_holder(
        backend: Backend) -> None:
    async with two_replicas(backend) as pair:
        clock, sim, stores_a, stores_b, a, b, sink_a, sink_b = pair
        job = await submitted(a, stores_a)
        assert job.lease_owner == "r1"

        reply = await b.handle_action(job.conversation, job.job_id, ActionKind.CANCEL)

        assert reply.outcome is ActionOutcome.CANCELLING
        stored = await stores_b.jobs.get(job.job_id)
        assert stored is not None and stored.lease_owner == "r1" and stored.state is JobState.SUBMITTED
        assert stored.cancel_requested_at == clock.now()
        assert a.active_jobs == 1 and not sink_b.events  # r2 touched neither the job nor the chat

        clock.advance(BEAT_S)  # r1's next heartbeat finds the request
        failure = await asyncio.wait_for(sink_a.wait_for_step(Step.FAILURE), BOUND_S)

        ended = await stores_a.jobs.get(job.job_id)
        assert ended is not None and ended.state is JobState.CANCELLED and ended.lease_owner == "r1"
        assert failure.job_id == job.job_id and job.task_id is not None
        assert len(await sim.tasks()) == 1 and not sink_b.events
        again = await b.handle_action(job.conversation, job.job_id, ActionKind.CANCEL)
        assert again.outcome is ActionOutcome.NOT_ALLOWED
    assert [e.step for e in sink_a.for_job(job.job_id)].count(Step.FAILURE) == 1


async def test_a_cancel_recorded_for_a_holder_that_died_is_carried_out_by_the_replica_taking_over(
        backend: Backend) -> None:
    async with two_replicas(backend, a_heartbeats=False) as pair:
        clock, sim, stores_a, stores_b, a, b, sink_a, sink_b = pair
        job = await submitted(a, stores_a)
        a.drop(job.job_id)  # r1 hangs: its job stops here and its lease is never renewed
        reply = await b.handle_action(job.conversation, job.job_id, ActionKind.CANCEL)
        assert reply.outcome is ActionOutcome.CANCELLING  # the lease is still live: r2 waits

        clock.advance(LEASE_S)  # r1's lease runs out; r2's heartbeat takes the job over
        failure = await asyncio.wait_for(sink_b.wait_for_step(Step.FAILURE), BOUND_S)

        ended = await stores_b.jobs.get(job.job_id)
        assert ended is not None and ended.state is JobState.CANCELLED and ended.lease_owner == "r2"
        assert ended.error_kind is ErrorKind.CANCELLED and failure.job_id == job.job_id
        assert len(await sim.tasks()) == 1  # cancelled, not resumed: no second create, no polling
        assert Step.PROGRESS not in sink_b.steps(job.job_id)
    assert not [e for e in sink_a.for_job(job.job_id) if e.step is Step.FAILURE]
