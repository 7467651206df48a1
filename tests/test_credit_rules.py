"""Credit-rule selection and the inner-parameter merge (facts §3), table-driven over recorded rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.ima.credit_rules import form_defaults, norm_value, resolve, select_rule
from core.catalog.products import CreditRule
from core.errors import ErrorKind, ImaApiError, InputError
from core.types import TaskType
from tests import ima_catalog_data as data


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (5, "5", True),
        (" 5 ", 5, True),
        ("1080p", "1080P", True),
        ("4k", "4K", True),
        (True, True, True),
        ("true", True, False),
        (5.0, 5, False),
        (False, "false", False),
    ],
)
def test_normalized_value_comparison(a: Any, b: Any, equal: bool) -> None:
    assert (norm_value(a) == norm_value(b)) is equal


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (data.seedance_pro(), {"audio": True, "duration": 5, "aspect_ratio": "1:1", "resolution": "720p"}),
        (data.kling_o1(), {"duration": "5", "aspect_ratio": "16:9", "mode": "std"}),
        (data.seedream(), {"size": "4k"}),
        (
            data.wan_t2v(),
            {
                "duration": 5,
                "aspect_ratio": "16:9",
                "resolution": "1080P",
                "negative_prompt": "",
                "prompt_extend": False,
                "shot_type": "single",
            },
        ),
        # null defaults skipped; the engine default from the data file beats the stale form default
        (
            data.suno(),
            {
                "make_instrumental": False,
                "auto_lyrics": False,
                "custom_mode": True,
                "model_version": "sonic-v5",
                "n": "1",
            },
        ),
    ],
)
def test_form_defaults_resolve_virtual_fields_and_skip_nulls(
    node: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert form_defaults(data.leaf_of(node)) == expected


def test_select_rule_exact_partial_and_default() -> None:
    rules = (
        CreditRule(1, 10, {"duration": 5, "resolution": "720p"}),
        CreditRule(2, 20, {"duration": 10, "resolution": "720p"}),
        CreditRule(3, 30, {"duration": 10, "resolution": "1080p"}),
    )
    assert select_rule(rules, {"duration": "10", "resolution": "1080P"}) == (rules[2], True)
    assert select_rule(rules, {"duration": 10, "resolution": "480p"}) == (rules[1], False)
    assert select_rule(rules, {"duration": 7, "resolution": "720p"}) == (rules[0], False)  # tie -> first
    assert select_rule(rules, {"duration": 7, "resolution": "4k"}) == (rules[0], False)
    assert select_rule(rules, {}) == (rules[0], True)
    marker = (CreditRule(9, 5, {"default": "enabled"}),)
    assert select_rule(marker, {"size": "2k"}) == (marker[0], True)


def test_select_rule_never_exact_matches_the_default_marker_rule() -> None:
    rules = (CreditRule(1, 10, {"size": "1K"}), CreditRule(2, 5, {"default": "enabled"}))
    assert select_rule(rules, {"size": "4K"}) == (rules[1], False)


@pytest.mark.parametrize(
    ("node", "params", "attr", "credit", "exact", "sent"),
    [
        # defaults only
        (data.seedance_fast(), {}, 4505, 65, True, {"duration": 5, "resolution": "720p"}),
        (
            data.seedance_15(),
            {},
            2084,
            30,
            True,
            {"duration": 4, "generate_audio": True, "resolution": "720p"},
        ),
        (data.wan_t2v(), {}, 2058, 40, True, {"duration": 5, "resolution": "1080P"}),
        (data.pixverse("V5.5", 4286), {}, 4286, 12, True, {"duration": 5, "resolution": "540p"}),
        # user spelling gives way to the rule's canonical spelling and type
        (
            data.wan_t2v(),
            {"duration": "10", "resolution": "720p"},
            2059,
            50,
            True,
            {"duration": 10, "resolution": "720P"},
        ),
        (
            data.hailuo_23(),
            {"duration": 10, "resolution": "1080p"},
            2130,
            48,
            True,
            {"duration": 10, "resolution": "1080P"},
        ),
        # recorded fallback: no 5 s / 1080p rule -> first partial match 2083 (4 s, audio, 480p)
        (
            data.seedance_15(),
            {"duration": "5", "resolution": "1080p"},
            2083,
            16,
            False,
            {"duration": 4, "generate_audio": True, "resolution": "480p"},
        ),
        # virtual UI parameters
        (data.kling_o1(), {"quality": "1080p"}, 2314, 60, True, {"duration": "5", "mode": "pro"}),
        (
            data.kling_o1(),
            {"resolution": "1080P", "duration": 10},
            2316,
            120,
            True,
            {"duration": "10", "mode": "pro"},
        ),
        (data.kling_o1(), {"mode": "std", "quality": "1080p"}, 2313, 48, True, {"mode": "std"}),
        (data.seedance_pro(), {"aspect_ratio": "adaptive"}, 4511, 105, True, {"aspect_ratio": "auto"}),
        (data.seedance_pro(), {"aspect_ratio": "auto"}, 4511, 105, True, {"aspect_ratio": "auto"}),
        (data.seedance_pro(), {"generate_audio": "false"}, 4511, 105, True, {"audio": False}),
        (data.nano_banana_2(), {"size": "2k"}, 4402, 10, True, {"size": "2K", "aspect_ratio": "1:1"}),
    ],
)
def test_resolve_picks_rule_and_merges_inner_params(
    node: dict[str, Any], params: dict[str, Any], attr: int, credit: int, exact: bool, sent: dict[str, Any]
) -> None:
    res = resolve(data.leaf_of(node), params)
    assert (res.rule.attribute_id, res.rule.points, res.exact) == (attr, credit, exact)
    for key, value in sent.items():
        assert res.inner_params[key] == value
        assert type(res.inner_params[key]) is type(value)
    assert "default" not in res.inner_params


def test_seedream_aspect_ratio_maps_to_backend_size_and_ui_key_is_dropped() -> None:
    res = resolve(data.leaf_of(data.seedream(), TaskType.TEXT_TO_IMAGE), {"aspect_ratio": "16:9"})
    assert res.rule.attribute_id == 2341
    assert res.inner_params == {"size": "2560x1440"}


def test_speech_controls_become_seed_tts_audio_params() -> None:
    user = {"audio_params": {"emotion": "calm"}, "speed": 1.2, "volume": 3, "voice": "female", "pitch": 0.8}
    res = resolve(data.leaf_of(data.seed_tts(), TaskType.TEXT_TO_SPEECH), user)
    assert res.inner_params["audio_params"] == {"emotion": "calm", "speech_rate": 20, "loudness_rate": 100}
    assert set(res.ignored_keys) == {"voice", "pitch"}
    assert "speed" not in res.inner_params and "voice" not in res.inner_params
    assert user["audio_params"] == {"emotion": "calm"}  # the caller's mapping is not touched
    slow = resolve(data.leaf_of(data.seed_tts(), TaskType.TEXT_TO_SPEECH), {"speed": 0.8, "emotion": "happy"})
    assert slow.inner_params["audio_params"] == {"speech_rate": -20, "emotion": "happy"}


def test_translations_apply_only_to_their_model() -> None:
    res = resolve(data.leaf_of(data.gen_bgm(), TaskType.TEXT_TO_MUSIC), {"speed": 1.2})
    assert res.ignored_keys == ("speed",)


def test_none_values_mean_not_set() -> None:
    res = resolve(data.leaf_of(data.wan_t2v()), {"aspect_ratio": None, "duration": None})
    assert (res.inner_params["aspect_ratio"], res.inner_params["duration"]) == ("16:9", 5)


def test_unsupported_keys_are_dropped_and_reported() -> None:
    res = resolve(data.leaf_of(data.hailuo_23()), {"cfg_scale": 7, "seed": 1, "duration": 10})
    assert set(res.ignored_keys) == {"cfg_scale", "seed"}
    assert "cfg_scale" not in res.inner_params
    assert res.inner_params["duration"] == 10


@pytest.mark.parametrize(
    ("node", "params", "field", "options"),
    [
        (data.kling_o1(), {"quality": "4k"}, "quality", "720p, 1080p"),
        (
            data.seedance_pro(),
            {"aspect_ratio": "5:4"},
            "aspect_ratio",
            "1:1, 4:3, 3:4, 16:9, 9:16, 21:9, adaptive",
        ),
    ],
)
def test_unmappable_ui_value_is_refused_with_ui_options(
    node: dict[str, Any], params: dict[str, Any], field: str, options: str
) -> None:
    with pytest.raises(InputError) as info:
        resolve(data.leaf_of(node), params)
    assert info.value.params["field"] == field
    assert info.value.params["options"] == options
    assert "std" not in info.value.params["options"]


def test_attribute_id_zero_is_refused_before_any_request() -> None:
    node = data.leaf("broken", "Broken", form=[], rules=[data.default_rule(0, 5)])
    with pytest.raises(ImaApiError) as info:
        resolve(data.leaf_of(node), {})
    assert info.value.kind is ErrorKind.BAD_PARAMS


def test_missing_attribute_id_is_refused() -> None:
    node = data.leaf("broken", "Broken", form=[], rules=[{"points": 5, "attributes": {"default": "enabled"}}])
    with pytest.raises(ImaApiError):
        resolve(data.leaf_of(node), {})


def test_model_without_rules_is_refused() -> None:
    with pytest.raises(ImaApiError):
        resolve(data.leaf_of(data.leaf("empty", "Empty", form=[], rules=[])), {})


LEAVES = [
    data.seedance_fast(),
    data.seedance_pro(),
    data.seedance_15(),
    data.wan_t2v(),
    data.hailuo_23(),
    data.kling_o1(),
    data.pixverse("V5.5", 4286),
    data.nano_banana_2(),
]
VALUES = st.one_of(
    st.sampled_from(
        [
            4,
            5,
            6,
            8,
            10,
            12,
            15,
            "5",
            "10",
            "480p",
            "720P",
            "1080p",
            "768P",
            "540p",
            "1K",
            "2k",
            "std",
            "pro",
            "16:9",
            "1:1",
            True,
            False,
            "",
            None,
        ]
    ),
    st.text(max_size=6),
    st.integers(-5, 100),
)
KEYS = st.sampled_from(
    ["duration", "resolution", "size", "mode", "generate_audio", "aspect_ratio", "audio", "junk", "n"]
)


@given(index=st.integers(0, len(LEAVES) - 1), params=st.dictionaries(KEYS, VALUES, max_size=5))
@settings(max_examples=300, deadline=None)
def test_resolution_always_sends_a_rule_of_the_leaf_in_canonical_form(
    index: int, params: dict[str, Any]
) -> None:
    leaf = data.leaf_of(LEAVES[index])
    try:
        res = resolve(leaf, params)
    except InputError:
        return  # an unmappable UI value, refused with the options
    assert res.rule in leaf.credit_rules
    for key, value in res.rule.attributes.items():
        assert res.inner_params[key] == value
    if res.exact:
        again = resolve(leaf, dict(res.inner_params))
        assert again.rule == res.rule and again.exact
