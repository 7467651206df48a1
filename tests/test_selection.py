"""Model selection against live-shaped product leaves (built here, shaped like the recorded lists)."""

from __future__ import annotations

from typing import Any

import pytest

from core.catalog.models import ModelCatalog
from core.catalog.products import CreditRule, ProductLeaf
from core.errors import ErrorKind, InputError
from core.intent import parse
from core.ports import Preference
from core.request import PreferenceIntent
from core.selection import ModelProfile, preference_action, preference_confirmation, select_model
from core.types import Attachment, AttachmentKind, Language, TaskType

CATALOG = ModelCatalog.load_default()
ALL = ModelProfile()
SEVIO = ModelProfile.from_settings("allowlist", ["ima-pro", "ima-pro-fast"])
IMAGE = Attachment(AttachmentKind.IMAGE, "a.png", "https://files.test/a.png")


def tags(field: str, value: Any, options: list[Any]) -> dict[str, Any]:
    return {
        "field": field,
        "type": "tags",
        "value": value,
        "options": [{"label": str(o), "value": o} for o in options],
    }


def leaf(model_id: str, task: TaskType, forms: list[dict[str, Any]], points: tuple[int, ...]) -> ProductLeaf:
    return ProductLeaf(
        version_id=model_id,
        model_id=model_id,
        name=CATALOG.display_name(model_id, "en"),
        category=task,
        form_config=tuple(forms),
        credit_rules=tuple(CreditRule(4000 + i, p, {}) for i, p in enumerate(points)),
    )


def video_leaves(task: TaskType) -> list[ProductLeaf]:
    wan = "wan2.6-t2v" if task is TaskType.TEXT_TO_VIDEO else "wan2.6-i2v"
    vidu = "viduq2" if task is TaskType.TEXT_TO_VIDEO else "viduq2-pro"
    kling_quality = {
        "field": "mode",
        "type": "tags",
        "value": "std",
        "is_ui_virtual": True,
        "options": [{"value": "std"}, {"value": "pro"}],
        "ui_params": [
            {"field": "quality", "value": "720p", "options": [{"value": "720p"}, {"value": "1080p"}]}
        ],
    }
    seedance = [
        tags("duration", 5, [5, 10, 15]),
        tags("aspect_ratio", "16:9", ["1:1", "4:3", "3:4", "16:9", "9:16", "21:9"]),
        tags("resolution", "720p", ["480p", "720p"]),
    ]
    return [
        leaf("ima-pro-fast", task, seedance, (29, 65, 195)),
        leaf("ima-pro", task, seedance, (48, 105, 315)),
        leaf(
            wan,
            task,
            [
                tags("duration", 5, [5, 10, 15]),
                tags("aspect_ratio", "16:9", ["16:9", "9:16", "4:3", "3:4", "1:1"]),
                tags("resolution", "1080P", ["720P", "1080P"]),
            ],
            (25, 40, 120),
        ),
        leaf(
            "MiniMax-Hailuo-2.3",
            task,
            [tags("duration", 6, [6, 10]), tags("resolution", "768P", ["768P", "1080P"])],
            (12, 48),
        ),
        leaf(
            vidu,
            task,
            [
                tags(
                    "duration", 4 if vidu.endswith("pro") else 5, [4, 8] if vidu.endswith("pro") else [5, 10]
                ),
                tags("resolution", "720p", ["540p", "720p", "1080p"]),
            ],
            (5, 70) if vidu == "viduq2" else (8, 56),
        ),
        leaf(
            "kling-video-o1",
            task,
            [
                tags("duration", "5", ["5", "10"]),
                tags("aspect_ratio", "16:9", ["16:9", "9:16", "1:1"]),
                kling_quality,
            ],
            (48, 60, 96, 120),
        ),
        leaf(
            "veo-3.1-generate-preview",
            task,
            [
                tags("duration", 4, [4, 6, 8]),
                tags("aspect_ratio", "16:9", ["16:9", "9:16"]),
                tags("resolution", "720p", ["720p", "1080p"]),
            ],
            (70, 330),
        ),
    ]


