"""Task lifecycle over simulated time (FakeClock; no wall-clock sleeping)."""

from __future__ import annotations

import math
import statistics
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from core.clock import FakeClock
from core.types import TaskType
from sim.app import create_app
from sim.catalog import Catalog
from sim.config import SimConfig
from sim.payloads import build_create_body, find_leaf
from tests.support.sim_http import asgi_client

AUTH = {"Authorization": "Bearer ima_life"}
CATALOG = Catalog.load()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(auto=False)


@pytest.fixture
def app(clock: FakeClock) -> Starlette:
    return create_app(SimConfig(), clock=clock)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as c:
        yield c


async def start(client: httpx.AsyncClient, task_type: TaskType, version: str, **kwargs: Any) -> str:
    body = build_create_body(find_leaf(CATALOG, task_type, version), **kwargs)
    reply = (await client.post("/open/v1/tasks/create", json=body, headers=AUTH)).json()
    assert reply["code"] == 0, reply
    task_id: str = reply["data"]["id"]
    return task_id


async def detail(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    reply = (await client.post("/open/v1/tasks/detail", json={"task_id": task_id}, headers=AUTH)).json()
    assert reply["code"] == 0, reply
    data: dict[str, Any] = reply["data"]
    return data


async def test_video_goes_pending_processing_success_at_eet_midpoint(client: httpx.AsyncClient,
                                                                     clock: FakeClock) -> None:
    task_id = await start(client, TaskType.TEXT_TO_VIDEO, "MiniMax-Hailuo-2.3")  # EET 150~210 s
    first = await detail(client, task_id)
    assert [(m["resource_status"], m["status"]) for m in first["medias"]] == [(None, "pending")]
    clock.advance(60)
    assert (await detail(client, task_id))["medias"][0]["resource_status"] == 0
    clock.advance(119)  # 179 s
    assert (await detail(client, task_id))["medias"][0]["status"] == "processing"
    clock.advance(1)  # 180 s
    done = await detail(client, task_id)
    media = done["medias"][0]
    assert (media["resource_status"], media["status"], done["status"]) == (1, "success", "success")
    assert media["url"].startswith("http://ima.sim/_sim/media/")
    assert media["url"].split("?")[0].endswith(".mp4")
    assert media["cover"].split("?")[0].endswith(".jpg")
    assert media["format"] == "mp4" and media["width"] == 320 and media["height"] == 180
    assert media["duration_str"] == "4s"
    assert done["prompt"] == "a cat surfing"


async def test_speed_scales_generation_time(clock: FakeClock) -> None:
    app = create_app(SimConfig(speed=10), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ima.sim") as c:
        task_id = await start(c, TaskType.TEXT_TO_VIDEO, "sora-2-pro")  # EET 480~720 -> 600 s / 10
        clock.advance(59)
        assert (await detail(c, task_id))["medias"][0]["resource_status"] == 0
        clock.advance(1)
        assert (await detail(c, task_id))["medias"][0]["resource_status"] == 1


@pytest.mark.parametrize(("task_type", "version", "seconds", "fmt"), [
    (TaskType.TEXT_TO_VIDEO, "ima-pro-fast", 180, "mp4"),  # no EET tag: video default
    (TaskType.TEXT_TO_IMAGE, "gemini-3.1-flash-image-preview", 27.5, "png"),
    (TaskType.TEXT_TO_MUSIC, "sonic", 120, "mp3"),
    (TaskType.TEXT_TO_SPEECH, "seed-tts-2.0", 10, "wav"),  # no EET tag: speech default
])
async def test_completion_time_per_media_type(client: httpx.AsyncClient, clock: FakeClock,
                                              task_type: TaskType, version: str, seconds: float,
                                              fmt: str) -> None:
    task_id = await start(client, task_type, version)
    clock.advance(seconds - 0.5)
    assert (await detail(client, task_id))["medias"][0]["resource_status"] != 1
    clock.advance(0.5)
    media = (await detail(client, task_id))["medias"][0]
    assert media["resource_status"] == 1 and media["format"] == fmt and media["url"]


async def test_n_gives_n_medias(client: httpx.AsyncClient, clock: FakeClock) -> None:
    task_id = await start(client, TaskType.TEXT_TO_IMAGE, "midjourney", n=3)
    clock.advance(3600)
    medias = (await detail(client, task_id))["medias"]
    assert len(medias) == 3 and all(m["resource_status"] == 1 for m in medias)
    assert len({m["url"] for m in medias}) == 3


async def test_image_dimensions_follow_aspect_ratio(client: httpx.AsyncClient, clock: FakeClock) -> None:
    task_id = await start(client, TaskType.TEXT_TO_IMAGE, "gemini-3-pro-image-preview",
                          overrides={"aspect_ratio": "9:16"})
    clock.advance(3600)
    media = (await detail(client, task_id))["medias"][0]
    assert (media["width"], media["height"]) == (288, 512)


async def test_detail_of_unknown_or_foreign_task(client: httpx.AsyncClient) -> None:
    task_id = await start(client, TaskType.TEXT_TO_SPEECH, "seed-tts-2.0")
    other = await client.post("/open/v1/tasks/detail", json={"task_id": task_id},
                              headers={"Authorization": "Bearer ima_someone_else"})
    assert other.json()["code"] == 404
    missing = await client.post("/open/v1/tasks/detail", json={"task_id": "nope"}, headers=AUTH)
    assert missing.json()["code"] == 404
    unauthorized = await client.post("/open/v1/tasks/detail", json={"task_id": task_id})
    assert unauthorized.json()["code"] == 401


async def test_call_counters_and_task_introspection(client: httpx.AsyncClient, app: Starlette) -> None:
    task_id = await start(client, TaskType.TEXT_TO_SPEECH, "seed-tts-2.0")
    await detail(client, task_id)
    await detail(client, task_id)
    assert app.state.sim.calls["tasks/detail"] == 2
    listing = (await client.get("/_sim/tasks")).json()
    assert listing["calls"]["tasks/create"] == 1
    (task,) = listing["tasks"]
    assert task["id"] == task_id and task["payload"]["task_type"] == "text_to_speech"
    assert "ima_life" not in str(task["key"])
    await client.post("/_sim/reset")
    assert (await client.get("/_sim/tasks")).json()["tasks"] == []


async def test_spread_varies_each_tasks_time_around_the_typical_one(clock: FakeClock) -> None:
    """``--spread``: tasks of one model no longer finish in lockstep; the median stays the model's time,
    the same task number always gets the same time, and 0 keeps every task exact."""
    async def finish_times(spread: float) -> list[float]:
        app = create_app(SimConfig(spread=spread, seed=7), clock=clock)
        async with asgi_client(app) as c:
            ids = [await start(c, TaskType.TEXT_TO_VIDEO, "MiniMax-Hailuo-2.3") for _ in range(200)]
        tasks = [app.state.sim.task(task_id) for task_id in ids]
        return [task.finish_after for task in tasks]

    varied = await finish_times(0.3)
    ordered = sorted(varied)
    assert 160 <= ordered[100] <= 200  # median near the EET midpoint, 180 s
    logs = [math.log(t / 180) for t in varied]
    assert 0.22 <= statistics.pstdev(logs) <= 0.38
    assert ordered[0] >= 180 * math.exp(-0.9) - 1e-9 and ordered[-1] <= 180 * math.exp(0.9) + 1e-9
    assert await finish_times(0.3) == varied
    assert set(await finish_times(0.0)) == {180.0}
