"""A spend confirmation answered at a replica that did not ask it (issue #15). The asking replica parks
the job (nobody runs a parked job) and may still renew its lease; the replica the answer reaches takes
the job over in one statement (``JobStore.take_parked``) and runs it under its own lease, so its
heartbeats keep it and the asking replica's keep nothing. Two answers at once: one wins.

Two services on two store handles act as two replicas, on SQLite and on a real PostgreSQL, on virtual
time (``FakeClock(auto=False)``: time moves only when the test says so). The real-time bounds only end
a stuck test; they schedule nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NamedTuple

from bot.storage import Stores
from core.catalog.models import ModelCatalog
from core.clock import FakeClock
from core.jobs import Job, JobState
from core.messages import Messages
from core.pipeline.deps import RunnerDeps
from core.pipeline.service import GenerationService, ServiceConfig
from core.platform import ActionKind, ActionOutcome, Step
from core.spend.gate import SpendGate
from core.spend.hooks import SettlingJobStore, Spend
from core.spend.policy import ConfirmPolicy, SpendPolicy
from core.types import Platform
from tests.support.backends import Backend
from tests.support.conversations import conversation
from tests.support.ima import SimHarness, simulator
from tests.support.sinks import RecordingSink
from tests.test_replica_cancel import BEAT_S, BOUND_S, LEASE_S, VIDEO, until

POLICY = SpendPolicy(confirm=ConfirmPolicy(above_points=5))  # the video costs more: it is asked about


@asynccontextmanager
async def replica(sim: SimHarness, stores: Stores, clock: FakeClock, sink: RecordingSink,
                  name: str) -> AsyncIterator[GenerationService]:
    """One ``imabot run`` replica with the spend rules: its own IMA client, store handle and chat sink."""
    messages = Messages.from_package()
    s = stores.spend
    gate = SpendGate(POLICY, s.ledger, s.settings, s.confirmations, clock, messages)
    async with sim.client() as client:
        deps = RunnerDeps(gateway=client, jobs=SettlingJobStore(stores.jobs, gate),
                          preferences=stores.preferences, catalog=ModelCatalog.load_default(),
                          messages=messages, clock=clock, sinks={Platform.CONSOLE: sink}, fetchers={},
                          deliveries=stores.deliveries, spend=Spend(gate=gate, keys=None))
        service = GenerationService(deps, ServiceConfig(replica_id=name, lease_s=LEASE_S, takeover=True))
        await service.start()
        try:
            yield service
        finally:
            await service.aclose()


class Pair(NamedTuple):
    clock: FakeClock
    sim: SimHarness
    stores_a: Stores
    a: GenerationService
    b: GenerationService
    sink_a: RecordingSink
    sink_b: RecordingSink


@asynccontextmanager
async def two_replicas(backend: Backend) -> AsyncIterator[Pair]:
    clock = FakeClock(auto=False)
    sink_a, sink_b = RecordingSink("a"), RecordingSink("b")
    async with simulator(clock) as sim, backend.open(clock) as stores_a, backend.open(clock) as stores_b, \
            replica(sim, stores_b, clock, sink_b, "r2") as b, \
            replica(sim, stores_a, clock, sink_a, "r1") as a:
        yield Pair(clock, sim, stores_a, a, b, sink_a, sink_b)


async def parked(pair: Pair) -> Job:
    """A video job r1 took in and parked for its user's yes, holding its lease."""
    job_id = await pair.a.handle_message(conversation(), VIDEO)
    assert job_id is not None

    async def asked() -> bool:
        job = await pair.stores_a.jobs.get(job_id)
        return job is not None and job.state is JobState.AWAITING_CONFIRMATION and pair.a.active_jobs == 0

    await until(asked, "the job was parked for confirmation")
    job = await pair.stores_a.jobs.get(job_id)
    assert job is not None and job.lease_owner == "r1"
    return job