IMAGE_LEAVES = [
    leaf(
        "gemini-3.1-flash-image",
        TaskType.TEXT_TO_IMAGE,
        [
            tags("aspect_ratio", "1:1", ["1:1", "16:9", "9:16", "4:3", "3:4"]),
            tags("size", "1K", ["512px", "1K", "2K", "4K"]),
        ],
        (4, 6, 10, 13),
    ),
    leaf("gemini-3-pro-image", TaskType.TEXT_TO_IMAGE, [tags("size", "1K", ["1K", "2K", "4K"])], (10, 18)),
    leaf(
        "doubao-seedream-4.5",
        TaskType.TEXT_TO_IMAGE,
        [
            {
                "field": "size",
                "type": "tags",
                "value": "4k",
                "is_ui_virtual": True,
                "ui_params": [
                    {
                        "field": "aspect_ratio",
                        "value": "4k",
                        "options": [
                            {"value": v}
                            for v in ("1:1", "2:3", "3:2", "3:4", "4:3", "9:16", "16:9", "21:9", "2k", "4k")
                        ],
                    }
                ],
            }
        ],
        (5,),
    ),
    leaf("midjourney", TaskType.TEXT_TO_IMAGE, [tags("resolution", "480p", ["480p", "720p"])], (8, 10)),
]


def choose(
    text: str,
    leaves: list[ProductLeaf] | None = None,
    *,
    pref: Preference | None = None,
    profile: ModelProfile = ALL,
    images: int = 0,
):  # type: ignore[no-untyped-def]
    request = parse(text, [IMAGE] * images, catalog=CATALOG)
    chosen = select_model(
        request,
        leaves if leaves is not None else video_leaves(request.task_type),
        catalog=CATALOG,
        preference=pref,
        profile=profile,
    )
    return request, chosen


def test_explicit_model_wins_and_uses_the_per_task_id() -> None:
    _, t2v = choose("用万生成一只猫")
    assert (t2v.model_id, t2v.source, t2v.leaf.model_id) == ("wan2.6-t2v", "user", "wan2.6-t2v")
    _, i2v = choose("用万把这张图动起来", images=1)
    assert (i2v.model_id, i2v.source) == ("wan2.6-i2v", "user")
    _, vidu = choose("Vidu Q2 让图动起来", images=1)
    assert vidu.model_id == "viduq2-pro"


def test_preference_beats_recommendation_and_a_mismatch_hint_is_prepared() -> None:
    pref = Preference("MiniMax-Hailuo-2.3", "Hailuo 2.3", 12, 1.0)
    request, chosen = choose("一只猫在月球上跳舞", pref=pref)
    assert (chosen.model_id, chosen.source, chosen.recommended_model_id) == (
        "MiniMax-Hailuo-2.3",
        "preference",
        "wan2.6-t2v",
    )
    assert chosen.mismatch_hint == "💡 提示：这个任务也许用 万相 Wan 2.6 也会不错（25 积分起）。"
    assert chosen.notices == ()
    assert preference_action(request, chosen) is None
    _, same = choose("一只猫", pref=Preference("wan2.6-t2v", "Wan 2.6", 25, 1.0))
    assert same.source == "preference" and same.mismatch_hint is None


def test_explicit_model_beats_preference() -> None:
    _, chosen = choose("用Veo生成一只猫", pref=Preference("MiniMax-Hailuo-2.3", "Hailuo 2.3", 12, 1.0))
    assert (chosen.model_id, chosen.source) == ("veo-3.1-generate-preview", "user")


def test_clear_phrase_ignores_the_preference() -> None:
    request, chosen = choose("你选一个，一只猫", pref=Preference("MiniMax-Hailuo-2.3", "Hailuo 2.3", 12, 1.0))
    assert chosen.model_id == "wan2.6-t2v" and chosen.source == "default"
    change = preference_action(request, chosen)
    assert (
        change is not None
        and change.action is PreferenceIntent.CLEAR
        and change.task_type is TaskType.TEXT_TO_VIDEO
    )
    assert (
        preference_confirmation(change, CATALOG, Language.ZH)
        == "好的，已清除你的模型偏好，以后文生视频会为你自动推荐模型。"
    )


def test_preference_not_offered_falls_back_with_a_notice() -> None:
    _, chosen = choose("一只猫", pref=Preference("sora-2-pro", "Sora 2 Pro", 120, 1.0))
    assert chosen.model_id == "wan2.6-t2v"
    assert chosen.notices == ("你常用的 Sora 2 Pro 暂时不能用于这个任务，这次使用 万相 Wan 2.6。",)


def test_tiers() -> None:
    assert choose("用最便宜的生成一只猫")[1].model_id == "viduq2"
    assert choose("the cheapest model, a cat video")[1].source == "recommendation"
    assert choose("用最好的模型生成一只猫")[1].model_id == "kling-video-o1"
    assert choose("极速生成一只猫")[1].model_id == "ima-pro-fast"
    assert choose("高质量生成一只猫")[1].model_id == "ima-pro"


