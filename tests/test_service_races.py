"""Races around intake and the create call: nothing is created twice, shown twice or lost."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from core.catalog.products import ProductLeaf
from core.clock import Clock, FakeClock
from core.jobs import JobState
from core.platform import ActionKind, ActionOutcome, Step, UxEvent
from core.ports import CreatedTask, CreateWatch, ImaGateway, Quote, TaskSnapshot, TaskSpec, VerifyResult
from core.types import AttachmentKind, Platform, TaskType
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink


class SlowAnswerGateway:
    """IMA accepts the create at once; its answer takes ``answer_s`` (virtual) seconds to come back."""

    def __init__(self, inner: ImaGateway, clock: Clock, answer_s: float = 1.0) -> None:
        self._inner, self._clock, self._answer_s = inner, clock, answer_s
        self.accepted = asyncio.Event()

    async def list_products(self, task_type: TaskType) -> Sequence[ProductLeaf]:
        return await self._inner.list_products(task_type)

    async def quote(self, spec: TaskSpec) -> Quote:
        return await self._inner.quote(spec)

    async def create_task(self, spec: TaskSpec, watch: CreateWatch | None = None) -> CreatedTask:
        created = await self._inner.create_task(spec, watch)
        self.accepted.set()
        await self._clock.sleep(self._answer_s)
        return created

    async def get_task(self, task_id: str) -> TaskSnapshot:
        return await self._inner.get_task(task_id)

    async def upload_file(self, path: Path, kind: AttachmentKind, content_type: str | None = None) -> str:
        return await self._inner.upload_file(path, kind, content_type)

    async def verify_asset(self, url: str, name: str) -> VerifyResult:
        return await self._inner.verify_asset(url, name)


class SlowAnswers:
    """``wrap_gateway`` for ``running_service``: every IMA client it wraps answers creates slowly."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.gateways: list[SlowAnswerGateway] = []

    def __call__(self, inner: ImaGateway) -> ImaGateway:
        self.gateways.append(SlowAnswerGateway(inner, self._clock))
        return self.gateways[-1]

    async def accepted(self) -> None:
        """Until IMA has accepted the create and its answer is on the way."""
        await self.gateways[-1].accepted.wait()