async def run_to_end(pair: Pair, job_id: str) -> Job:
    """Move virtual time a second at a time (the replicas heartbeat many times) until the job ends.
    Time never passes the end of the job's lease before its holder renewed it: a live replica's
    heartbeat never falls a whole lease behind, and the test must not starve it so either."""
    for _ in range(int(20 * LEASE_S)):
        job = await pair.stores_a.jobs.get(job_id)
        assert job is not None
        if job.state.terminal:
            return job
        # A renewal is seen in the store before its heartbeat has come back; time moves on only after it.
        await until(lambda: _lease_outlasts_a_step(pair, job_id), "the job's holder renewed its lease")
        await until(lambda: _heartbeats_over(pair), "both replicas' heartbeats came back")
        pair.clock.advance(1.0)
    raise AssertionError(f"the job never ended; it is {job.state} held by {job.lease_owner}")


async def test_a_yes_at_the_replica_without_the_lease_runs_the_job_there_to_delivery(
        backend: Backend) -> None:
    async with two_replicas(backend) as pair:
        job = await parked(pair)

        reply = await pair.b.handle_action(job.conversation, job.job_id, ActionKind.CONFIRM)

        assert reply.outcome is ActionOutcome.STARTED
        taken = await pair.stores_a.jobs.get(job.job_id)
        assert taken is not None and taken.lease_owner == "r2"
        assert taken.state is not JobState.AWAITING_CONFIRMATION
        pair.clock.advance(BEAT_S)  # both heartbeat: r2 keeps the job, r1 holds nothing
        await until(lambda: _holds(pair, job.job_id, "r2"), "r2 renewed its lease")
        done = await run_to_end(pair, job.job_id)

        assert done.state is JobState.DONE and done.lease_owner == "r2"
        await asyncio.wait_for(pair.b.wait_idle(), BOUND_S)
        assert len(await pair.sim.tasks()) == 1
        assert pair.sink_b.steps(job.job_id).count(Step.SUCCESS) == 2  # the media and its link, once
        assert Step.SUCCESS not in pair.sink_a.steps(job.job_id)
        assert pair.a.active_jobs == 0 and pair.b.active_jobs == 0  # nothing left running or stuck


async def test_yes_at_both_replicas_at_once_starts_the_job_once(backend: Backend) -> None:
    async with two_replicas(backend) as pair:
        job = await parked(pair)

        replies = await asyncio.gather(
            pair.a.handle_action(job.conversation, job.job_id, ActionKind.CONFIRM),
            pair.b.handle_action(job.conversation, job.job_id, ActionKind.CONFIRM))

        assert sorted(r.outcome.value for r in replies) == sorted(
            [ActionOutcome.STARTED.value, ActionOutcome.NOT_ALLOWED.value])
        done = await run_to_end(pair, job.job_id)
        assert done.state is JobState.DONE and len(await pair.sim.tasks()) == 1
        await asyncio.wait_for(asyncio.gather(pair.a.wait_idle(), pair.b.wait_idle()), BOUND_S)
        successes = pair.sink_a.steps(job.job_id) + pair.sink_b.steps(job.job_id)
        assert successes.count(Step.SUCCESS) == 2  # the media and its link, once


async def test_a_no_at_the_replica_without_the_lease_ends_the_job_creating_nothing(
        backend: Backend) -> None:
    async with two_replicas(backend) as pair:
        job = await parked(pair)
        reply = await pair.b.handle_action(job.conversation, job.job_id, ActionKind.DECLINE)
        assert reply.outcome is ActionOutcome.CANCELLED
        ended = await pair.stores_a.jobs.get(job.job_id)
        assert ended is not None and ended.state is JobState.CANCELLED and ended.lease_owner == "r2"
        assert await pair.sim.tasks() == []


async def _lease_outlasts_a_step(pair: Pair, job_id: str) -> bool:
    job = await pair.stores_a.jobs.get(job_id)
    assert job is not None
    return job.state.terminal or job.lease_until - pair.clock.now() > 1.0


async def _heartbeats_over(pair: Pair) -> bool:
    return not (pair.a._leases.beating or pair.b._leases.beating)


async def _holds(pair: Pair, job_id: str, owner: str) -> bool:
    job = await pair.stores_a.jobs.get(job_id)
    return job is not None and job.lease_owner == owner and job.lease_until == pair.clock.now() + LEASE_S
