"""``SUBMITTING`` means exactly "a create request may have left" (issue #15: SIGKILLs during the create).

The client tells the runner's ``CreateWatch`` when the request really leaves (after its queue, with the
body built) and when IMA refused it (nothing was created). A crash at each point of the create, then a
restart on the same file: before the request left → resumed and created once; after it left, before its
task id was stored → LOST, told the truth, never created again; during the Retry-After wait after a 429 →
resumed and created once. A cancel before the request left stops the job at once (nothing exists to wait
for). All on virtual time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.ima.client import ImaClient, ImaClientConfig
from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from core.clock import FakeClock
from core.errors import ErrorKind, ImaApiError
from core.jobs import Job, JobState, JobStore
from core.messages import Messages
from core.platform import ActionKind, ActionOutcome, Step, UxEvent
from core.ports import CreatedTask, CreateWatch, ImaGateway, TaskSpec
from core.types import Language, Platform, TaskType
from tests.support.conversations import conversation
from tests.support.ima import SIM_BASE_URL, SIM_UPLOAD_URL, TEST_API_KEY, SimHarness, WatchTap
from tests.support.service import running_service
from tests.support.sinks import RecordingSink

VIDEO = TaskSpec(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v", "a corgi on the beach")
PROMPT = "一只柴犬在海边奔跑"
BUSY_ZH = Messages.from_package().text("ux.stage.busy", Language.ZH)


class Crash(BaseException):
    """The process dies (not an Exception: nothing in the service may swallow it)."""


class Moments:
    """A ``CreateWatch`` that writes down what it was told, with the simulator's create count then."""

    def __init__(self, sim: SimHarness, clock: FakeClock) -> None:
        self.seen: list[tuple[str, int, float]] = []
        self._sim, self._clock = sim, clock

    async def sending(self) -> None:
        self.seen.append(("sending", len(await self._sim.tasks()), self._clock.now()))

    async def refused(self) -> None:
        self.seen.append(("refused", len(await self._sim.tasks()), self._clock.now()))

    def names(self) -> list[str]:
        return [name for name, _, _ in self.seen]


# ---------------------------------------------------------------- the client tells the truth


async def test_sending_is_told_after_the_queue_and_before_the_request(sim: SimHarness,
                                                                     clock: FakeClock) -> None:
    config = ImaClientConfig(base_url=SIM_BASE_URL, upload_base_url=SIM_UPLOAD_URL, api_key=TEST_API_KEY,
                             call_connections=1)
    async with ImaClient(config, transport=sim.transport, clock=clock) as client:
        await client.list_products(TaskType.TEXT_TO_VIDEO)  # cached: the create's quote needs no request
        await sim.set_faults(["list:delay=30:once"])
        lists = (await sim.calls()).get("product/list", 0)
        started = clock.now()
        slow = asyncio.ensure_future(client.list_products(TaskType.TEXT_TO_VIDEO, refresh=True))
        for _ in range(100):  # until the slow call holds the only "call" slot
            await asyncio.sleep(0)
            if (await sim.calls()).get("product/list", 0) > lists:
                break
        else:
            pytest.fail("the slow product list call never started")
        moments = Moments(sim, clock)
        created = await client.create_task(VIDEO, moments)
        await slow
    ((name, tasks_then, at),) = moments.seen
    assert name == "sending" and tasks_then == 0  # told before IMA saw anything
    assert at - started >= 30  # not while the create waited for its turn
    assert created.task_id and len(await sim.tasks()) == 1


async def test_a_watch_that_cannot_record_stops_the_request(ima: ImaClient, sim: SimHarness,
                                                            clock: FakeClock) -> None:
    class Unrecordable(Moments):
        async def sending(self) -> None:
            raise RuntimeError("the job store is down")

    with pytest.raises(RuntimeError):
        await ima.create_task(VIDEO, Unrecordable(sim, clock))
    assert await sim.tasks() == [] and (await sim.calls()).get("create", 0) == 0


@pytest.mark.parametrize(("faults", "told", "created"), [
    (["create:http=429:retry_after=5:once"], ["sending", "refused"], 0),  # raised; the runner waits
    (["create:code=6009:once"], ["sending", "refused", "sending"], 1),  # reflection sent it again
    (["create:code=4008:once"], ["sending", "refused"], 0),  # insufficient points: nothing created
    (["create:reset:once"], ["sending"], 0),  # the connection broke after sending: may exist, no refusal
])
async def test_refused_is_told_only_when_no_task_can_exist(
        sim: SimHarness, ima: ImaClient, clock: FakeClock, faults: list[str], told: list[str],
        created: int) -> None:
    await sim.set_faults(faults)
    moments = Moments(sim, clock)
    try:
        await ima.create_task(VIDEO, moments)
    except ImaApiError as exc:
        assert created == 0, exc
    assert moments.names() == told
    assert len(await sim.tasks()) == created


# ---------------------------------------------------------------- a crash at each point of the create


def crash_before_sending(watch: CreateWatch) -> CreateWatch:
    async def die() -> None:
        raise Crash("queued and quoted, SUBMITTING not yet recorded")
    return WatchTap(watch, before_sending=die)


def crash_after_sending(watch: CreateWatch) -> CreateWatch:
    async def die() -> None:
        raise Crash("SUBMITTING recorded; the request was about to leave")
    return WatchTap(watch, after_sending=die)


class Crashing:
    """The IMA client with the process dying at one moment of the create."""

    def __init__(self, inner: ImaGateway, wrap: Callable[[CreateWatch], CreateWatch]) -> None:
        self._inner, self._wrap = inner, wrap

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def create_task(self, spec: TaskSpec, watch: CreateWatch | None = None) -> CreatedTask:
        assert watch is not None
        return await self._inner.create_task(spec, self._wrap(watch))


