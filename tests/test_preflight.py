"""Limit checks at every boundary (just inside / just outside), on probed values."""

from __future__ import annotations

import pytest

from core.media.ports import MediaInfo
from core.media.preflight import FamilyLimits, Item, MediaLimits, Violation, check_media, check_shape, fmt_cap
from core.types import AttachmentKind, TaskType

MB = 1024 * 1024
LIMITS = MediaLimits.load_default()
SEEDANCE = LIMITS.seedance
GENERIC = LIMITS.generic
IMAGE, VIDEO, AUDIO = AttachmentKind.IMAGE, AttachmentKind.VIDEO, AttachmentKind.AUDIO


def img(w: int = 1024, h: int = 768, size: int = 200_000, fmt: str = "png") -> MediaInfo:
    return MediaInfo(kind=IMAGE, format=fmt, size_bytes=size, width=w, height=h, has_video=True)


def vid(seconds: float = 5, w: int = 1280, h: int = 720, fps: float = 24, size: int = 2 * MB,
        fmt: str = "mp4") -> MediaInfo:
    return MediaInfo(kind=VIDEO, format=fmt, size_bytes=size, width=w, height=h, duration_s=seconds, fps=fps,
                     has_video=True)


def aud(seconds: float = 5, size: int = 100_000, fmt: str = "wav") -> MediaInfo:
    return MediaInfo(kind=AUDIO, format=fmt, size_bytes=size, duration_s=seconds, has_audio=True)


def whats(infos: list[MediaInfo], family: FamilyLimits = SEEDANCE) -> list[str]:
    return [v.what for v in check_media([(f"f{i}", info) for i, info in enumerate(infos)], family)]


# ---------------------------------------------------------------- per-file Seedance limits

