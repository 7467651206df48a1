"""Expectations copied from the recorded CLI test cases (imastudio-cli test/fixtures.json), applied to
the simulator's copy of the recorded product lists as the IMA client lists them."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.ima.client import ImaClient
from adapters.ima.credit_rules import form_defaults, resolve, resolve_virtual_overrides, select_rule
from core.types import TaskType

T2V = TaskType.TEXT_TO_VIDEO

VIRTUAL_CASES = [
    (TaskType.TEXT_TO_IMAGE, "doubao-seedream-4-5-251128", "aspect_ratio", value, "size", expected)
    for value, expected in [
        ("16:9", "2560x1440"),
        ("9:16", "1440x2560"),
        ("1:1", "2048x2048"),
        ("4:3", "2304x1728"),
        ("4k", "4k"),
        ("2k", "2k"),
        ("21:9", "3024x1296"),
    ]
] + [
    (T2V, "ima-pro", "aspect_ratio", "adaptive", "aspect_ratio", "auto"),
    (T2V, "ima-pro", "aspect_ratio", "16:9", "aspect_ratio", "16:9"),
    (T2V, "ima-pro", "aspect_ratio", "9:16", "aspect_ratio", "9:16"),
    (T2V, "kling-video-o1", "quality", "720p", "mode", "std"),
    (T2V, "kling-video-o1", "quality", "1080p", "mode", "pro"),
    (T2V, "kling-v2-6", "quality", "1080p", "mode", "pro"),
]

RULE_CASES = [
    (TaskType.TEXT_TO_IMAGE, "doubao-seedream-4-5-251128", {}, 2341, 5),
    (TaskType.TEXT_TO_IMAGE, "gemini-3.1-flash-image-preview", {"size": "512px"}, 4400, 4),
    (TaskType.TEXT_TO_IMAGE, "gemini-3.1-flash-image-preview", {"size": "1K"}, 4401, 6),
    (TaskType.TEXT_TO_IMAGE, "gemini-3.1-flash-image-preview", {"size": "2K"}, 4402, 10),
    (TaskType.TEXT_TO_IMAGE, "gemini-3.1-flash-image-preview", {"size": "4K"}, 4403, 13),
    (TaskType.TEXT_TO_IMAGE, "gemini-3.1-flash-image-preview", {"size": "1k"}, 4401, 6),
    (TaskType.TEXT_TO_IMAGE, "gemini-3-pro-image-preview", {"size": "1K"}, 2399, 10),
    (TaskType.TEXT_TO_IMAGE, "gemini-3-pro-image-preview", {"size": "4K"}, 2401, 18),
    (TaskType.IMAGE_TO_IMAGE, "gemini-3.1-flash-image-preview", {"size": "4K"}, 4407, 13),
    (T2V, "doubao-seedance-1-5-pro-251215", {"duration": "5", "resolution": "480p"}, 2083, 16),
    (T2V, "doubao-seedance-1-5-pro-251215", {"duration": "5", "resolution": "1080p"}, 2083, 16),
    (T2V, "doubao-seedance-1-5-pro-251215", {"duration": "10"}, 2083, 16),
    (T2V, "doubao-seedance-1-5-pro-251215", {}, 2083, 16),
]

DEFAULT_CASES = [
    (TaskType.TEXT_TO_IMAGE, "doubao-seedream-4-5-251128", {"size": "4k"}, 2341, 5),
    (
        TaskType.TEXT_TO_IMAGE,
        "gemini-3.1-flash-image-preview",
        {"aspect_ratio": "1:1", "size": "1K"},
        4401,
        6,
    ),
    (TaskType.TEXT_TO_IMAGE, "gemini-3-pro-image-preview", {"aspect_ratio": "1:1", "size": "1K"}, 2399, 10),
    (TaskType.TEXT_TO_IMAGE, "midjourney", {"n": "1", "resolution": "480p"}, 4390, 8),
    (T2V, "ima-pro", {"audio": True, "duration": 5, "aspect_ratio": "1:1", "resolution": "720p"}, 4511, 105),
    (T2V, "kling-video-o1", {"duration": "5", "aspect_ratio": "16:9", "mode": "std"}, 2313, 48),
    (T2V, "kling-v2-6", {"duration": "5", "aspect_ratio": "16:9", "mode": "pro", "sound": "off"}, 2330, 40),
    # the recorded default is sonic-v4; we deliberately send sonic-v5 (facts §4.4, ima_rules.toml)
    (
        TaskType.TEXT_TO_MUSIC,
        "sonic",
        {
            "make_instrumental": False,
            "auto_lyrics": False,
            "custom_mode": True,
            "model_version": "sonic-v5",
            "n": "1",
        },
        2370,
        25,
    ),
    (TaskType.TEXT_TO_SPEECH, "seed-tts-2.0", {"model": "seed-tts-2.0-expressive"}, 4419, 2),
]

MERGE_CASES = [
    (TaskType.TEXT_TO_IMAGE, "doubao-seedream-4-5-251128", {"aspect_ratio": "16:9"}, {"size": "2560x1440"}),
    (TaskType.TEXT_TO_IMAGE, "doubao-seedream-4-5-251128", {}, {"size": "4k"}),
    (TaskType.TEXT_TO_IMAGE, "gemini-3.1-flash-image-preview", {"size": "4K"}, {"size": "4K"}),
    (TaskType.TEXT_TO_IMAGE, "gemini-3.1-flash-image-preview", {"size": "1k"}, {"size": "1K"}),
    (T2V, "kling-video-o1", {"quality": "1080p"}, {"mode": "pro"}),
    (T2V, "ima-pro", {"aspect_ratio": "adaptive"}, {"aspect_ratio": "auto"}),
]


async def _leaf(ima: ImaClient, task_type: TaskType, version_id: str) -> Any:
    leaves = await ima.list_products(task_type)
    return next(leaf for leaf in leaves if leaf.version_id == version_id)


@pytest.mark.parametrize(("task_type", "version", "field", "value", "param", "expected"), VIRTUAL_CASES)
async def test_recorded_virtual_param_cases(
    ima: ImaClient, task_type: TaskType, version: str, field: str, value: str, param: str, expected: str
) -> None:
    leaf = await _leaf(ima, task_type, version)
    assert resolve_virtual_overrides(leaf, {field: value}) == {param: expected}


@pytest.mark.parametrize(("task_type", "version", "params", "attribute_id", "points"), RULE_CASES)
async def test_recorded_rule_selection_cases(
    ima: ImaClient, task_type: TaskType, version: str, params: dict[str, Any], attribute_id: int, points: int
) -> None:
    rule, _ = select_rule((await _leaf(ima, task_type, version)).credit_rules, params)
    assert (rule.attribute_id, rule.points) == (attribute_id, points)


@pytest.mark.parametrize(("task_type", "version", "defaults", "attribute_id", "points"), DEFAULT_CASES)
async def test_recorded_form_default_cases(
    ima: ImaClient, task_type: TaskType, version: str, defaults: dict[str, Any], attribute_id: int,
    points: int,
) -> None:
    leaf = await _leaf(ima, task_type, version)
    assert form_defaults(leaf) == defaults
    rule = resolve(leaf, {}).rule
    assert (rule.attribute_id, rule.points) == (attribute_id, points)


@pytest.mark.parametrize(("task_type", "version", "extra", "contains"), MERGE_CASES)
async def test_recorded_merge_cases(
    ima: ImaClient, task_type: TaskType, version: str, extra: dict[str, Any], contains: dict[str, Any]
) -> None:
    inner = resolve(await _leaf(ima, task_type, version), extra).inner_params
    assert {k: inner[k] for k in contains} == contains
    assert "default" not in inner
    assert not (set(extra) - set(contains)) & set(inner)  # UI-only keys are never sent