class DiesBeforeStoringTheTaskId(SqliteJobStore):
    async def save(self, job: Job) -> None:
        if job.state is JobState.SUBMITTED:
            raise Crash("IMA answered; the task id never reached the database")
        await super().save(job)


class DiesWhileBusy(RecordingSink):
    """The process dies while the "busy, retrying" line is shown: during the Retry-After wait."""

    async def emit(self, event: UxEvent) -> str | None:
        if BUSY_ZH in event.text:
            raise Crash("waiting out a 429")
        return await super().emit(event)


@dataclass
class FirstRun:
    """How the first process is built so that it dies at the chosen moment."""

    sink: RecordingSink = field(default_factory=lambda: RecordingSink("a"))
    jobs: JobStore | None = None
    wrap: Callable[[ImaGateway], ImaGateway] | None = None


Setup = Callable[[SimHarness, Database], Awaitable[FirstRun]]


async def _before_sending(sim: SimHarness, db: Database) -> FirstRun:
    return FirstRun(wrap=lambda g: Crashing(g, crash_before_sending))


async def _after_sending(sim: SimHarness, db: Database) -> FirstRun:
    return FirstRun(wrap=lambda g: Crashing(g, crash_after_sending))


async def _after_the_answer(sim: SimHarness, db: Database) -> FirstRun:
    return FirstRun(jobs=DiesBeforeStoringTheTaskId(db))


async def _waiting_after_429(sim: SimHarness, db: Database) -> FirstRun:
    await sim.set_faults(["create:http=429:retry_after=20:once"])
    return FirstRun(sink=DiesWhileBusy("a"))


# point -> (set-up, tasks at IMA after the restart, the job's end)
POINTS: dict[str, tuple[Setup, int, JobState]] = {
    "before_sending": (_before_sending, 1, JobState.DONE),
    "after_sending": (_after_sending, 0, JobState.FAILED),  # may have left: LOST, even though it did not
    "after_the_answer": (_after_the_answer, 1, JobState.FAILED),
    "waiting_after_429": (_waiting_after_429, 1, JobState.DONE),
}


@pytest.mark.parametrize("point", list(POINTS))
async def test_a_crash_in_the_create_window_never_creates_twice_and_loses_only_what_may_exist(
        point: str, sim: SimHarness, db_path: Path, clock: FakeClock) -> None:
    setup, tasks_after, end = POINTS[point]
    async with Database(db_path) as db:
        first = await setup(sim, db)
        async with running_service(sim, db, clock, {Platform.CONSOLE: first.sink}, jobs=first.jobs,
                                   wrap_gateway=first.wrap) as service:
            try:
                await service.handle_message(conversation(message_id="w-1"), PROMPT)
                await service.wait_idle()
            except Crash:
                pass
        crashed = await SqliteJobStore(db).by_key("console:w-1")
    assert crashed is not None
    # the crash happened where intended, and what the store says is the truth about the request
    assert crashed.state is (JobState.SUBMITTING if end is JobState.FAILED else JobState.ACKNOWLEDGED)
    second = RecordingSink("b")
    async with Database(db_path) as db, running_service(sim, db, clock, {Platform.CONSOLE: second}) as svc:
        await svc.wait_idle()
        job = await SqliteJobStore(db).by_key("console:w-1")
    assert job is not None and job.state is end
    assert len(await sim.tasks()) == tasks_after  # never a second task
    media = [e for e in second.of_step(Step.SUCCESS) if e.media]
    if end is JobState.DONE:
        assert len(media) == 1 and not second.of_step(Step.FAILURE)
        return
    assert job.error_kind is ErrorKind.LOST and not media
    (failure,) = second.of_step(Step.FAILURE)
    assert "无法确认任务是否已创建" in failure.text and failure.actions == ()  # maybe charged; no retry


# ---------------------------------------------------------------- a cancel before the request left


class HoldsTimeWhenBusy(RecordingSink):
    """Holds virtual time still once the "busy, retrying" line is shown: the job waits out its 429."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self._clock = clock
        self.busy = asyncio.Event()

    async def emit(self, event: UxEvent) -> str | None:
        if BUSY_ZH in event.text:
            self._clock.auto = False
            self.busy.set()
        return await super().emit(event)


async def test_a_cancel_during_the_retry_after_wait_stops_at_once_and_nothing_is_created(
        sim: SimHarness, db: Database, clock: FakeClock) -> None:
    await sim.set_faults(["create:http=429:retry_after=30:once"])
    sink, user = HoldsTimeWhenBusy(clock), conversation()
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        job_id = await service.handle_message(user, PROMPT)
        assert job_id is not None
        await asyncio.wait_for(sink.busy.wait(), 60)  # real-time bounds end a stuck test, nothing more
        assert (stored := await service.job(job_id)) is not None and stored.state is JobState.ACKNOWLEDGED
        # no wait for a create that cannot be out: the cancel answers while time stands still
        reply = await asyncio.wait_for(service.handle_action(user, job_id, ActionKind.CANCEL), 60)
        clock.auto = True
        await clock.sleep(120)  # long past the Retry-After: the job was not resumed behind the cancel
        await service.wait_idle()
        job = await service.job(job_id)
    assert reply.outcome is ActionOutcome.CANCELLED
    assert job is not None and job.state is JobState.CANCELLED
    assert await sim.tasks() == [] and (await sim.calls()).get("tasks/create") == 1  # the refused one
    (message,) = sink.of_step(Step.FAILURE, job_id)
    assert "没有扣除积分" in message.text
