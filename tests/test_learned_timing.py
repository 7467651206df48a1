"""Jobs on virtual time (FakeClock) against the in-process simulator: finished jobs teach the runner each
model's generation time (kept in the store; tests/test_store_suite.py checks the store on both
backends), the next job of that model polls around it, and a running job's status message is updated
at a steady cadence with honest progress."""

from __future__ import annotations

import math

from adapters.sqlite.db import Database
from adapters.sqlite.durations import SqliteDurationStore
from core.clock import FakeClock
from core.jobs import Job, JobState
from core.platform import Step, UxEvent
from core.timing.durations import DurationBook, DurationKey
from core.types import Platform
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink

VIDEO = "一只柴犬在海边奔跑"


class TimedSink(RecordingSink):
    """Records the virtual time of every event."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.times: list[tuple[float, UxEvent]] = []

    async def emit(self, event: UxEvent) -> str | None:
        self.times.append((self.clock.now(), event))
        return await super().emit(event)


async def _run(sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink, book: DurationBook,
               message_id: str) -> Job:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, durations=book) as service:
        job_id = await service.handle_message(conversation(message_id=message_id), VIDEO)
        assert job_id is not None
        job = await service.wait_for(job_id)
    assert job is not None and job.state is JobState.DONE
    return job


async def test_the_next_job_of_a_model_polls_around_its_learned_finish(
        sim: SimHarness, db: Database, clock: FakeClock) -> None:
    book = DurationBook(SqliteDurationStore(db))
    first = await _run(sim, db, clock, RecordingSink(), book, "m1")
    assert first.model_id and first.submitted_at and first.finished_at
    took = first.finished_at - first.submitted_at
    restarted = DurationBook(SqliteDurationStore(db))  # what the next process start learns from SQLite
    await restarted.load()
    key = DurationKey(first.model_id)
    assert restarted.profile(key, (60, 600)).observed == 1
    for _ in range(9):  # as if nine more jobs of this model had finished in about the same time
        restarted.remember(key, took)
    second = await _run(sim, db, clock, RecordingSink(), restarted, "m2")
    assert second.model_id == first.model_id
    # sparse jumps of at most 60 s up to the known finish, then one or two dense polls
    assert second.polls <= math.ceil(took / 60) + 2 < first.polls
    assert second.finished_at and second.submitted_at
    assert second.finished_at - second.submitted_at <= took + 8 * 1.15  # seen within one dense interval


async def test_status_is_updated_at_least_every_15_s_and_progress_never_reaches_100(
        sim: SimHarness, db: Database, clock: FakeClock) -> None:
    sink = TimedSink(clock)
    job = await _run(sim, db, clock, sink, DurationBook(), "m1")
    assert job.submitted_at is not None and job.finished_at is not None
    status_times = [t for t, e in sink.times if e.step in (Step.PREGEN, Step.PROGRESS)]
    gaps = [b - a for a, b in zip(status_times, [*status_times[1:], job.finished_at], strict=True)]
    assert max(gaps) <= 15.0 + 1e-6
    percents = [e.percent for _, e in sink.times if e.step is Step.PROGRESS and e.percent is not None]
    assert percents and max(percents) <= 95
    assert percents == sorted(percents)



class KeptDurations:
    """A duration store that keeps what the runner records (in memory)."""

    def __init__(self) -> None:
        self.kept: list[tuple[DurationKey, float]] = []

    async def record(self, key: DurationKey, seconds: float, finished_at: float) -> None:
        self.kept.append((key, seconds))

    async def recent(self, per_key: int) -> dict[DurationKey, list[float]]:
        return {}


async def test_a_finished_job_teaches_its_generation_time_not_the_time_a_poll_found_it(
        sim: SimHarness, db: Database, clock: FakeClock) -> None:
    store = KeptDurations()
    job = await _run(sim, db, clock, RecordingSink(), DurationBook(store), "m1")
    assert job.submitted_at is not None and job.finished_at is not None
    (task,) = await sim.tasks()
    ready = task["created_at"] + task["finish_after"] - job.submitted_at  # when IMA had the result
    seen = job.finished_at - job.submitted_at  # when a poll found it
    [(_, learned)] = store.kept
    assert learned < seen
    assert abs(learned - ready) <= 8 * 1.15  # within the dense interval around the real finish
