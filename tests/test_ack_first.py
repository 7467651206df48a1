"""Acknowledgments before background work (core.pipeline.job_tasks.AckFirst): while a message is being
taken in, jobs wait to start their quote and create; a flood holds no job back for long."""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.pipeline.job_tasks import AckFirst
from core.platform import Step, UxEvent
from core.ports import CreatedTask, CreateWatch, ImaGateway, TaskSpec
from core.types import Platform
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_job_starts_at_once_when_no_message_is_being_taken_in() -> None:
    await asyncio.wait_for(AckFirst().turn(), timeout=1)  # a bound on a bug, not a timing assertion


async def test_a_job_waits_until_the_message_being_taken_in_is_answered() -> None:
    first = AckFirst()
    with first.taking_in():
        job = asyncio.ensure_future(first.turn())
        await _settle()
        assert not job.done()
    await _settle()
    assert job.done()


async def test_under_a_flood_a_waiting_job_starts_after_patience_messages() -> None:
    first = AckFirst(patience=3)
    with first.taking_in():  # one message is always being taken in: the loop is never free of intake
        job = asyncio.ensure_future(first.turn())
        cancelled = asyncio.ensure_future(first.turn())
        await _settle()
        cancelled.cancel()
        for taken in range(1, 4):
            with first.taking_in():
                pass
            await _settle()
            assert job.done() is (taken == 3)


class SlowAckSink(RecordingSink):
    """The platform takes its time to post one message's acknowledgment (until ``release``)."""

    def __init__(self, slow_message: str) -> None:
        super().__init__()
        self.slow_message = slow_message
        self.release = asyncio.Event()
        self.order: list[str] = []

    async def emit(self, event: UxEvent) -> str | None:
        if event.step is Step.ACK and event.conversation.message_id == self.slow_message:
            await self.release.wait()
            self.order.append(f"ack {event.conversation.message_id}")
        return await super().emit(event)


class CreateOrder:
    def __init__(self, inner: ImaGateway, sink: SlowAckSink) -> None:
        self._inner, self._sink = inner, sink

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def create_task(self, spec: TaskSpec, watch: CreateWatch | None = None) -> CreatedTask:
        self._sink.order.append(f"create {spec.prompt}")
        self._sink.release.set()  # without the rule, the slow acknowledgment is released by this create
        return await self._inner.create_task(spec, watch)


async def test_an_earlier_jobs_create_waits_for_the_next_messages_acknowledgment(
        sim: SimHarness, db: Database, clock: FakeClock) -> None:
    sink = SlowAckSink(slow_message="m-second")
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink},
                               wrap_gateway=lambda gateway: CreateOrder(gateway, sink)) as service:
        first = asyncio.ensure_future(service.handle_message(conversation(message_id="m-first"),
                                                             "画一只橘猫"))
        second = asyncio.ensure_future(service.handle_message(conversation(message_id="m-second"),
                                                              "画一只柴犬"))
        await asyncio.wait({first}, timeout=None)
        # The first job either waits for its turn or creates (no event tells the first: poll between turns).
        while not (service.held_for_intake or sink.release.is_set()):  # noqa: ASYNC110
            await asyncio.sleep(0)
        sink.release.set()
        await asyncio.gather(first, second)
        await service.wait_idle()
    assert sink.order[0] == "ack m-second"
    assert sorted(sink.order[1:]) == ["create 一只柴犬", "create 一只橘猫"]


class HoldsIntakeAfterCreate:
    """Right after the create call returns, a message starts being taken in (and is held there)."""

    def __init__(self, inner: ImaGateway) -> None:
        self._inner = inner
        self.service: Any = None
        self.hold: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def create_task(self, spec: TaskSpec, watch: CreateWatch | None = None) -> CreatedTask:
        created = await self._inner.create_task(spec, watch)
        self.hold = self.service.taking_in()
        self.hold.__enter__()
        return created


async def test_a_poll_waits_while_a_message_is_being_taken_in(
        sim: SimHarness, db: Database, clock: FakeClock) -> None:
    sink, gateways = RecordingSink(), []

    def wrap(gateway: ImaGateway) -> ImaGateway:
        gateways.append(HoldsIntakeAfterCreate(gateway))
        return gateways[0]

    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, wrap_gateway=wrap) as service:
        gateways[0].service = service
        job_id = await service.handle_message(conversation(), "画一只橘猫")
        assert job_id is not None
        while gateways[0].hold is None:  # noqa: ASYNC110 - the create is on its way
            await asyncio.sleep(0)
        await clock.sleep(600)  # far past the image's finish: no poll went out while the message was held
        assert (await sim.calls()).get("tasks/detail", 0) == 0
        gateways[0].hold.__exit__(None, None, None)
        job = await service.wait_for(job_id)
    assert job is not None and job.state.value == "done"
    assert (await sim.calls()).get("tasks/detail", 0) >= 1
