"""Small literal product-list nodes for the IMA client tests, derived from the facts tables (§8.1).

Only the parts the tests need are spelled out; shapes follow the production leaves (§2.2).
"""

from __future__ import annotations

from typing import Any

from adapters.ima.catalog_tree import parse_leaf
from core.catalog.products import ProductLeaf
from core.types import TaskType


def leaf_of(node: dict[str, Any], category: TaskType = TaskType.TEXT_TO_VIDEO) -> ProductLeaf:
    """The ``ProductLeaf`` a literal node parses to (the node must be a valid leaf)."""
    leaf = parse_leaf(node, category)
    assert leaf is not None
    return leaf


def rule(attribute_id: int, points: int, **attributes: Any) -> dict[str, Any]:
    return {"origin_point": points, "points": points, "attribute_id": attribute_id, "attributes": attributes}


def default_rule(attribute_id: int, points: int) -> dict[str, Any]:
    return rule(attribute_id, points, default="enabled")


def tags_field(field: str, value: Any, options: list[Any], level: int = 1) -> dict[str, Any]:
    return {
        "type": "tags",
        "field": field,
        "value": value,
        "level": level,
        "options": [{"label": str(o), "value": o} for o in options],
    }


def toggle(field: str, value: bool) -> dict[str, Any]:
    return {"type": "toggle", "field": field, "value": value, "level": 1}


def virtual_field(
    target: str, value: Any, ui_field: str, ui_default: Any, mapping: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "tags",
        "field": target,
        "value": value,
        "level": 1,
        "is_ui_virtual": True,
        "options": [{"label": str(v), "value": v} for v in mapping.values()],
        "ui_params": [
            {
                "field": ui_field,
                "type": "tags",
                "value": ui_default,
                "required": True,
                "options": [{"label": k, "value": k} for k in mapping],
            }
        ],
        "value_mapping": {
            "type": "simple",
            "source_params": [ui_field],
            "target_param": target,
            "mapping_rules": [
                {"source_values": {ui_field: k}, "target_value": v} for k, v in mapping.items()
            ],
        },
    }


def leaf(
    model_id: str,
    name: str,
    *,
    version_id: str | None = None,
    parent: str = "",
    form: list[Any],
    rules: list[Any],
    eet: str | None = None,
    point: str | None = None,
) -> dict[str, Any]:
    tags = [{"tag_type": "popularity", "tag_value": "HOT"}]
    if point:
        tags.append({"tag_type": "point", "tag_value": point})
    if eet:
        tags.append({"tag_type": "EET", "tag_value": eet})
    return {
        "id": version_id or model_id,
        "parent_id": parent,
        "type": "3",
        "name": name,
        "model_id": model_id,
        "tags": tags,
        "form_config": form,
        "credit_rules": rules,
    }


def seedance_fast() -> dict[str, Any]:
    return leaf(
        "ima-pro-fast",
        "Seedance 2.0 fast",
        parent="SeeDance",
        point="29~195",
        form=[
            toggle("audio", True),
            tags_field("duration", 5, [5, 10, 15]),
            tags_field("aspect_ratio", "16:9", ["1:1", "4:3", "3:4", "16:9", "9:16", "21:9", "adaptive"]),
            tags_field("resolution", "720p", ["480p", "720p"]),
        ],
        rules=[
            rule(4504, 29, duration=5, resolution="480p"),
            rule(4505, 65, duration=5, resolution="720p"),
            rule(4506, 58, duration=10, resolution="480p"),
            rule(4507, 130, duration=10, resolution="720p"),
            rule(4508, 87, duration=15, resolution="480p"),
            rule(4509, 195, duration=15, resolution="720p"),
        ],
    )


