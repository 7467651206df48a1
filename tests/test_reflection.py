"""Create-time reflection plans (facts §7), table-driven over recorded rules."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.ima.credit_rules import resolve
from adapters.ima.reflection import ladder_below, plan_retry, value_score
from core.errors import ErrorKind
from core.types import TaskType
from tests import ima_catalog_data as data


@pytest.mark.parametrize(
    ("node", "key", "current", "expected"),
    [
        (data.wan_t2v(), "duration", 15, [10, 5]),
        (data.wan_t2v(), "duration", 10, [5]),
        (data.wan_t2v(), "duration", 5, []),
        (data.kling_o1(), "duration", "10", ["5"]),
        (data.kling_o1(), "mode", "pro", ["std"]),
        (data.wan_t2v(), "resolution", "1080P", ["720P"]),
        (data.hailuo_23(), "resolution", "1080p", ["768P"]),
        (data.nano_banana_2(), "size", "4K", ["2K", "1K", "512px"]),
        # no rule prices it: the static ladder applies
        (data.seedream(), "size", "4k", ["2k", "1k", "512px"]),
        (data.seedream(), "size", "2560x1440", ["1k", "512px"]),
    ],
)
def test_ladders_come_from_the_rules(
    node: dict[str, Any], key: str, current: Any, expected: list[Any]
) -> None:
    assert ladder_below(data.leaf_of(node), key, current) == expected


def test_value_score_orders_words_numbers_and_sizes() -> None:
    assert value_score("quality", "high") > value_score("quality", "standard") > value_score("quality", "low")  # type: ignore[operator]
    assert value_score("size", "4K") > value_score("size", "2048x2048") > value_score("size", "1K")  # type: ignore[operator]
    assert value_score("audio", True) is None
    assert value_score("aspect_ratio", "auto") is None


def test_500_degrades_one_parameter_resolution_before_duration() -> None:
    leaf = data.leaf_of(data.wan_t2v())
    sent = resolve(leaf, {"duration": 10}).inner_params
    plan = plan_retry(ErrorKind.SERVER_ERROR, leaf, {"duration": 10}, sent)
    assert plan is not None
    assert plan.params == {"duration": 10, "resolution": "720P"}
    assert plan.adjustments == ("resolution:1080P->720P",)


def test_500_degrades_numeric_duration_when_resolution_is_already_lowest() -> None:
    leaf = data.leaf_of(data.wan_t2v())
    params = {"duration": 10, "resolution": "720p"}
    plan = plan_retry(ErrorKind.SERVER_ERROR, leaf, params, resolve(leaf, params).inner_params)
    assert plan is not None
    assert plan.params["duration"] == 5
    assert plan.adjustments == ("duration:10->5",)
    assert resolve(leaf, plan.params).rule.attribute_id == 2057


def test_500_with_nothing_left_to_degrade_gives_up() -> None:
    leaf = data.leaf_of(data.wan_t2v())
    params = {"duration": 5, "resolution": "720P"}
    assert plan_retry(ErrorKind.SERVER_ERROR, leaf, params, resolve(leaf, params).inner_params) is None


def test_6009_adds_the_cheapest_rules_missing_attributes() -> None:
    leaf = data.leaf_of(data.seedance_15())
    plan = plan_retry(ErrorKind.NO_RULE, leaf, {"duration": 8}, {})
    assert plan is not None
    # cheapest rule is 2085: 8 pts @ 4 s / no audio / 480p; duration is already given
    assert plan.params == {"duration": 8, "generate_audio": False, "resolution": "480p"}
    assert set(plan.adjustments) == {"+generate_audio=False", "+resolution=480p"}


def test_6009_with_nothing_to_add_gives_up() -> None:
    leaf = data.leaf_of(data.hailuo_23())
    assert plan_retry(ErrorKind.NO_RULE, leaf, {"duration": 6, "resolution": "768P"}, {}) is None
    assert plan_retry(ErrorKind.NO_RULE, data.leaf_of(data.gen_bgm(), TaskType.TEXT_TO_MUSIC), {}, {}) is None


def test_6010_reselects_from_the_full_params_and_refreshes_the_catalog() -> None:
    leaf = data.leaf_of(data.kling_o1())
    sent = resolve(leaf, {"quality": "1080p"}).inner_params
    plan = plan_retry(ErrorKind.ATTRIBUTE_MISMATCH, leaf, {"quality": "1080p"}, sent)
    assert plan is not None
    assert plan.refresh_catalog
    assert plan.params["mode"] == "pro"
    assert plan.params["duration"] == "5"


def test_6006_rereads_the_catalog_with_the_same_params() -> None:
    plan = plan_retry(ErrorKind.CREDIT_MISMATCH, data.leaf_of(data.wan_t2v()), {"duration": 10}, {})
    assert plan is not None
    assert plan.refresh_catalog and plan.params == {"duration": 10} and plan.adjustments == ()


@pytest.mark.parametrize(
    "kind",
    [
        ErrorKind.AUTH,
        ErrorKind.INSUFFICIENT_POINTS,
        ErrorKind.SUBSCRIPTION_REQUIRED,
        ErrorKind.RATE_LIMITED,
        ErrorKind.NETWORK,
        ErrorKind.BAD_PARAMS,
    ],
)
def test_other_errors_are_not_reflected(kind: ErrorKind) -> None:
    leaf = data.leaf_of(data.wan_t2v())
    assert plan_retry(kind, leaf, {"duration": 15}, resolve(leaf, {"duration": 15}).inner_params) is None
