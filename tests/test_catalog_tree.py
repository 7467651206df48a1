"""Product-list tree walking and leaf choice (facts §2)."""

from __future__ import annotations

import pytest

from adapters.ima.catalog_tree import available_model_ids, choose_leaf, walk_leaves
from core.errors import ErrorKind, ImaApiError
from core.types import TaskType
from tests import ima_catalog_data as data

T2V = TaskType.TEXT_TO_VIDEO


def test_walk_collects_type_3_leaves_at_any_depth_in_order() -> None:
    deep = {
        "id": "outer",
        "type": "2",
        "children": [{"id": "inner", "type": "2", "children": [data.wan_t2v()]}],
    }
    leaves = walk_leaves([deep, *data.t2v_tree()], T2V)
    assert [leaf.version_id for leaf in leaves][:3] == ["wan2.6-t2v", "ima-pro-fast", "ima-pro"]
    assert len(leaves) == 10
    assert all(leaf.category is T2V for leaf in leaves)


def test_walk_ignores_groups_numeric_type_garbage_and_leaves_without_ids() -> None:
    numeric = {**data.hailuo_23(), "type": 3}  # an int 3 is still "3" once stringified
    broken = {**data.wan_t2v(), "model_id": ""}
    leaves = walk_leaves([None, "x", {"type": "2", "children": "nope"}, numeric, broken], T2V)
    assert [leaf.model_id for leaf in leaves] == ["MiniMax-Hailuo-2.3"]


def test_walk_of_non_list_data_is_empty() -> None:
    assert walk_leaves({"unexpected": True}, T2V) == ()
    assert walk_leaves(None, T2V) == ()


def test_leaf_fields_rules_and_tags_are_parsed() -> None:
    (leaf,) = walk_leaves([data.seedance_15()], T2V)
    assert leaf.version_id == "doubao-seedance-1-5-pro-251215"
    assert leaf.model_id == "doubao-seedance-1.5-pro"
    assert leaf.parent_id == "SeeDance"
    assert leaf.estimated_seconds == (150, 210)
    assert leaf.tags["point"] == "8~90"
    assert leaf.points_range == (8, 90)
    assert leaf.credit_rules[0].attribute_id == 2083
    assert dict(leaf.credit_rules[0].attributes) == {
        "duration": 4,
        "generate_audio": True,
        "resolution": "480p",
    }


def test_choose_prefers_first_listed_version_not_the_last() -> None:
    leaves = walk_leaves(data.t2v_tree(), T2V)
    assert choose_leaf(leaves, "pixverse").version_id == "Pixverse V5.5"


@pytest.mark.parametrize("pin", ["Pixverse V3.5", "pixverse v3.5"])
def test_choose_pins_a_version_by_id_or_name_case_insensitively(pin: str) -> None:
    leaves = walk_leaves(data.t2v_tree(), T2V)
    assert choose_leaf(leaves, "PixVerse", pin).version_id == "Pixverse V3.5"


def test_choose_model_id_is_case_insensitive() -> None:
    leaves = walk_leaves(data.t2v_tree(), T2V)
    assert choose_leaf(leaves, "minimax-hailuo-2.3").name == "Hailuo 2.3"


def test_unknown_model_lists_available_ids_once_each() -> None:
    leaves = walk_leaves(data.t2v_tree(), T2V)
    with pytest.raises(ImaApiError) as info:
        choose_leaf(leaves, "sora-9")
    assert info.value.kind is ErrorKind.UNKNOWN_MODEL
    assert info.value.params["available"] == (
        "ima-pro-fast, ima-pro, doubao-seedance-1.5-pro, wan2.6-t2v, MiniMax-Hailuo-2.3, "
        "kling-video-o1, pixverse"
    )
    assert available_model_ids(leaves).count("pixverse") == 1


def test_unknown_version_pin_lists_the_versions() -> None:
    leaves = walk_leaves(data.t2v_tree(), T2V)
    with pytest.raises(ImaApiError) as info:
        choose_leaf(leaves, "pixverse", "V9")
    assert info.value.kind is ErrorKind.UNKNOWN_MODEL
    assert info.value.params["available"] == "Pixverse V5.5, Pixverse V5, Pixverse V3.5"


def test_a_very_deep_tree_does_not_exhaust_the_stack() -> None:
    node: dict[str, object] = data.wan_t2v()
    for depth in range(5000):
        node = {"id": f"g{depth}", "type": "2", "children": [node]}
    assert [leaf.model_id for leaf in walk_leaves([node, data.hailuo_23()], T2V)] == [
        "wan2.6-t2v",
        "MiniMax-Hailuo-2.3",
    ]