def seedance_pro() -> dict[str, Any]:
    ratios = {r: r for r in ["1:1", "4:3", "3:4", "16:9", "9:16", "21:9"]}
    ratios["adaptive"] = "auto"
    return leaf(
        "ima-pro",
        "Seedance 2.0",
        parent="SeeDance",
        point="48~315",
        form=[
            toggle("audio", True),
            tags_field("duration", 5, [5, 10, 15]),
            virtual_field("aspect_ratio", "16:9", "aspect_ratio", "1:1", ratios),
            tags_field("resolution", "720p", ["480p", "720p"]),
        ],
        rules=[
            rule(4510, 48, duration=5, resolution="480p"),
            rule(4511, 105, duration=5, resolution="720p"),
            rule(4512, 96, duration=10, resolution="480p"),
            rule(4513, 210, duration=10, resolution="720p"),
            rule(4514, 144, duration=15, resolution="480p"),
            rule(4515, 315, duration=15, resolution="720p"),
        ],
    )


def seedance_15() -> dict[str, Any]:
    rules = []
    attr = 2083
    for duration, pts in ((4, (16, 30, 8, 15)), (8, (32, 60, 16, 30)), (12, (48, 90, 24, 45))):
        for (audio, res), p in zip(
            ((True, "480p"), (True, "720p"), (False, "480p"), (False, "720p")), pts, strict=True
        ):
            rules.append(rule(attr, p, duration=duration, generate_audio=audio, resolution=res))
            attr += 1
    return leaf(
        "doubao-seedance-1.5-pro",
        "Seedance 1.5 Pro",
        version_id="doubao-seedance-1-5-pro-251215",
        parent="SeeDance",
        eet="150~210s",
        point="8~90",
        form=[
            toggle("generate_audio", True),
            tags_field("duration", 4, [4, 8, 12]),
            tags_field("resolution", "720p", ["480p", "720p"]),
            toggle("camerafixed", False),
        ],
        rules=rules,
    )


def wan_t2v() -> dict[str, Any]:
    return leaf(
        "wan2.6-t2v",
        "Wan 2.6",
        parent="Wan",
        eet="300~420s",
        point="25~120",
        form=[
            tags_field("duration", 5, [5, 10, 15]),
            tags_field("aspect_ratio", "16:9", ["16:9", "9:16", "1:1"]),
            tags_field("resolution", "1080P", ["720P", "1080P"]),
            {"type": "textarea", "field": "negative_prompt", "value": "", "level": 2},
            toggle("prompt_extend", False),
            tags_field("shot_type", "single", ["single", "multi"]),
        ],
        rules=[
            rule(2057, 25, duration=5, resolution="720P"),
            rule(2058, 40, duration=5, resolution="1080P"),
            rule(2059, 50, duration=10, resolution="720P"),
            rule(2060, 80, duration=10, resolution="1080P"),
            rule(2061, 75, duration=15, resolution="720P"),
            rule(2062, 120, duration=15, resolution="1080P"),
        ],
    )


def hailuo_23() -> dict[str, Any]:
    return leaf(
        "MiniMax-Hailuo-2.3",
        "Hailuo 2.3",
        parent="Hailuo",
        eet="150~210s",
        point="12~48",
        form=[
            tags_field("duration", 6, [6, 10]),
            tags_field("resolution", "768P", ["768P", "1080P"]),
            toggle("fast_pretreatment", False),
            toggle("prompt_optimizer", True),
        ],
        rules=[
            rule(2127, 12, duration=6, resolution="768P"),
            rule(2128, 24, duration=6, resolution="1080P"),
            rule(2129, 20, duration=10, resolution="768P"),
            rule(2130, 48, duration=10, resolution="1080P"),
        ],
    )


def kling_o1() -> dict[str, Any]:
    return leaf(
        "kling-video-o1",
        "Kling O1",
        parent="Kling",
        eet="240~360s",
        point="48~120",
        form=[
            tags_field("duration", "5", ["5", "10"]),
            tags_field("aspect_ratio", "16:9", ["16:9", "9:16", "1:1"]),
            virtual_field("mode", "std", "quality", "720p", {"720p": "std", "1080p": "pro"}),
        ],
        rules=[
            rule(2313, 48, duration="5", mode="std"),
            rule(2314, 60, duration="5", mode="pro"),
            rule(2315, 96, duration="10", mode="std"),
            rule(2316, 120, duration="10", mode="pro"),
        ],
    )


