"""Normalization, numbers and span removal underneath the parser."""

from __future__ import annotations

import pytest

from core.intent.params import find_aspects, find_durations, find_resolutions
from core.intent.text import CompactText, NormText, parse_number, remove_spans
from core.types import MediaType


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10", 10),
        ("1.5", 1.5),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("二十五", 25),
        ("两", 2),
        ("半", 0.5),
        ("一百二十", 120),
        ("ten", 10),
        ("fifteen", 15),
        ("half", 0.5),
        ("abc", None),
        ("", None),
    ],
)
def test_parse_number(raw: str, expected: float | None) -> None:
    assert parse_number(raw) == expected


def test_normalized_view_maps_back_to_the_original() -> None:
    text = NormText.of("ＫＬＩＮＧ　１０秒")
    assert text.norm == "kling 10秒"
    start = text.norm.index("10")
    assert text.original[slice(*text.span(start, start + 3))] == "１０秒"
    compact = CompactText.of("Kling O1 - 可灵")
    assert compact.text == "klingo1可灵"
    assert "Kling O1 - 可灵"[slice(*compact.span(0, 7))] == "Kling O1"


def test_remove_spans_keeps_words_apart_only_where_needed() -> None:
    assert remove_spans("a 10s clip", [(2, 5)]) == "a  clip"
    assert remove_spans("生成10秒视频", [(2, 5)]) == "生成视频"
    assert remove_spans("abc", [(0, 1), (0, 2), (1, 3)]) == ""


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5秒", 5),
        ("十秒", 10),
        ("十五秒钟", 15),
        ("1分钟", 60),
        ("一分钟", 60),
        ("1分半", 90),
        ("一分半钟", 90),
        ("1分30秒", 90),
        ("半分钟", 30),
        ("两分钟", 120),
        ("1.5 min", 90),
        ("10s", 10),
        ("10 sec", 10),
        ("ten seconds", 10),
        ("a 5-second clip", 5),
        ("two minutes", 120),
        ("one minute", 60),
        ("时长：15s", 15),
        ("10秒左右", 10),
        ("8秒以内", 8),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    found = find_durations(NormText.of(text))
    assert [f.value for f in found] == [seconds]


@pytest.mark.parametrize("text", ["5岁的小孩", "3只猫", "10:30", "2024年", "a second chance", "1080p", "4k"])
def test_not_durations(text: str) -> None:
    assert find_durations(NormText.of(text)) == []


@pytest.mark.parametrize(
    ("text", "ratio"),
    [
        ("16:9", "16:9"),
        ("16：9", "16:9"),
        ("9比16", "9:16"),
        ("九比十六", "9:16"),
        ("横屏", "16:9"),
        ("竖版", "9:16"),
        ("正方形", "1:1"),
        ("widescreen", "16:9"),
        ("in portrait mode", "9:16"),
        ("a vertical video", "9:16"),
        ("square format", "1:1"),
        ("21:9", "21:9"),
        ("比例为4:3", "4:3"),
    ],
)
def test_aspects(text: str, ratio: str) -> None:
    assert [f.value for f in find_aspects(NormText.of(text))] == [ratio]


@pytest.mark.parametrize(
    "text", ["a portrait of a woman", "a square table", "镜头横向移动", "10:30", "vertical stripes"]
)
def test_not_aspects(text: str) -> None:
    assert find_aspects(NormText.of(text)) == []


def test_resolutions_per_medium() -> None:
    video = NormText.of("720p 1080P 4k 高清 分辨率1080")
    assert [f.value for f in find_resolutions(video, MediaType.VIDEO)] == [
        "720P",
        "1080P",
        "4K",
        "1080P",
        "1080P",
    ]
    image = NormText.of("4K 512px 2048x2048")
    found = find_resolutions(image, MediaType.IMAGE)
    assert [(f.field, f.value) for f in found] == [("size", "4K"), ("size", "512px"), ("size", "2048x2048")]
