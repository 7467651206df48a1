"""Create payloads for all eight task types (facts §4)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.ima.catalog_tree import parse_leaf
from adapters.ima.credit_rules import resolve
from adapters.ima.payload import build_create_payload, pixverse_model
from core.ports import Quote, ReferenceAudio, ReferenceBundle, ReferenceImage, ReferenceVideo, TaskSpec
from core.types import TaskType
from tests import ima_catalog_data as data


def quote_for(node: dict[str, Any], task_type: TaskType, params: dict[str, Any] | None = None) -> Quote:
    leaf = parse_leaf(node, task_type)
    assert leaf is not None
    res = resolve(leaf, params or {})
    return Quote(
        leaf=leaf,
        attribute_id=res.rule.attribute_id,
        credit=res.rule.points,
        inner_params=res.inner_params,
        exact=res.exact,
    )


IMG = "https://cdn.example/a.png"
IMG2 = "https://cdn.example/b.png"


@pytest.mark.parametrize(
    ("task_type", "node", "inputs"),
    [
        (TaskType.TEXT_TO_VIDEO, data.wan_t2v(), ()),
        (TaskType.IMAGE_TO_VIDEO, data.hailuo_23(), (IMG,)),
        (TaskType.FIRST_LAST_FRAME_TO_VIDEO, data.kling_o1(), (IMG, IMG2)),
        (TaskType.REFERENCE_IMAGE_TO_VIDEO, data.kling_o1(), (IMG, IMG2)),
        (TaskType.TEXT_TO_IMAGE, data.seedream(), ()),
        (TaskType.IMAGE_TO_IMAGE, data.nano_banana_2(), (IMG,)),
        (TaskType.TEXT_TO_MUSIC, data.gen_bgm(), ()),
        (TaskType.TEXT_TO_SPEECH, data.seed_tts(), ()),
    ],
)
def test_every_task_type_has_the_common_shape(
    task_type: TaskType, node: dict[str, Any], inputs: tuple[str, ...]
) -> None:
    quote = quote_for(node, task_type)
    spec = TaskSpec(task_type=task_type, model_id=quote.leaf.model_id, prompt="a cat", input_urls=inputs)
    body = build_create_payload(spec, quote)
    assert body["task_type"] == task_type.value
    assert body["enable_multi_model"] is False
    assert body["src_img_url"] == list(inputs)
    (param,) = body["parameters"]
    assert param["attribute_id"] == quote.attribute_id > 0
    assert param["credit"] == quote.credit
    assert param["model_id"] == quote.leaf.model_id
    assert param["model_version"] == quote.leaf.version_id
    assert param["model_name"] == quote.leaf.name
    assert (param["app"], param["platform"], param["category"]) == ("ima", "web", task_type.value)
    inner = param["parameters"]
    assert inner["prompt"] == "a cat"
    assert inner["n"] == 1
    assert inner["input_images"] == list(inputs)
    assert inner["cast"] == {"points": quote.credit, "attribute_id": quote.attribute_id}
    assert "default" not in inner
    assert "prompt" not in body


def test_model_version_is_the_leaf_id_not_the_model_id() -> None:
    quote = quote_for(data.seedream(), TaskType.TEXT_TO_IMAGE, {"aspect_ratio": "9:16"})
    body = build_create_payload(TaskSpec(TaskType.TEXT_TO_IMAGE, "doubao-seedream-4.5", "x"), quote)
    param = body["parameters"][0]
    assert param["model_id"] == "doubao-seedream-4.5"
    assert param["model_version"] == "doubao-seedream-4-5-251128"
    assert param["parameters"]["size"] == "1440x2560"
    assert "aspect_ratio" not in param["parameters"]


def test_n_is_inner_and_credit_is_per_output() -> None:
    quote = quote_for(data.nano_banana_2(), TaskType.TEXT_TO_IMAGE)
    body = build_create_payload(TaskSpec(TaskType.TEXT_TO_IMAGE, "gemini-3.1-flash-image", "x", n=3), quote)
    assert body["parameters"][0]["parameters"]["n"] == 3
    assert body["parameters"][0]["credit"] == 6


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Pixverse V5.5", "v5.5"),
        ("Pixverse V4", "v4"),
        ("pixverse v3.5", "v3.5"),
        ("Pixverse", None),
    ],
)
def test_pixverse_model_is_inferred_from_the_leaf_name(name: str, expected: str | None) -> None:
    assert pixverse_model("pixverse", name) == expected
    assert pixverse_model("kling-video-o1", name) is None


def test_pixverse_without_model_field_gets_one_injected() -> None:
    quote = quote_for(data.pixverse("V3.5", 4256, with_model_field=False), TaskType.TEXT_TO_VIDEO)
    body = build_create_payload(TaskSpec(TaskType.TEXT_TO_VIDEO, "pixverse", "x"), quote)
    assert body["parameters"][0]["parameters"]["model"] == "v3.5"
    assert body["parameters"][0]["model_version"] == "Pixverse V3.5"


def test_pixverse_form_model_and_user_model_win_over_inference() -> None:
    quote = quote_for(data.pixverse("V5.5", 4286), TaskType.TEXT_TO_VIDEO)
    body = build_create_payload(TaskSpec(TaskType.TEXT_TO_VIDEO, "pixverse", "x"), quote)
    assert body["parameters"][0]["parameters"]["model"] == "v5.5"
    quote = quote_for(data.pixverse("V5.5", 4286), TaskType.TEXT_TO_VIDEO, {"model": "v5"})
    body = build_create_payload(TaskSpec(TaskType.TEXT_TO_VIDEO, "pixverse", "x"), quote)
    assert body["parameters"][0]["parameters"]["model"] == "v5"


def test_suno_inner_engine_is_sonic_v5_unless_pinned() -> None:
    quote = quote_for(data.suno(), TaskType.TEXT_TO_MUSIC)
    body = build_create_payload(TaskSpec(TaskType.TEXT_TO_MUSIC, "sonic", "lofi"), quote)
    param = body["parameters"][0]
    assert param["model_version"] == "sonic"
    assert param["parameters"]["model_version"] == "sonic-v5"
    assert param["parameters"]["custom_mode"] is True
    pinned = quote_for(data.suno(), TaskType.TEXT_TO_MUSIC, {"model_version": "sonic-v4-5"})
    assert (
        build_create_payload(TaskSpec(TaskType.TEXT_TO_MUSIC, "sonic", "x"), pinned)["parameters"][0][
            "parameters"
        ]["model_version"]
        == "sonic-v4-5"
    )


def test_tts_keeps_model_and_speaker_and_nested_audio_params() -> None:
    params = {"speaker": "zh_male_sophie_uranus_bigtts", "audio_params": {"emotion": "happy"}}
    quote = quote_for(data.seed_tts(), TaskType.TEXT_TO_SPEECH, params)
    inner = build_create_payload(TaskSpec(TaskType.TEXT_TO_SPEECH, "seed-tts-2.0", "你好"), quote)[
        "parameters"
    ][0]["parameters"]
    assert inner["model"] == "seed-tts-2.0-expressive"
    assert inner["speaker"] == "zh_male_sophie_uranus_bigtts"
    assert inner["audio_params"] == {"emotion": "happy"}
    assert inner["prompt"] == "你好"


def test_seedance_multimodal_references_become_src_fields() -> None:
    refs = ReferenceBundle(
        images=(ReferenceImage(IMG, 1024, 768),),
        videos=(
            ReferenceVideo("https://cdn.example/v.mp4", 5, 1280, 720, "https://cdn.example/c.jpg", 30.0),
        ),
        audios=(ReferenceAudio("https://cdn.example/a.mp3", 7),),
    )
    quote = quote_for(data.seedance_pro(), TaskType.REFERENCE_IMAGE_TO_VIDEO)
    spec = TaskSpec(TaskType.REFERENCE_IMAGE_TO_VIDEO, "ima-pro", "dance", references=refs)
    body = build_create_payload(spec, quote)
    assert body["src_image"] == [{"url": IMG, "width": 1024, "height": 768}]
    assert body["src_video"] == [
        {
            "url": "https://cdn.example/v.mp4",
            "duration": 5,
            "width": 1280,
            "height": 720,
            "cover": "https://cdn.example/c.jpg",
        }
    ]
    assert body["src_audio"] == [{"url": "https://cdn.example/a.mp3", "duration": 7}]
    assert body["src_img_url"] == [IMG]
    assert body["parameters"][0]["parameters"]["input_images"] == [
        IMG,
        "https://cdn.example/v.mp4",
        "https://cdn.example/a.mp3",
    ]


def test_text_to_video_without_references_has_no_src_media_fields() -> None:
    body = build_create_payload(
        TaskSpec(TaskType.TEXT_TO_VIDEO, "ima-pro", "x"),
        quote_for(data.seedance_pro(), TaskType.TEXT_TO_VIDEO),
    )
    assert not {"src_image", "src_video", "src_audio"} & set(body)
    assert body["src_img_url"] == []
