"""The telemetry seam: a job through the service reports each state once, in order, with the points it
cost; progress and deliveries come from the observed sink; IMA calls carry endpoint and outcome."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.ima.client import ImaClient, ImaClientConfig
from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from core.clock import FakeClock
from core.jobs import Job, JobState
from core.ops.observed import ObservedDedupeStore, ObservedJobStore, ObservedSink
from core.ops.telemetry import FanOut, NoTelemetry
from core.types import MediaType, Platform, TaskType
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink


class RecordingTelemetry(NoTelemetry):
    def __init__(self) -> None:
        self.states: list[tuple[str, JobState | None, JobState]] = []
        self.calls: list[tuple[Any, ...]] = []

    def job_state(self, job: Job, previous: JobState | None) -> None:
        self.states.append((job.job_id, previous, job.state))

    def job_progress(self, job_id: str, percent: int | None) -> None:
        self.calls.append(("progress", job_id, percent))

    def ima_call(self, endpoint: str, outcome: str, seconds: float) -> None:
        assert seconds >= 0
        self.calls.append(("ima", endpoint, outcome))

    def platform_call(self, platform: Platform, operation: str, outcome: str, seconds: float) -> None:
        self.calls.append(("platform", platform, operation, outcome))

    def points_spent(self, media_type: MediaType, points: int) -> None:
        self.calls.append(("points", media_type, points))

    def delivery(self, platform: Platform, outcome: str) -> None:
        self.calls.append(("delivery", platform, outcome))

    def dedupe_hit(self, platform: Platform) -> None:
        self.calls.append(("dedupe", platform))

    def queue_length(self, waiting: int) -> None:
        self.calls.append(("queue", waiting))

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == kind]


async def test_a_job_reports_every_state_once_and_its_points(sim: SimHarness, db: Database, clock: FakeClock,
                                                             sink: RecordingSink) -> None:
    seen = RecordingTelemetry()
    observed = ObservedSink(Platform.CONSOLE, sink, seen)
    async with running_service(sim, db, clock, {Platform.CONSOLE: observed},
                               jobs=ObservedJobStore(SqliteJobStore(db), seen), telemetry=seen,
                               default_media=MediaType.IMAGE) as service:
        talk = conversation()
        job_id = await service.handle_message(talk, "画一只可爱的橘猫")
        again = await service.handle_message(talk, "画一只可爱的橘猫")  # the same message delivered twice
        await service.wait_idle()
        job = await service.job(job_id or "")
    assert again == job_id and job is not None
    states = [(prev, new) for jid, prev, new in seen.states if jid == job_id]
    assert states[0] == (None, JobState.RECEIVED)
    # Each state once, each with the state it came from (saves without a state change are not reported).
    path = [JobState.RECEIVED, JobState.ACKNOWLEDGED, JobState.SUBMITTING, JobState.SUBMITTED,
            JobState.RUNNING, JobState.DELIVERING, JobState.DONE]
    assert states == list(zip([None, *path[:-1]], path, strict=True))
    assert seen.of("points") == [("points", MediaType.IMAGE, job.credits)]
    assert seen.of("dedupe") == [("dedupe", Platform.CONSOLE)]
    assert ("delivery", Platform.CONSOLE, "ok") in seen.calls
    assert all(c[3] == "ok" for c in seen.of("platform"))
    assert seen.of("queue")[-1] == ("queue", 0)


async def test_ima_calls_report_endpoint_and_outcome(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/product/list"):
            return httpx.Response(200, json={"code": 0, "message": "ok", "data": []})
        return httpx.Response(200, json={"code": 401, "message": "invalid key", "data": None})

    seen = RecordingTelemetry()
    config = ImaClientConfig(base_url="https://api.test", upload_base_url="https://up.test",
                             api_key="ima_0123456789abcdef")
    transport = httpx.MockTransport(handler)
    async with ImaClient(config, transport=transport, clock=clock, telemetry=seen) as client:
        await client.list_products(TaskType.TEXT_TO_IMAGE)
        try:
            await client.get_task("t1")
        except Exception as exc:
            assert "ima_0123456789abcdef" not in str(exc)
    assert seen.of("ima") == [("ima", "product_list", "ok"), ("ima", "detail", "401")]


async def test_dedupe_refusals_count_and_fan_out_reaches_every_part() -> None:
    class Keys:
        def __init__(self) -> None:
            self.seen: set[str] = set()

        async def first_seen(self, key: str, ttl_s: float) -> bool:
            new = key not in self.seen
            self.seen.add(key)
            return new

    first, second = RecordingTelemetry(), RecordingTelemetry()
    store = ObservedDedupeStore(Platform.FEISHU, Keys(), FanOut([first, second]))
    assert await store.first_seen("k", 60) is True
    assert await store.first_seen("k", 60) is False
    assert first.of("dedupe") == second.of("dedupe") == [("dedupe", Platform.FEISHU)]