def test_fallback_default_per_task() -> None:
    assert choose("一只猫")[1].model_id == "wan2.6-t2v"
    assert choose("把这张图动起来", images=1)[1].model_id == "wan2.6-i2v"
    assert choose("画一只猫", IMAGE_LEAVES)[1].model_id == "doubao-seedream-4.5"
    no_wan = [lf for lf in video_leaves(TaskType.TEXT_TO_VIDEO) if not lf.model_id.startswith("wan")]
    _, chosen = choose("一只猫", no_wan)
    assert chosen.model_id == "kling-video-o1"  # Wan's fallback row: Hailuo 2.0 (not live), then Kling O1
    assert chosen.source == "default"


def test_sevio_profile_maps_other_models_with_an_explanation() -> None:
    _, default = choose("一只猫", profile=SEVIO)
    assert (default.model_id, default.source) == ("ima-pro", "default")
    _, fast = choose("快速版，一只猫", profile=SEVIO)
    assert fast.model_id == "ima-pro-fast"
    request, mapped = choose("用海螺生成一只猫", profile=SEVIO)
    assert mapped.model_id == "ima-pro"
    assert mapped.notices[0].startswith("本机器人只提供 Seedance 2.0（IMA Video Pro）、Seedance 2.0 极速版")
    assert "海螺 2.3" in mapped.notices[0]
    assert preference_action(request, mapped) is None  # never remember a model the user did not get
    _, best = choose("best model, a cat video", profile=SEVIO)
    assert best.model_id == "ima-pro"
    _, sevio_fast = choose("用Ima Sevio 1.0-Fast生成一只猫", profile=SEVIO)
    assert (sevio_fast.model_id, sevio_fast.source) == ("ima-pro-fast", "user")


def test_model_not_offered_for_the_task_gets_the_nearest_suggestion() -> None:
    leaves = [lf for lf in video_leaves(TaskType.IMAGE_TO_VIDEO) if lf.model_id != "kling-video-o1"]
    _, chosen = choose("用可灵把这张图动起来", leaves, images=1)
    assert chosen.model_id == "wan2.6-i2v"
    assert chosen.notices == ("可灵 O1 当前不可用，已为你换成 万相 Wan 2.6。",)
    _, vidu_pro = choose("Vidu Q2 Pro 生成一只猫")
    assert vidu_pro.model_id == "viduq2"
    assert vidu_pro.notices == ("Vidu Q2 Pro 暂不支持文生视频，已为你换成 Vidu Q2。",)
    _, image_model = choose("用Midjourney生成一段视频，一只猫")
    assert image_model.model_id == "wan2.6-t2v"
    assert "Midjourney 暂不支持文生视频" in image_model.notices[0]


def test_duration_is_clamped_to_the_model_maximum_with_a_notice() -> None:
    _, chosen = choose("用可灵生成1分钟的视频，一只猫")
    assert chosen.params == {"duration": "10"}
    assert chosen.notices == ("可灵 O1 不支持 60 秒，当前最长10秒，已改为 10 秒。",)
    _, wan = choose("用万生成1分钟视频")
    assert wan.params == {"duration": 15} and "当前最长15秒" in wan.notices[0]
    _, english = choose("use Kling for a one minute video of a cat")
    assert english.notices == ("Kling O1 can't do 60 s (this model's maximum is 10 s); using 10 s.",)


def test_duration_aspect_resolution_snap_to_offered_options() -> None:
    _, vidu = choose("Vidu Q2 Pro 5秒 1080P 让图动起来", images=1)
    assert vidu.params == {"duration": 4, "resolution": "1080p"}
    assert vidu.notices == ("Vidu Q2 Pro 不支持 5 秒，已改为最接近的 4 秒。",)
    _, kling = choose("用可灵生成 4K 21:9 的视频，一只猫")
    assert kling.params == {"quality": "1080p", "aspect_ratio": "16:9"}
    assert len(kling.notices) == 2
    _, hailuo = choose("用海螺生成竖屏视频，一只猫")
    assert hailuo.params == {}
    assert hailuo.notices == ("海螺 2.3 不支持设置画面比例，将使用默认值。",)
    _, exact = choose("用万生成10秒 9:16 720p 视频")
    assert (
        exact.params == {"duration": 10, "aspect_ratio": "9:16", "resolution": "720P"} and exact.notices == ()
    )


