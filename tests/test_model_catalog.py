"""The bundled model catalog: names, aliases, per-task ids, timings, fallbacks, overrides."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from core.catalog.models import ModelCatalog, normalize_name
from core.types import Language, MediaType, TaskType

CATALOG = ModelCatalog.load_default()


def test_every_model_is_complete_and_ids_are_unique() -> None:
    primary = [m.model_id for m in CATALOG.models]
    assert len(primary) == len(set(primary))
    for model in CATALOG.models:
        assert model.task_ids, model.model_id
        assert all(t.media_type is model.media_type for t in model.task_ids), model.model_id
        assert model.display_name(Language.ZH) and model.display_name(Language.EN)
        lo, hi = model.eta_s
        assert 0 < lo <= hi, model.model_id
        assert model.poll_interval_s > 0 and model.progress_interval_s >= model.poll_interval_s
        for alt in model.alternatives:
            assert CATALOG.info(alt) is not None, (model.model_id, alt)


def test_task_defaults_and_tiers_point_at_models_that_support_the_task() -> None:
    for task in TaskType:
        default = CATALOG.fallback_default(task)
        assert CATALOG.for_task(default, task) == default
        for tier in ("fast", "pro", "cheapest", "best"):
            model = CATALOG.tier_model(task, tier)
            assert model is not None and CATALOG.for_task(model, task) is not None, (task, tier)


@pytest.mark.parametrize(
    ("alias", "task", "expected"),
    [
        ("万", TaskType.TEXT_TO_VIDEO, "wan2.6-t2v"),
        ("Wan 2.6", TaskType.IMAGE_TO_VIDEO, "wan2.6-i2v"),
        ("wan2.6", TaskType.REFERENCE_IMAGE_TO_VIDEO, "wan2.6-i2v"),
        ("可灵", TaskType.FIRST_LAST_FRAME_TO_VIDEO, "kling-video-o1"),
        ("KLING-O1", TaskType.TEXT_TO_VIDEO, "kling-video-o1"),
        ("可灵 2.6", TaskType.IMAGE_TO_VIDEO, "kling-v2-6"),
        ("海螺", TaskType.TEXT_TO_VIDEO, "MiniMax-Hailuo-2.3"),
        ("Hailuo 2.0", TaskType.TEXT_TO_VIDEO, "MiniMax-Hailuo-02"),
        ("Vidu", TaskType.TEXT_TO_VIDEO, "viduq2"),
        ("Vidu Q2", TaskType.IMAGE_TO_VIDEO, "viduq2-pro"),
        ("Vidu Q2 Pro", TaskType.TEXT_TO_VIDEO, "viduq2-pro"),  # named as asked; selection suggests Vidu Q2
        ("Google Veo", TaskType.TEXT_TO_VIDEO, "veo-3.1-generate-preview"),
        ("sora", TaskType.TEXT_TO_VIDEO, "sora-2-pro"),
        ("Ima Sevio 1.0", TaskType.TEXT_TO_VIDEO, "ima-pro"),
        ("ima sevio 1.0-fast", TaskType.TEXT_TO_VIDEO, "ima-pro-fast"),
        ("Seedance 2.0 Fast", TaskType.IMAGE_TO_VIDEO, "ima-pro-fast"),
        ("SeeDance 1.5 Pro", TaskType.TEXT_TO_VIDEO, "doubao-seedance-1.5-pro"),
        ("nano-banana-pro", TaskType.TEXT_TO_IMAGE, "gemini-3-pro-image"),
        ("Nano Banana 2", TaskType.IMAGE_TO_IMAGE, "gemini-3.1-flash-image"),
        ("ＳｅｅＤｒｅａｍ　４．５", TaskType.TEXT_TO_IMAGE, "doubao-seedream-4.5"),
        ("doubao-bgm", TaskType.TEXT_TO_MUSIC, "GenBGM"),
        ("DouBao Song", TaskType.TEXT_TO_MUSIC, "GenSong"),
        ("Suno", TaskType.TEXT_TO_MUSIC, "sonic"),
        ("seed-tts-2.0", TaskType.TEXT_TO_SPEECH, "seed-tts-2.0"),
    ],
)
def test_aliases_resolve_per_task(alias: str, task: TaskType, expected: str) -> None:
    assert CATALOG.resolve_alias(alias, task) == expected


def test_unknown_alias_and_normalization() -> None:
    assert CATALOG.resolve_alias("runway gen3", TaskType.TEXT_TO_VIDEO) is None
    assert normalize_name(" Kling-O1 ") == normalize_name("kling o1") == "klingo1"
    assert normalize_name("ＫＬＩＮＧ　２．６") == "kling26"


def test_info_accepts_per_task_ids_and_display_names() -> None:
    wan = CATALOG.info("wan2.6-i2v")
    assert wan is not None and wan.model_id == "wan2.6-t2v"
    assert CATALOG.display_name("ima-pro", Language.EN) == "Seedance 2.0 (IMA Video Pro)"
    assert CATALOG.display_name("kling-video-o1", Language.ZH) == "可灵 O1"
    assert CATALOG.display_name("kling-video-o1", Language.EN) == "Kling O1"
    assert CATALOG.display_name("not-a-model", Language.EN) == "not-a-model"
    assert CATALOG.for_task("midjourney", TaskType.TEXT_TO_VIDEO) is None
    assert CATALOG.for_task("viduq2-pro", TaskType.TEXT_TO_VIDEO) is None
    assert CATALOG.alternatives_for("viduq2-pro", TaskType.TEXT_TO_VIDEO)[0] == "viduq2"


def test_alternatives_follow_the_seed_fallback_tables() -> None:
    assert CATALOG.alternatives_for("ima-pro", TaskType.TEXT_TO_VIDEO)[0] == "ima-pro-fast"
    assert CATALOG.alternatives_for("ima-pro-fast", TaskType.TEXT_TO_VIDEO)[0] == "ima-pro"
    assert CATALOG.alternatives_for("kling-video-o1", TaskType.TEXT_TO_VIDEO) == ("wan2.6-t2v", "viduq2")
    assert CATALOG.alternatives_for("kling-video-o1", TaskType.FIRST_LAST_FRAME_TO_VIDEO) == (
        "kling-v2-6",
        "veo-3.1-generate-preview",
    )
    assert CATALOG.alternatives_for("wan2.6-i2v", TaskType.IMAGE_TO_VIDEO)[0] == "kling-video-o1"
    assert CATALOG.alternatives_for("sonic", TaskType.TEXT_TO_MUSIC) == ("GenBGM", "GenSong")
    assert CATALOG.alternatives_for("GenBGM", TaskType.TEXT_TO_MUSIC) == ("GenSong", "sonic")
    assert CATALOG.alternatives_for("doubao-seedream-4.5", TaskType.TEXT_TO_IMAGE) == (
        "gemini-3.1-flash-image",
        "gemini-3-pro-image",
    )
    unknown = CATALOG.alternatives_for("some-new-model", TaskType.TEXT_TO_VIDEO)
    assert unknown == ("wan2.6-t2v", "MiniMax-Hailuo-02")
    for task in TaskType:
        for model in CATALOG.models:
            if model.supports(task):
                alts = CATALOG.alternatives_for(model.id_for(task), task)
                assert model.id_for(task) not in alts
                assert all(CATALOG.for_task(a, task) == a for a in alts)


def test_faster_and_better_buttons() -> None:
    assert CATALOG.faster_than("ima-pro", TaskType.TEXT_TO_VIDEO) == "ima-pro-fast"
    faster = CATALOG.faster_than("kling-video-o1", TaskType.TEXT_TO_VIDEO)
    assert faster is not None
    kling = CATALOG.timing_for("kling-video-o1", MediaType.VIDEO).eta_s[1]
    assert CATALOG.timing_for(faster, MediaType.VIDEO).eta_s[1] < kling
    assert CATALOG.faster_than("GenBGM", TaskType.TEXT_TO_MUSIC) is None
    assert CATALOG.faster_than("ima-pro", TaskType.TEXT_TO_VIDEO, available={"ima-pro"}) is None
    assert CATALOG.better_than("wan2.6-t2v", TaskType.TEXT_TO_VIDEO) == "kling-video-o1"
    assert CATALOG.better_than("kling-video-o1", TaskType.TEXT_TO_VIDEO) is None
    assert CATALOG.better_than("gemini-3.1-flash-image", TaskType.TEXT_TO_IMAGE) == "gemini-3-pro-image"
    assert CATALOG.better_than("wan2.6-t2v", TaskType.TEXT_TO_VIDEO, available={"wan2.6-t2v"}) is None


def test_timings_per_model_and_media_defaults() -> None:
    kling = CATALOG.timing_for("kling-video-o1", MediaType.VIDEO)
    assert (kling.eta_s, kling.poll_interval_s, kling.progress_interval_s) == ((180, 360), 8, 60)
    assert kling.max_wait_s == 2400
    unknown_video = CATALOG.timing_for("brand-new", MediaType.VIDEO)
    assert (unknown_video.poll_interval_s, unknown_video.max_wait_s) == (8, 2400)
    assert CATALOG.timing_for(None, MediaType.IMAGE).poll_interval_s == 5
    assert CATALOG.timing_for(None, MediaType.MUSIC).poll_interval_s == 5
    assert CATALOG.timing_for(None, MediaType.SPEECH).poll_interval_s == 3


def test_ima_pro_time_is_the_documented_choice_and_config_overrides_it() -> None:
    raw = resources.files("core.data").joinpath("models.toml").read_text(encoding="utf-8")
    assert "300~900" in raw and "120~300" in raw  # the disagreement is documented in the data file
    assert tomllib.loads(raw)  # valid TOML
    assert CATALOG.info("ima-pro") is not None and CATALOG.info("ima-pro").eta_s == (300, 900)  # type: ignore[union-attr]
    overridden = ModelCatalog.load_default({"ima-pro": (120, 300), "wan2.6-i2v": (30, 90)})
    assert overridden.timing_for("ima-pro", MediaType.VIDEO).eta_s == (120, 300)
    assert overridden.timing_for("wan2.6-t2v", MediaType.VIDEO).eta_s == (30, 90)
    assert CATALOG.timing_for("ima-pro", MediaType.VIDEO).eta_s == (300, 900)


def test_bad_catalog_data_is_refused() -> None:
    with pytest.raises(ValueError):
        ModelCatalog.from_toml("[task_defaults]\ntext_to_video = 'x'\n")


def test_model_notes_exist_in_both_languages() -> None:
    """Comparisons ("可灵和海螺哪个好") quote these notes to users: a Chinese user reads Chinese."""
    noted = [m for m in CATALOG.models if m.notes(Language.EN)]
    assert len(noted) == len(CATALOG.models)
    for model in noted:
        zh, en = model.notes(Language.ZH), model.notes(Language.EN)
        assert zh and zh != en, model.model_id
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), model.model_id
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in en), model.model_id


def test_a_note_in_one_language_only_is_refused() -> None:
    raw = resources.files("core.data").joinpath("models.toml").read_text(encoding="utf-8")
    zh_line = next(line for line in raw.splitlines() if line.startswith("notes_zh ="))
    with pytest.raises(ValueError, match="notes_zh"):
        ModelCatalog.from_toml(raw.replace(zh_line + "\n", "", 1))