def pixverse(version: str, first_id: int, *, with_model_field: bool = True) -> dict[str, Any]:
    form = [
        tags_field("aspect_ratio", "16:9", ["16:9", "9:16", "1:1", "4:3", "3:4"]),
        tags_field("resolution", "540p", ["540p", "720p", "1080p"]),
        tags_field("duration", 5, [5, 8]),
    ]
    if with_model_field:
        form.append(tags_field("model", version.lower(), [version.lower()], level=2))
    combos = [
        (5, "540p", 12),
        (5, "720p", 15),
        (5, "1080p", 30),
        (8, "540p", 20),
        (8, "720p", 24),
        (8, "1080p", 48),
    ]
    return leaf(
        "pixverse",
        f"Pixverse {version}",
        version_id=f"Pixverse {version}",
        parent="Pixverse",
        eet="90~150s",
        point="12~48",
        form=form,
        rules=[rule(first_id + i, p, duration=d, resolution=r) for i, (d, r, p) in enumerate(combos)],
    )


def seedream(category_ratios: bool = True) -> dict[str, Any]:
    mapping = {"1:1": "2048x2048", "16:9": "2560x1440", "9:16": "1440x2560", "2k": "2k", "4k": "4k"}
    return leaf(
        "doubao-seedream-4.5",
        "SeeDream 4.5",
        version_id="doubao-seedream-4-5-251128",
        parent="SeeDream",
        eet="20~40s",
        point="5",
        form=[virtual_field("size", "4k", "aspect_ratio", "4k", mapping)],
        rules=[default_rule(2341, 5)],
    )


def nano_banana_2() -> dict[str, Any]:
    return leaf(
        "gemini-3.1-flash-image",
        "Nano Banana 2",
        version_id="gemini-3.1-flash-image-preview",
        parent="Nano Banana",
        eet="20~35s",
        point="4~13",
        form=[
            tags_field("aspect_ratio", "1:1", ["1:1", "16:9", "9:16"]),
            tags_field("size", "1K", ["512px", "1K", "2K", "4K"]),
        ],
        rules=[
            rule(4400, 4, size="512px"),
            rule(4401, 6, size="1K"),
            rule(4402, 10, size="2K"),
            rule(4403, 13, size="4K"),
        ],
    )


def suno() -> dict[str, Any]:
    return leaf(
        "sonic",
        "Suno",
        parent="suno",
        eet="90~150s",
        point="25",
        form=[
            toggle("make_instrumental", False),
            toggle("auto_lyrics", False),
            toggle("custom_mode", True),
            {"type": "textarea", "field": "gpt_description_prompt", "value": None},
            tags_field("model_version", "sonic-v4", ["sonic-v3-5", "sonic-v4", "sonic-v4-5", "sonic-v5"]),
            {"type": "textarea", "field": "tags", "value": None},
            tags_field("n", "1", ["1", "2", "3", "4"]),
        ],
        rules=[default_rule(2370, 25)],
    )


def gen_bgm() -> dict[str, Any]:
    return leaf(
        "GenBGM",
        "DouBao - BGM",
        parent="doubao",
        eet="60~120s",
        point="30",
        form=[],
        rules=[default_rule(4399, 30)],
    )


def seed_tts() -> dict[str, Any]:
    return leaf(
        "seed-tts-2.0",
        "seed-tts-2.0",
        parent="doubao",
        point="2",
        form=[
            tags_field(
                "model", "seed-tts-2.0-expressive", ["seed-tts-2.0-expressive", "seed-tts-2.0-standard"]
            ),
            {"type": "textarea", "field": "speaker", "value": None},
        ],
        rules=[default_rule(4419, 2)],
    )


def group(name: str, *children: dict[str, Any]) -> dict[str, Any]:
    return {"id": name, "type": "2", "name": name, "model_id": "", "children": list(children)}


def t2v_tree() -> list[dict[str, Any]]:
    """Groups -> leaves, Pixverse listed newest first as in production."""
    return [
        group("SeeDance", seedance_fast(), seedance_pro(), seedance_15()),
        group("Wan", wan_t2v()),
        group("Hailuo", hailuo_23()),
        group("Kling", kling_o1()),
        group(
            "Pixverse",
            pixverse("V5.5", 4286),
            pixverse("V5", 4298),
            pixverse("V3.5", 4256, with_model_field=False),
        ),
    ]
