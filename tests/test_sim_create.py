"""``tasks/create`` validation, in production's order, and balance accounting."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from core.types import TaskType
from sim.app import create_app
from sim.catalog import Catalog
from sim.config import SimConfig
from sim.payloads import build_create_body, find_leaf
from tests.support.sim_http import asgi_client

KEY = "ima_create_key"
AUTH = {"Authorization": f"Bearer {KEY}"}
CATALOG = Catalog.load()
IMG = "http://ima.sim/_sim/files/a.png"


@pytest.fixture
def app() -> Starlette:
    return create_app(SimConfig(default_balance=1000))


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as c:
        yield c


def body_for(task_type: TaskType, version: str, **kwargs: Any) -> dict[str, Any]:
    return build_create_body(find_leaf(CATALOG, task_type, version), **kwargs)


async def create(client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] = AUTH) -> Any:
    reply = await client.post("/open/v1/tasks/create", json=body, headers=headers)
    assert reply.status_code == 200
    return reply.json()


def inner(body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = body["parameters"][0]["parameters"]
    return result


@pytest.mark.parametrize(("task_type", "version", "inputs"), [
    (TaskType.TEXT_TO_VIDEO, "wan2.6-t2v", []),
    (TaskType.IMAGE_TO_VIDEO, "kling-v2-6", [IMG]),
    (TaskType.FIRST_LAST_FRAME_TO_VIDEO, "kling-video-o1", [IMG, IMG]),
    (TaskType.REFERENCE_IMAGE_TO_VIDEO, "viduq2", [IMG, IMG, IMG]),
    (TaskType.TEXT_TO_IMAGE, "doubao-seedream-4-5-251128", []),
    (TaskType.IMAGE_TO_IMAGE, "gemini-3-pro-image-preview", [IMG]),
    (TaskType.TEXT_TO_MUSIC, "GenBGM", []),
    (TaskType.TEXT_TO_SPEECH, "seed-tts-2.0", []),
])
async def test_valid_request_is_accepted_and_charged(
        client: httpx.AsyncClient, app: Starlette, task_type: TaskType, version: str,
        inputs: list[str]) -> None:
    body = body_for(task_type, version, input_images=inputs)
    reply = await create(client, body)
    assert reply["code"] == 0, reply
    data = reply["data"]
    assert data["task_type"] == task_type.value and data["medias"] == [] and data["generate_count"] == 1
    assert data["id"] and data["biz_id"] and data["timeout_at"] > data["created_at"]
    account = (await client.get(f"/_sim/keys/{KEY}")).json()
    assert account["balance"] == 1000 - body["parameters"][0]["credit"]
    recorded = app.state.sim.tasks[0]
    assert recorded.payload == body


async def test_bad_bearer_is_401(client: httpx.AsyncClient) -> None:
    body = body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v")
    for headers in ({}, {"Authorization": "Bearer sk-123"}, {"Authorization": "ima_no_scheme"}):
        assert (await create(client, body, headers))["code"] == 401


async def test_task_type_must_equal_category(client: httpx.AsyncClient) -> None:
    body = body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v")
    body["task_type"] = "image_to_video"
    reply = await create(client, body)
    assert reply["code"] == 400 and "category" in reply["message"]


async def test_unknown_model_or_version(client: httpx.AsyncClient) -> None:
    body = body_for(TaskType.TEXT_TO_VIDEO, "Pixverse V5.5")
    body["parameters"][0]["model_version"] = "Pixverse V9"
    assert (await create(client, body))["code"] == 400
    body = body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v")
    body["parameters"][0]["model_id"] = "wan2.6-i2v"  # exists, but not for text_to_video
    assert (await create(client, body))["code"] == 400


async def test_attribute_id_of_another_leaf_is_invalid_product_attribute(client: httpx.AsyncClient) -> None:
    body = body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v")
    body["parameters"][0]["attribute_id"] = 4511  # ima-pro's rule
    reply = await create(client, body)
    assert (reply["code"], reply["message"]) == (400, "Invalid product attribute")
    body["parameters"][0]["attribute_id"] = 0
    assert (await create(client, body))["message"] == "Invalid product attribute"


async def test_missing_rule_attribute_is_6009(client: httpx.AsyncClient) -> None:
    body = body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v")
    del inner(body)["resolution"]
    assert (await create(client, body))["code"] == 6009
    body = body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v")
    inner(body)["duration"] = 7  # no rule has 7 s
    assert (await create(client, body))["code"] == 6009


async def test_rule_of_other_params_is_6010(client: httpx.AsyncClient) -> None:
    body = body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v")  # 5 s / 1080P -> 2058
    inner(body)["resolution"] = "720P"  # recomputes to 2057
    reply = await create(client, body)
    assert reply["code"] == 6010


async def test_normalization_matches_like_production(client: httpx.AsyncClient) -> None:
    body = body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v")
    inner(body).update(duration="5", resolution="1080p")  # "5" == 5 and 1080p == 1080P
    assert (await create(client, body))["code"] == 0
    body = body_for(TaskType.TEXT_TO_VIDEO, "doubao-seedance-1-5-pro-251215")
    inner(body)["generate_audio"] = "true"  # the string "TRUE" never equals boolean true
    assert (await create(client, body))["code"] == 6009


async def test_credit_or_cast_mismatch_is_6006(client: httpx.AsyncClient) -> None:
    body = body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v")
    body["parameters"][0]["credit"] = 1
    assert (await create(client, body))["code"] == 6006
    body = body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v")
    inner(body)["cast"]["points"] = 1
    assert (await create(client, body))["code"] == 6006
    body = body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v")
    del inner(body)["cast"]
    assert (await create(client, body))["code"] == 6006


async def test_pixverse_without_model_is_400017(client: httpx.AsyncClient) -> None:
    body = body_for(TaskType.TEXT_TO_VIDEO, "Pixverse V5.5")
    del inner(body)["model"]
    reply = await create(client, body)
    assert reply["code"] == 400017 and "Invalid value for model" in reply["message"]
    inner(body)["model"] = "v4"  # another version's engine
    assert (await create(client, body))["code"] == 400017
    inner(body)["model"] = "V5.5"
    assert (await create(client, body))["code"] == 0


async def test_seedream_image_to_image_refuses_adaptive_size(client: httpx.AsyncClient) -> None:
    body = body_for(TaskType.IMAGE_TO_IMAGE, "doubao-seedream-4-5-251128", input_images=[IMG],
                    overrides={"size": "adaptive"})
    assert (await create(client, body))["code"] == 400
    inner(body)["size"] = "2048x2048"
    assert (await create(client, body))["code"] == 0


async def test_ima_pro_needs_subscription_but_fast_does_not(client: httpx.AsyncClient) -> None:
    await client.post(f"/_sim/keys/{KEY}", json={"subscription": False})
    assert (await create(client, body_for(TaskType.TEXT_TO_VIDEO, "ima-pro")))["code"] == 4014
    assert (await create(client, body_for(TaskType.TEXT_TO_VIDEO, "ima-pro-fast")))["code"] == 0


async def test_insufficient_points_counts_n(client: httpx.AsyncClient) -> None:
    await client.post(f"/_sim/keys/{KEY}", json={"balance": 100})
    body = body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v", n=3)  # 40 x 3 = 120 > 100
    assert (await create(client, body))["code"] == 4008
    assert (await client.get(f"/_sim/keys/{KEY}")).json()["balance"] == 100
    ok = await create(client, body_for(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v", n=2))
    assert ok["code"] == 0 and ok["data"]["generate_count"] == 2
    assert (await client.get(f"/_sim/keys/{KEY}")).json()["balance"] == 20


@pytest.mark.parametrize(("task_type", "version", "count"), [
    (TaskType.IMAGE_TO_VIDEO, "wan2.6-i2v", 0),
    (TaskType.IMAGE_TO_VIDEO, "wan2.6-i2v", 2),
    (TaskType.FIRST_LAST_FRAME_TO_VIDEO, "kling-video-o1", 1),
    (TaskType.FIRST_LAST_FRAME_TO_VIDEO, "kling-video-o1", 3),
    (TaskType.REFERENCE_IMAGE_TO_VIDEO, "kling-video-o1", 0),
    (TaskType.IMAGE_TO_IMAGE, "midjourney", 0),
    (TaskType.TEXT_TO_IMAGE, "midjourney", 1),
])
async def test_input_counts_per_task_type(client: httpx.AsyncClient, task_type: TaskType, version: str,
                                          count: int) -> None:
    reply = await create(client, body_for(task_type, version, input_images=[IMG] * count))
    assert reply["code"] == 400 and "input image" in reply["message"]


async def test_validation_order_checks_rules_before_money(client: httpx.AsyncClient) -> None:
    await client.post(f"/_sim/keys/{KEY}", json={"balance": 0, "subscription": False})
    body = body_for(TaskType.TEXT_TO_VIDEO, "ima-pro")
    broken = copy.deepcopy(body)
    del inner(broken)["duration"]
    assert (await create(client, broken))["code"] == 6009
    assert (await create(client, body))["code"] == 4014


async def test_success_code_200_variant() -> None:
    app = create_app(SimConfig(success_code=200))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ima.sim") as c:
        reply = await create(c, body_for(TaskType.TEXT_TO_SPEECH, "seed-tts-2.0"))
    assert reply["code"] == 200 and reply["message"] == "success"


INPUTS = {TaskType.IMAGE_TO_VIDEO: 1, TaskType.FIRST_LAST_FRAME_TO_VIDEO: 2,
          TaskType.REFERENCE_IMAGE_TO_VIDEO: 1, TaskType.IMAGE_TO_IMAGE: 1}
EVERY_LEAF = [(task_type, leaf.version_id) for task_type, leaves in CATALOG.leaves.items() for leaf in leaves]


@pytest.mark.parametrize(("task_type", "version"), EVERY_LEAF)
async def test_every_leaf_accepts_a_script_style_request(task_type: TaskType, version: str) -> None:
    app = create_app(SimConfig())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ima.sim") as c:
        reply = await create(c, body_for(task_type, version, input_images=[IMG] * INPUTS.get(task_type, 0)))
    assert reply["code"] == 0, reply


async def test_key_defaults_come_from_config() -> None:
    app = create_app(SimConfig(default_balance=50, default_subscription=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ima.sim") as c:
        assert (await c.get("/_sim/keys/ima_fresh")).json() == {"key": "ima_fr…", "balance": 50,
                                                                 "subscription": False}
        assert (await create(c, body_for(TaskType.TEXT_TO_VIDEO, "ima-pro")))["code"] == 4014
        assert (await create(c, body_for(TaskType.TEXT_TO_VIDEO, "ima-pro-fast")))["code"] == 4008
