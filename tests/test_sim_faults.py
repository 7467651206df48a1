"""Fault injection: the grammar, and each fault as a client would observe it."""

from __future__ import annotations

import json
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
from sim.faults import FaultSpec, FaultSpecError
from sim.payloads import build_create_body, find_leaf
from tests.support.sim_http import asgi_client

AUTH = {"Authorization": "Bearer ima_faults"}
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


async def set_faults(client: httpx.AsyncClient, *specs: str, mode: str = "replace") -> Any:
    reply = await client.post("/_sim/faults", json={"faults": list(specs), "mode": mode})
    assert reply.status_code == 200, reply.text
    return reply.json()


def wan(**overrides: Any) -> dict[str, Any]:
    return build_create_body(find_leaf(CATALOG, TaskType.TEXT_TO_VIDEO, "wan2.6-t2v"), overrides=overrides)


async def create(client: httpx.AsyncClient, body: dict[str, Any] | None = None) -> httpx.Response:
    return await client.post("/open/v1/tasks/create", json=body or wan(), headers=AUTH)


async def detail(client: httpx.AsyncClient, task_id: str) -> httpx.Response:
    return await client.post("/open/v1/tasks/detail", json={"task_id": task_id}, headers=AUTH)


def test_grammar_round_trips() -> None:
    spec = FaultSpec.parse("create:code=500:when=resolution=1080P:once")
    assert (spec.route, spec.code, spec.when, spec.times) == ("create", 500, ("resolution", "1080P"), 1)
    assert FaultSpec.parse(spec.render()) == spec
    assert FaultSpec.parse("task:result_size_mb=40").result_size_mb == 40
    assert FaultSpec.parse("detail:reset:times=2").reset is True


@pytest.mark.parametrize("bad", ["nowhere:code=1", "create:code=abc", "create:bogus=1", "create:when=x",
                                 "create:code", "task:code=500", "task:once", "create:rs=2", "detail:stuck",
                                 "create:once"])
def test_grammar_rejects_nonsense(bad: str) -> None:
    with pytest.raises(FaultSpecError):
        FaultSpec.parse(bad)


async def test_admin_api_rejects_bad_spec(client: httpx.AsyncClient) -> None:
    reply = await client.post("/_sim/faults", json={"faults": ["create:what=1"]})
    assert reply.status_code == 400 and "what" in reply.json()["error"]


async def test_conditional_500_exercises_degradation(client: httpx.AsyncClient) -> None:
    await set_faults(client, "create:code=500:when=resolution=1080P")
    assert (await create(client, wan(resolution="1080P"))).json()["code"] == 500
    assert (await create(client, wan(resolution="1080p"))).json()["code"] == 500  # normalized
    assert (await create(client, wan(resolution="720P"))).json()["code"] == 0


async def test_once_and_times(client: httpx.AsyncClient) -> None:
    await set_faults(client, "create:code=6010:once", "create:code=4008:times=2", mode="add")
    codes = [(await create(client)).json()["code"] for _ in range(4)]
    assert codes == [6010, 4008, 4008, 0]
    listing = (await client.get("/_sim/faults")).json()["faults"]
    assert [f["fired"] for f in listing] == [1, 2]


async def test_startup_faults_come_from_config_and_reset_restores_them(clock: FakeClock) -> None:
    app = create_app(SimConfig(faults=(FaultSpec.parse("create:code=503:once"),)), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ima.sim") as c:
        assert (await create(c)).json()["code"] == 503
        assert (await create(c)).json()["code"] == 0
        await c.post("/_sim/reset")
        assert (await create(c)).json()["code"] == 503


async def test_429_with_retry_after_on_create_and_detail(client: httpx.AsyncClient) -> None:
    await set_faults(client, "create:http=429:retry_after=3:once", "detail:http=429:once")
    limited = await create(client)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert limited.json()["code"] == 429
    task_id = (await create(client)).json()["data"]["id"]
    limited_detail = await detail(client, task_id)
    assert limited_detail.status_code == 429 and limited_detail.headers["retry-after"] == "1"
    assert (await detail(client, task_id)).json()["code"] == 0


async def test_http_error_status_with_json_body(client: httpx.AsyncClient) -> None:
    await set_faults(client, "create:http=500:once")
    reply = await create(client)
    assert reply.status_code == 500 and reply.json()["code"] == 500


async def test_latency_on_a_route_uses_simulated_time(client: httpx.AsyncClient, app: Starlette) -> None:
    clock = FakeClock(auto=True)
    app.state.sim.clock = clock
    await set_faults(client, "create:delay=45:once")
    start = clock.now()
    assert (await create(client)).json()["code"] == 0
    assert clock.now() - start == pytest.approx(45)


async def test_connection_reset_is_a_transport_error(client: httpx.AsyncClient) -> None:
    await set_faults(client, "create:reset:once")
    with pytest.raises(httpx.TransportError):
        await create(client)
    assert (await create(client)).json()["code"] == 0


async def test_malformed_json(client: httpx.AsyncClient) -> None:
    task_id = (await create(client)).json()["data"]["id"]
    await set_faults(client, "detail:malformed:once")
    broken = await detail(client, task_id)
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.text)
    assert (await detail(client, task_id)).json()["code"] == 0