@pytest.mark.parametrize(("inside", "outside", "what"), [
    (img(size=30 * MB - 1), img(size=30 * MB), "size"),
    (img(w=300, h=300), img(w=299, h=300), "width"),
    (img(w=300, h=300), img(w=300, h=299), "height"),
    (img(w=6000, h=3000), img(w=6001, h=3000), "width"),
    (img(w=3000, h=6000), img(w=3000, h=6001), "height"),
    (img(w=750, h=300), img(w=751, h=300), "aspect"),
    (img(w=400, h=1000), img(w=399, h=1000), "aspect"),
    (img(fmt="gif"), img(fmt="ico"), "format"),
    (vid(size=50 * MB), vid(size=50 * MB + 1), "size"),
    (vid(seconds=2.0), vid(seconds=1.9), "duration"),
    (vid(seconds=15.0), vid(seconds=15.1), "duration"),
    (vid(w=640, h=640), vid(w=640, h=638), "pixels"),
    (vid(w=1280, h=720), vid(w=1920, h=1080), "pixels"),
    (vid(w=1012, h=405), vid(w=1013, h=405), "aspect"),
    (vid(w=405, h=1012), vid(w=404, h=1012), "aspect"),
    (vid(fps=24), vid(fps=23.976), "fps"),
    (vid(fps=60, w=640, h=640), vid(fps=60.1, w=640, h=640), "fps"),
    (vid(fmt="mov"), vid(fmt="webm"), "format"),
    (aud(size=15 * MB), aud(size=15 * MB + 1), "size"),
    (aud(seconds=2.0), aud(seconds=0.5), "duration"),
    (aud(seconds=15.0), aud(seconds=15.1), "duration"),
    (aud(fmt="mp3"), aud(fmt="m4a"), "format"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_each_seedance_limit_at_its_boundary(inside: MediaInfo, outside: MediaInfo, what: str) -> None:
    assert whats([inside]) == []
    assert what in whats([outside])


def test_video_side_limits_when_pixel_cap_is_raised() -> None:
    roomy = MediaLimits.load_default(max_video_pixels=92_740_800).seedance
    assert whats([vid(w=1920, h=1080)], roomy) == []
    assert whats([vid(w=6000, h=3000)], roomy) == []
    assert "width" in whats([vid(w=6001, h=3000)], roomy)
    assert "width" in whats([vid(w=299, h=700)], roomy)
    assert "height" in whats([vid(w=700, h=299)], roomy)


def test_default_pixel_cap_is_the_stricter_figure() -> None:
    assert SEEDANCE.video.max_pixels == 927_408
    assert MediaLimits.load_default(max_video_pixels=92_740_800).seedance.video.max_pixels == 92_740_800


def test_unknown_duration_or_fps_is_refused_not_assumed() -> None:
    broken = MediaInfo(kind=VIDEO, format="mp4", size_bytes=10, width=1280, height=720)
    assert {"duration", "fps"} <= set(whats([broken]))


# ---------------------------------------------------------------- bundle totals

def test_total_video_duration_boundary() -> None:
    assert whats([vid(seconds=7.5), vid(seconds=7.5)]) == []
    assert whats([vid(seconds=7.5), vid(seconds=8)]) == ["total_video_duration"]


def test_total_audio_duration_boundary() -> None:
    assert whats([aud(seconds=5), aud(seconds=5), aud(seconds=5)]) == []
    assert whats([aud(seconds=8), aud(seconds=8)]) == ["total_audio_duration"]


def test_total_size_boundary() -> None:
    quarter = 16 * MB
    exactly_64 = [img(size=quarter), img(size=quarter), vid(size=quarter), aud(size=15 * MB), aud(size=MB)]
    assert whats(exactly_64) == []
    over = [*exactly_64[:-1], aud(size=MB + 1)]
    assert whats(over) == ["total_size"]


def test_every_problem_is_reported_at_once() -> None:
    found = check_media([("tiny.png", img(w=1, h=1)), ("long.mp4", vid(seconds=40)), ("blip.wav", aud(0.5))],
                        SEEDANCE)
    assert {(v.file, v.what) for v in found} >= {
        ("tiny.png", "width"), ("tiny.png", "height"), ("long.mp4", "duration"), ("blip.wav", "duration"),
        ("", "total_video_duration")}
    long_clip = next(v for v in found if v.file == "long.mp4" and v.what == "duration")
    assert (long_clip.value, long_clip.allowed, long_clip.fix) == ("40.0 s", "2–15 s", "media.fix.trim")


# ---------------------------------------------------------------- other models

def test_generic_models_only_check_formats_sizes_and_a_size_floor() -> None:
    assert whats([vid(seconds=40, w=1920, h=1080, fps=12)], GENERIC) == []
    assert whats([img(w=16, h=16)], GENERIC) == []
    assert set(whats([img(w=1, h=1)], GENERIC)) == {"width", "height"}
    assert whats([img(size=30 * MB)], GENERIC) == ["size"]


# ---------------------------------------------------------------- kinds and counts per task type

def items(*kinds: AttachmentKind, size: int | None = None) -> list[Item]:
    return [Item(f"f{i}.{k.value}", k, size) for i, k in enumerate(kinds)]


@pytest.mark.parametrize(("task", "ok", "bad"), [
    (TaskType.IMAGE_TO_VIDEO, items(IMAGE), items(IMAGE, IMAGE)),
    (TaskType.IMAGE_TO_VIDEO, items(IMAGE), []),
    (TaskType.FIRST_LAST_FRAME_TO_VIDEO, items(IMAGE, IMAGE), items(IMAGE)),
    (TaskType.FIRST_LAST_FRAME_TO_VIDEO, items(IMAGE, IMAGE), items(IMAGE, IMAGE, IMAGE)),
    (TaskType.IMAGE_TO_IMAGE, items(IMAGE), []),
])
def test_image_counts_per_task(task: TaskType, ok: list[Item], bad: list[Item]) -> None:
    assert check_shape(task, ok, LIMITS, SEEDANCE) == []
    assert [v.what for v in check_shape(task, bad, LIMITS, SEEDANCE)] == ["image_count"]


def test_reference_needs_one_asset_and_caps_each_kind() -> None:
    ref = TaskType.REFERENCE_IMAGE_TO_VIDEO
    assert [v.what for v in check_shape(ref, [], LIMITS, SEEDANCE)] == ["asset_count"]
    assert check_shape(ref, items(*[IMAGE] * 9, *[VIDEO] * 3, *[AUDIO] * 3), LIMITS, SEEDANCE) == []
    too_many = check_shape(ref, items(*[IMAGE] * 10, *[VIDEO] * 4, *[AUDIO] * 4), LIMITS, SEEDANCE)
    assert [v.what for v in too_many] == ["image_count", "video_count", "audio_count"]
    assert too_many[0] == Violation("", "image_count", "10", "≤ 9", "media.fix.too_many")


def test_generic_image_to_image_takes_up_to_14() -> None:
    assert check_shape(TaskType.IMAGE_TO_IMAGE, items(*[IMAGE] * 14), LIMITS, GENERIC) == []
    assert [v.what for v in check_shape(TaskType.IMAGE_TO_IMAGE, items(*[IMAGE] * 15), LIMITS, GENERIC)] == [
        "image_count"]


def test_video_or_audio_outside_reference_mode_points_to_reference_mode() -> None:
    found = check_shape(TaskType.IMAGE_TO_VIDEO, items(IMAGE, VIDEO), LIMITS, SEEDANCE)
    assert [(v.what, v.value, v.fix) for v in found] == [
        ("kind", "video", "media.fix.video_audio_need_reference")]


def test_declared_sizes_are_checked_before_download() -> None:
    found = check_shape(TaskType.IMAGE_TO_VIDEO, items(IMAGE, size=30 * MB), LIMITS, SEEDANCE)
    assert [(v.what, v.allowed) for v in found] == [("size", "< 30 MB")]


def test_text_only_tasks_take_no_attachment_rules() -> None:
    assert check_shape(TaskType.TEXT_TO_VIDEO, items(VIDEO, AUDIO), LIMITS, SEEDANCE) == []


def test_cap_formatting() -> None:
    assert fmt_cap(30 * MB - 1) == "< 30 MB"
    assert fmt_cap(50 * MB) == "≤ 50 MB"


@pytest.mark.parametrize(("info", "what", "shown"), [
    (vid(seconds=15.04), "duration", "15.04 s"),
    (vid(seconds=1.96), "duration", "1.96 s"),
    (vid(seconds=40), "duration", "40.0 s"),
    (vid(fps=23.999), "fps", "23.999"),
    (vid(fps=12), "fps", "12.00"),
    (img(w=2501, h=1000), "aspect", "2.501 (2501×1000)"),
])
def test_values_just_outside_never_look_allowed(info: MediaInfo, what: str, shown: str) -> None:
    found = [v for v in check_media([("f", info)], SEEDANCE) if v.what == what]
    assert [v.value for v in found] == [shown]
