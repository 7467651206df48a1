"""The simulator's catalog and its product/list rendering."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from core.types import TaskType
from sim.app import create_app
from sim.catalog import Catalog
from sim.config import SimConfig
from tests.support.sim_http import asgi_client

EXPECTED_LEAVES = {
    TaskType.TEXT_TO_VIDEO: 16, TaskType.IMAGE_TO_VIDEO: 16, TaskType.FIRST_LAST_FRAME_TO_VIDEO: 13,
    TaskType.REFERENCE_IMAGE_TO_VIDEO: 10, TaskType.TEXT_TO_IMAGE: 4, TaskType.IMAGE_TO_IMAGE: 4,
    TaskType.TEXT_TO_MUSIC: 3, TaskType.TEXT_TO_SPEECH: 2,
}
AUTH = {"Authorization": "Bearer ima_test_key", "x-app-source": "ima_skills"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SimConfig())
    async with asgi_client(app) as c:
        yield c


def _leaves(tree: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    out = []
    for node in tree:
        assert node["type"] == "2"
        for child in node["children"]:
            assert child["type"] == "3"
            assert child["parent_id"] == node["id"]
            out.append(child)
    return out


@pytest.mark.parametrize(("category", "count"), EXPECTED_LEAVES.items())
async def test_product_list_serves_every_recorded_leaf(client: httpx.AsyncClient, category: TaskType,
                                                       count: int) -> None:
    reply = await client.get("/open/v1/product/list", headers=AUTH,
                             params={"app": "ima", "platform": "web", "category": category.value})
    body = reply.json()
    assert reply.status_code == 200 and body["code"] == 0
    leaves = _leaves(body["data"])
    assert len(leaves) == count
    assert all(leaf["category_code"] == category.value for leaf in leaves)
    assert all(leaf["credit_rules"] and leaf["credit_rules"][0]["attribute_id"] > 0 for leaf in leaves)


async def test_tree_keeps_recorded_order_and_groups(client: httpx.AsyncClient) -> None:
    reply = await client.get("/open/v1/product/list", headers=AUTH,
                             params={"app": "ima", "platform": "web", "category": "text_to_video"})
    tree = reply.json()["data"]
    assert [g["id"] for g in tree] == ["SeeDance", "Wan", "Hailuo", "Vidu", "Sora 2", "Kling", "Google Veo",
                                       "Pixverse"]
    pixverse = [leaf["id"] for leaf in tree[-1]["children"]]
    assert pixverse == ["Pixverse V5.5", "Pixverse V5", "Pixverse V4.5", "Pixverse V4", "Pixverse V3.5"]


async def test_leaf_shape_carries_pricing_tags_and_virtual_fields(client: httpx.AsyncClient) -> None:
    reply = await client.get("/open/v1/product/list", headers=AUTH,
                             params={"app": "ima", "platform": "web", "category": "text_to_video"})
    leaves = {leaf["id"]: leaf for leaf in _leaves(reply.json()["data"])}
    pro = leaves["ima-pro"]
    assert {r["attribute_id"]: r["points"] for r in pro["credit_rules"]}[4511] == 105
    aspect = next(f for f in pro["form_config"] if f["field"] == "aspect_ratio")
    assert aspect["is_ui_virtual"] is True and aspect["ui_params"][0]["value"] == "1:1"
    assert {"source_values": {"aspect_ratio": "adaptive"}, "target_value": "auto"} in \
        aspect["value_mapping"]["mapping_rules"]
    wan = leaves["wan2.6-t2v"]
    assert {"tag_type": "EET", "tag_value": "300~420s"} in wan["tags"]
    hailuo = leaves["MiniMax-Hailuo-02"]
    resolution = next(f for f in hailuo["form_config"] if f["field"] == "resolution")
    assert resolution["disabled_conditions"][0]["enum_value"] == "512P"
    assert all("icon" not in leaf and "description" not in leaf for leaf in leaves.values())


async def test_model_ids_filter(client: httpx.AsyncClient) -> None:
    reply = await client.get("/open/v1/product/list", headers=AUTH, params={
        "app": "ima", "platform": "web", "category": "text_to_video", "model_ids": "ima-pro,ima-pro-fast"})
    assert sorted(leaf["id"] for leaf in _leaves(reply.json()["data"])) == ["ima-pro", "ima-pro-fast"]


async def test_music_and_speech_leaves_without_form_config(client: httpx.AsyncClient) -> None:
    reply = await client.get("/open/v1/product/list", headers=AUTH,
                             params={"app": "ima", "platform": "web", "category": "text_to_music"})
    leaves = {leaf["id"]: leaf for leaf in _leaves(reply.json()["data"])}
    assert leaves["GenBGM"]["form_config"] is None
    assert leaves["GenBGM"]["credit_rules"] == [
        {"origin_point": 30, "points": 30, "attribute_id": 4399, "attributes": {"default": "enabled"}}]


async def test_product_list_rejects_bad_key_and_category(client: httpx.AsyncClient) -> None:
    params = {"app": "ima", "platform": "web", "category": "text_to_video"}
    bad_key = await client.get("/open/v1/product/list", params=params,
                               headers={"Authorization": "Bearer sk-nope"})
    assert bad_key.json()["code"] == 401
    bad_category = await client.get("/open/v1/product/list", headers=AUTH, params={**params, "category": "x"})
    assert bad_category.json()["code"] == 400


def test_form_defaults_resolve_virtual_fields() -> None:
    catalog = Catalog.load()
    by_id = {leaf.version_id: leaf for leaf in catalog.leaves[TaskType.TEXT_TO_VIDEO]}
    assert by_id["kling-video-o1"].form_defaults()["mode"] == "std"
    assert by_id["ima-pro"].form_defaults()["aspect_ratio"] == "1:1"
    seedream = catalog.leaves[TaskType.TEXT_TO_IMAGE][2]
    assert seedream.form_defaults()["size"] == "4k"


# Default rules the official algorithm picks from form defaults (facts §8.1 table).
DEFAULT_RULES = {
    "ima-pro-fast": (4505, 65), "ima-pro": (4511, 105), "doubao-seedance-1-5-pro-251215": (2084, 30),
    "wan2.6-t2v": (2058, 40), "MiniMax-Hailuo-2.3": (2127, 12), "MiniMax-Hailuo-02": (2132, 12),
    "viduq2": (2100, 15), "sora-2-pro": (1977, 120), "kling-video-o1": (2313, 48), "kling-v2-6": (2330, 40),
    "veo-3.1-generate-preview": (1995, 70), "Pixverse V5.5": (4286, 12),
}


@pytest.mark.parametrize(("version", "expected"), DEFAULT_RULES.items())
def test_text_to_video_form_defaults_select_the_recorded_default_rule(version: str,
                                                                      expected: tuple[int, int]) -> None:
    from sim.pricing import matching_rules

    leaf = next(leaf for leaf in Catalog.load().leaves[TaskType.TEXT_TO_VIDEO] if leaf.version_id == version)
    first = matching_rules(leaf, leaf.form_defaults())[0]
    assert (first.attribute_id, first.points) == expected


def test_catalog_files_are_our_compact_format_without_recording_noise() -> None:
    from sim.catalog import CATALOG_DIR

    for path in CATALOG_DIR.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        for noise in ('"icon"', '"description"', '"group_name"', '"origin_point"', '"tag_type"', "esxscloud"):
            assert noise not in text, (path.name, noise)