async def test_the_same_message_arriving_twice_at_once_is_handled_once(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    message = conversation(message_id="dup-1")
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        first, second = await asyncio.gather(
            service.handle_message(message, "用默认的，画一只可爱的橘猫"),
            service.handle_message(message, "用默认的，画一只可爱的橘猫"))
        await service.wait_idle()
    assert first is not None and first == second
    assert len(sink.of_step(Step.ACK)) == 1
    (pregen,) = sink.of_step(Step.PREGEN)  # "preference cleared" shown once, in the status message
    assert pregen.text.count("已清除你的模型偏好") == 1
    assert len(await sim.tasks()) == 1


async def test_a_long_message_arriving_twice_at_once_is_handled_once(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    message = conversation(message_id="dup-long")
    text = "画一只可爱的橘猫，" + "背景是开满鲜花的草地，阳光明媚。" * 800
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        ids = await asyncio.gather(*(service.handle_message(message, text) for _ in range(3)))
        await service.wait_idle()
    assert ids[0] is not None and set(ids) == {ids[0]}
    assert len(sink.of_step(Step.ACK)) == 1
    assert len(await sim.tasks()) == 1


async def test_shutdown_while_the_create_answer_is_in_flight_keeps_the_task(
        sim: SimHarness, db_path: Path, clock: FakeClock) -> None:
    first, second = RecordingSink("a"), RecordingSink("b")
    slow = SlowAnswers(clock)
    async with Database(db_path) as db, running_service(sim, db, clock, {Platform.CONSOLE: first},
                                                        wrap_gateway=slow) as service:
        await service.handle_message(conversation(message_id="sd-1"), "一只柴犬在海边奔跑的视频")
        await slow.accepted()
    # ---- restart: the task IMA accepted is followed to the end, never re-created nor reported lost
    async with Database(db_path) as db, running_service(sim, db, clock, {Platform.CONSOLE: second}) as svc:
        await svc.wait_idle()
        job = await SqliteJobStore(db).by_key("console:sd-1")
    assert len(await sim.tasks()) == 1
    assert job is not None and job.state is JobState.DONE and job.task_id
    assert not second.of_step(Step.FAILURE)
    assert [e for e in second.of_step(Step.SUCCESS) if e.media]


async def test_cancel_while_the_create_answer_is_in_flight_records_the_task_id(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    slow, user = SlowAnswers(clock), conversation(message_id="cx-1")
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, wrap_gateway=slow) as service:
        job_id = await service.handle_message(user, "一只柴犬在海边奔跑的视频")
        assert job_id is not None
        await slow.accepted()
        reply = await service.handle_action(user, job_id, ActionKind.CANCEL)
        job = await service.job(job_id)
    (created,) = await sim.tasks()
    assert reply.outcome is ActionOutcome.CANCELLED
    assert job is not None and job.state is JobState.CANCELLED
    assert job.task_id == created["id"]  # the paid task stays on record


async def test_a_long_text_parsed_off_the_loop_gives_the_same_request(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    text = "以后都用海螺，画一只可爱的橘猫，16:9，" + "背景是开满鲜花的草地，阳光明媚。" * 200
    requests = []
    for inline_chars in (100_000, 10):  # parsed on the loop, then in a worker thread
        async with running_service(sim, db, clock, {Platform.CONSOLE: sink},
                                   parse_inline_chars=inline_chars) as service:
            job_id = await service.handle_message(conversation(), text)
            assert job_id is not None
            job = await service.job(job_id)
            assert job is not None
            requests.append(job.request)
    assert requests[0] == requests[1]
    assert requests[0].params.get("aspect_ratio") == "16:9"


async def test_two_cancels_at_once_cancel_once(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    slow, user = SlowAnswers(clock), conversation(message_id="cx-2")
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, wrap_gateway=slow) as service:
        job_id = await service.handle_message(user, "一只柴犬在海边奔跑的视频")
        assert job_id is not None
        await slow.accepted()
        cancel = service.handle_action(user, job_id, ActionKind.CANCEL)
        replies = await asyncio.gather(cancel, service.handle_action(user, job_id, ActionKind.CANCEL))
        job = await service.job(job_id)
    assert [r.outcome for r in replies] == [ActionOutcome.CANCELLED] * 2
    assert len(sink.of_step(Step.FAILURE)) == 1  # one "cancelled" message
    assert job is not None and job.state is JobState.CANCELLED and job.task_id


class SlowAckSink(RecordingSink):
    """The acknowledgment is on screen (its cancel button clickable) before the platform call returns."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def emit(self, event: UxEvent) -> str | None:
        ref = await super().emit(event)
        if event.step is Step.ACK:
            await self.release.wait()
        return ref


async def test_cancel_clicked_while_the_acknowledgment_is_being_posted_stops_the_job(
        sim: SimHarness, db: Database, clock: FakeClock) -> None:
    sink, user = SlowAckSink(), conversation(message_id="ack-1")
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        intake = asyncio.ensure_future(service.handle_message(user, "一只柴犬在海边奔跑的视频"))
        ack = await sink.wait_for_step(Step.ACK)
        reply = await service.handle_action(user, ack.job_id, ActionKind.CANCEL)  # ack call still out
        sink.release.set()
        job_id = await intake
        await service.wait_idle()
        job = await service.job(ack.job_id)
    assert job_id == ack.job_id and reply.outcome is ActionOutcome.CANCELLED
    assert job is not None and job.state is JobState.CANCELLED
    assert await sim.tasks() == []  # nothing was created (or charged) after the cancel
    assert len(sink.of_step(Step.FAILURE)) == 1