async def finish(client: httpx.AsyncClient, clock: FakeClock) -> tuple[str, dict[str, Any]]:
    task_id = (await create(client)).json()["data"]["id"]
    clock.advance(3600)
    data: dict[str, Any] = (await detail(client, task_id)).json()["data"]
    return task_id, data


async def test_task_failure_with_resource_status_2(client: httpx.AsyncClient, clock: FakeClock) -> None:
    await set_faults(client, "task:rs=2:error_msg=content policy:once")
    _, data = await finish(client, clock)
    media = data["medias"][0]
    assert (media["resource_status"], media["status"], media["error_msg"]) == (2, "failed", "content policy")
    _, healthy = await finish(client, clock)
    assert healthy["medias"][0]["resource_status"] == 1


async def test_task_deleted_and_rs1_failed(client: httpx.AsyncClient, clock: FakeClock) -> None:
    await set_faults(client, "task:rs=3:once", "task:status=failed:once")
    _, deleted = await finish(client, clock)
    assert deleted["medias"][0]["resource_status"] == 3
    _, failed = await finish(client, clock)
    assert (failed["medias"][0]["resource_status"], failed["medias"][0]["status"]) == (1, "failed")


async def test_empty_url_for_k_polls(client: httpx.AsyncClient, clock: FakeClock) -> None:
    await set_faults(client, "task:empty_url=2")
    task_id, first = await finish(client, clock)
    assert (first["medias"][0]["resource_status"], first["medias"][0]["url"]) == (1, "")
    second = (await detail(client, task_id)).json()["data"]["medias"][0]
    assert second["url"] == ""
    third = (await detail(client, task_id)).json()["data"]["medias"][0]
    assert third["url"].startswith("http://ima.sim/_sim/media/")


async def test_stuck_task_never_finishes(client: httpx.AsyncClient, clock: FakeClock) -> None:
    await set_faults(client, "task:stuck:model=wan2.6-t2v")
    task_id, data = await finish(client, clock)
    clock.advance(10 * 86400)
    again = (await detail(client, task_id)).json()["data"]
    assert data["medias"][0]["resource_status"] == 0 and again["medias"][0]["resource_status"] == 0


async def test_model_filter(client: httpx.AsyncClient, clock: FakeClock) -> None:
    await set_faults(client, "create:code=503:model=kling-video-o1")
    assert (await create(client)).json()["code"] == 0
    kling = build_create_body(find_leaf(CATALOG, TaskType.TEXT_TO_VIDEO, "kling-video-o1"))
    assert (await create(client, kling)).json()["code"] == 503


async def test_oversize_result(client: httpx.AsyncClient, clock: FakeClock) -> None:
    await set_faults(client, "task:result_size_mb=40")
    _, data = await finish(client, clock)
    url = data["medias"][0]["url"]
    assert "big.mp4?mb=40" in url
    async with client.stream("GET", url.removeprefix("http://ima.sim")) as reply:
        assert int(reply.headers["content-length"]) == 40 * 1024 * 1024


async def test_any_route_and_product_list_fault(client: httpx.AsyncClient) -> None:
    await set_faults(client, "list:code=503:once")
    params = {"app": "ima", "platform": "web", "category": "text_to_image"}
    assert (await client.get("/open/v1/product/list", params=params, headers=AUTH)).json()["code"] == 503
    await set_faults(client, "any:http=502:once")
    assert (await client.get("/open/v1/product/list", params=params, headers=AUTH)).status_code == 502
    assert (await client.get("/open/v1/product/list", params=params, headers=AUTH)).json()["code"] == 0