def test_image_size_and_virtual_aspect_ratio() -> None:
    _, nb2 = choose("Nano Banana 2 画一只猫，4K，16:9", IMAGE_LEAVES)
    assert nb2.params == {"size": "4K", "aspect_ratio": "16:9"}
    _, seedream = choose("画一只猫，21:9", IMAGE_LEAVES)
    assert (seedream.model_id, seedream.params) == ("doubao-seedream-4.5", {"aspect_ratio": "21:9"})
    _, mj = choose("用Midjourney画一只猫，16:9", IMAGE_LEAVES)
    assert mj.params == {} and "Midjourney 不支持设置画面比例" in mj.notices[0]


def test_alternatives_are_live_and_exclude_the_choice() -> None:
    _, chosen = choose("用可灵生成一只猫")
    assert chosen.alternatives == ("wan2.6-t2v", "viduq2")
    _, sevio = choose("一只猫", profile=SEVIO)
    assert sevio.alternatives == ("ima-pro-fast",)


def test_save_only_an_explicit_model_that_was_used() -> None:
    request, chosen = choose("以后都用可灵")
    change = preference_action(request, chosen)
    assert change is not None and change.action is PreferenceIntent.SAVE
    assert (change.model_id, change.model_name, change.credit) == ("kling-video-o1", "Kling O1", 48)
    saved = change.to_preference(123.0)
    assert saved == Preference("kling-video-o1", "Kling O1", 48, 123.0)
    assert preference_confirmation(change, CATALOG, Language.ZH) == "✅ 已记住！以后文生视频默认用 可灵 O1。"
    assert (
        preference_confirmation(change, CATALOG, Language.EN)
        == "✅ Got it! I'll use Kling O1 for text-to-video from now on."
    )
    auto_request, auto = choose("一只猫")
    assert preference_action(auto_request, auto) is None


def test_no_product_at_all_is_an_unknown_model_error() -> None:
    request = parse("一只猫", catalog=CATALOG)
    with pytest.raises(InputError) as caught:
        select_model(request, [], catalog=CATALOG, preference=None, profile=ALL)
    assert caught.value.kind is ErrorKind.UNKNOWN_MODEL
    only_wan = [leaf("wan2.6-t2v", TaskType.TEXT_TO_VIDEO, [], (25,))]
    with pytest.raises(InputError):
        select_model(request, only_wan, catalog=CATALOG, preference=None, profile=SEVIO)


def test_unknown_live_model_is_still_selectable_by_exact_id() -> None:
    leaves = [*video_leaves(TaskType.TEXT_TO_VIDEO), leaf("brand-new-v1", TaskType.TEXT_TO_VIDEO, [], (9,))]
    request = parse("一只猫", catalog=CATALOG)
    chosen = select_model(
        request,
        leaves,
        catalog=CATALOG,
        preference=Preference("brand-new-v1", "Brand New", 9, 0),
        profile=ALL,
    )
    assert (chosen.model_id, chosen.source) == ("brand-new-v1", "preference")


def test_profile_from_settings() -> None:
    assert ModelProfile.from_settings("all", ["ima-pro"]) == ModelProfile()
    assert ModelProfile.from_settings("allowlist", []) == ModelProfile()
    assert SEVIO.allows("ima-pro") and not SEVIO.allows("wan2.6-t2v")
    assert ALL.allows("anything")


def test_sound_request_maps_to_each_models_audio_field() -> None:
    toggle = {"field": "generate_audio", "type": "toggle", "value": False}
    seedance_audio = {"field": "audio", "type": "toggle", "value": True}
    leaves = [
        leaf("veo-3.1-generate-preview", TaskType.TEXT_TO_VIDEO, [toggle], (70,)),
        leaf("ima-pro", TaskType.TEXT_TO_VIDEO, [seedance_audio], (48,)),
        leaf("kling-v2-6", TaskType.TEXT_TO_VIDEO, [tags("sound", "off", ["on", "off"])], (40,)),
        leaf("wan2.6-t2v", TaskType.TEXT_TO_VIDEO, [], (25,)),
    ]
    assert choose("用Veo生成带音效的视频：雷雨夜", leaves)[1].params == {"generate_audio": True}
    assert choose("用Seedance 2.0生成无声的视频，落叶", leaves)[1].params == {"audio": False}
    assert choose("用可灵2.6生成一段视频，要有声音，小狗叫", leaves)[1].params == {"sound": "on"}
    _, wan = choose("a video with sound of waves", leaves)
    assert wan.params == {} and wan.notices == ("Wan 2.6 can't set sound; using its default.",)
