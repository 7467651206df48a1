"""Parameter phrases: duration, aspect ratio, resolution, image size, voice and music options.

Every finder returns ``Finding``s in text order; the parser keeps the last value per field and
reports contradictions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from typing import Any

from core.intent.text import MAX_MATCHES, NUMBER_RE, NormText, Span, parse_number, rx
from core.types import MediaType


@dataclass(frozen=True, slots=True)
class Finding:
    field: str
    value: Any
    span: Span
    phrase: str  # the user's words, for notices


_SUFFIX = r"(?:\s*(?:左右|以内|之内|以下|长|long))?(?:\s*的)?"
_PREFIX = (
    r"(?:(?:视频|video)?(?:时长|长度|时间|duration|length)\s*(?:为|是|:|=|设为|设置为|控制在)?\s*"
    r"(?:大概|大约|约|差不多|about|around|roughly)?\s*)?"
)
_SEC = r"(?:秒钟|秒|s(?![a-z])|secs?\b|seconds?\b)"
_MIN = r"(?:分钟|mins?\b|minutes?\b)"

_UNIT = rf"(?:{_SEC}|{_MIN}|分)"
# Lengths no clip has: a sign or an exponent ("-5秒", "1e308 seconds"). Found first so that "308 seconds"
# is not read out of "1e308 seconds".
_ODD_DURATION = rx(
    _PREFIX
    + r"(?:(?<![\w.])[-−]\s*\d+(?:\.\d+)?(?:e[+-]?\d+)?|(?<![\w.])\d+(?:\.\d+)?e[+-]?\d+)\s*"
    + _UNIT
    + _SUFFIX
)
MAX_SANE_SECONDS = 600  # longer than any clip a model makes by far: a typo or a joke, not a length to fit

_DURATION_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # 1分30秒 / 1 min 30 s
    (
        rx(
            _PREFIX + rf"(?P<m>{NUMBER_RE})\s*(?:分钟?|mins?|"
            rf"minutes?)\s*(?P<s>{NUMBER_RE})\s*{_SEC}" + _SUFFIX
        ),
        "ms",
    ),
    # 1分半 / 一分半钟 / 1分钟半
    (rx(_PREFIX + rf"(?P<m>{NUMBER_RE})\s*(?:分钟?半|分半钟?)" + _SUFFIX), "m_half"),
    # 半分钟 / half a minute / 1.5 min / 两分钟 / one minute
    (rx(_PREFIX + rf"(?P<m>{NUMBER_RE})\s*(?:个)?\s*-?\s*{_MIN}" + _SUFFIX), "m"),
    # 10秒 / 10s / 10 sec / ten seconds / 10-second
    (rx(_PREFIX + rf"(?<![\d.])(?P<s>{NUMBER_RE})\s*-?\s*{_SEC}" + _SUFFIX), "s"),
)


def find_durations(text: NormText) -> list[Finding]:
    """``duration`` findings in seconds; a length no clip has (zero, negative, an exponent, beyond
    ``MAX_SANE_SECONDS``) becomes a ``duration_rejected`` finding holding the user's words, so that the
    model's default is used and the user is told (issue #13)."""
    found: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(match: re.Match[str], seconds: float | None) -> None:
        taken.append((match.start(), match.end()))
        span = text.span(match.start(), match.end())
        phrase = text.original[span[0] : span[1]].strip().removesuffix("的").strip()
        if seconds is None or not 0 < seconds <= MAX_SANE_SECONDS or round(seconds) < 1:
            found.append(Finding("duration_rejected", phrase, span, phrase))
        else:
            found.append(Finding("duration", round(seconds), span, phrase))

    for match in islice(_ODD_DURATION.finditer(text.norm), MAX_MATCHES):
        add(match, None)
    for pattern, kind in _DURATION_PATTERNS:
        for match in islice(pattern.finditer(text.norm), MAX_MATCHES):
            if len(found) >= MAX_MATCHES:
                break
            if any(match.start() < e and s < match.end() for s, e in taken):
                continue
            seconds = _duration_seconds(match, kind)
            if seconds is None:
                continue
            add(match, seconds)
    return sorted(found, key=lambda f: f.span)


def _duration_seconds(match: re.Match[str], kind: str) -> float | None:
    groups = match.groupdict()
    minutes = parse_number(groups["m"]) if groups.get("m") else None
    seconds = parse_number(groups["s"]) if groups.get("s") else None
    if kind == "ms" and minutes is not None and seconds is not None:
        return minutes * 60 + seconds
    if kind == "m_half" and minutes is not None:
        return minutes * 60 + 30
    if kind == "m" and minutes is not None:
        return minutes * 60
    if kind == "s" and seconds is not None:
        raw = (groups.get("s") or "").strip()
        if raw in {"a", "an", "half", "half a", "half an"}:
            return None  # "a second" / "half a second" are not durations of a clip
        return seconds
    return None


_KNOWN_RATIOS = frozenset(
    {
        "1:1",
        "16:9",
        "9:16",
        "4:3",
        "3:4",
        "3:2",
        "2:3",
        "21:9",
        "9:21",
        "5:4",
        "4:5",
        "2:1",
        "1:2",
        "4:1",
        "1:4",
        "8:1",
        "1:8",
    }
)
_CN_RATIO_RE = rx(r"(?<![一二三四五六七八九十])([一二三四五六七八九十]{1,3})比([一二三四五六七八九十]{1,3})")
_RATIO_RE = rx(r"(?<![\d.:])(\d{1,2})\s*(?::|比|x|×|\*|/)\s*(\d{1,2})(?![\d.:])")


def _orientation_src(words: str) -> str:
    suffix = r"\s+(?:mode|orientation|format|layout|aspect\s+ratio|aspect|ratio)\b"
    context = r"(?=\s*(?:\d+\s*(?:s|secs?|seconds?)\s+)?(?:video|clip|screen|frame|shot|,|\.|;|:|!|$))"
    return (
        rf"(?:\bin\s+(?:a\s+)?)?\b(?:{words})\b{suffix}|(?:\bin\s+(?:a\s+)?)?\b(?:{words})\b{context}"
        rf"|\bin\s+(?:a\s+)?(?:{words})\b"
    )


def _orientation(words: str) -> re.Pattern[str]:
    return rx(_orientation_src(words))


_TRAILING_DE = r"(?:的(?=[,，。!！\s]|$))?"  # "最好是竖屏的，…"
_ASPECT_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        rx(
            r"(?:(?:换成|改成|调成|改为|设为|最好是|最好|要)\s*)?(?:手机)?(?:竖屏|竖版|竖幅|竖构图|"
            r"竖画幅|竖图|"
            r"竖着的?|竖向(?!移|运|平|滚|排|拉|"
            r"摇|滑))" + _TRAILING_DE
        ),
        "9:16",
    ),
    (
        rx(
            r"(?:(?:换成|改成|调成|改为|设为|最好是|最好|要)\s*)?(?:横屏|横版|横幅|横构图|横画幅|宽屏|宽银幕|"
            r"横着的?|横向(?!移|运|平|滚|排|拉|摇|"
            r"滑))" + _TRAILING_DE
        ),
        "16:9",
    ),
    (rx(r"(?:正方形|方形|方图|方屏|方版|方块构图)" + _TRAILING_DE), "1:1"),
    (rx(r"\bwide\s?screen\b|\bcinematic\s+(?:ratio|aspect)\b"), "16:9"),
    (_orientation("landscape|horizontal"), "16:9"),
    (
        rx(
            _orientation_src("portrait|vertical") + r"|"
            r"\b(?:tiktok|reels?|shorts)\s+(?:format|"
            r"size|ratio)\b"
        ),
        "9:16",
    ),
    (_orientation("square"), "1:1"),
)
_ASPECT_PREFIX = rx(
    r"(?:画面|视频|图片)?(?:比例|宽高比|画幅|尺寸|aspect ratio|aspect|"
    r"ratio)\s*(?:为|是|:|=)?\s*$"
)


def find_aspects(text: NormText) -> list[Finding]:
    found: list[Finding] = []
    for match in [
        *islice(_RATIO_RE.finditer(text.norm), MAX_MATCHES),
        *islice(_CN_RATIO_RE.finditer(text.norm), MAX_MATCHES),
    ]:
        width, height = parse_number(match.group(1)), parse_number(match.group(2))
        if width is None or height is None:
            continue
        ratio = f"{int(width)}:{int(height)}"
        if ratio not in _KNOWN_RATIOS:
            continue
        start = match.start()
        prefix = _ASPECT_PREFIX.search(text.norm[max(0, start - 16) : start])
        if prefix:
            start -= len(prefix.group(0))
        span = text.span(start, match.end())
        found.append(Finding("aspect_ratio", ratio, span, text.original[span[0] : span[1]].strip()))
    for pattern, ratio in _ASPECT_WORDS:
        for match in islice(pattern.finditer(text.norm), MAX_MATCHES):
            span = text.span(match.start(), match.end())
            if any(span[0] < f.span[1] and f.span[0] < span[1] for f in found):
                continue
            found.append(Finding("aspect_ratio", ratio, span, text.original[span[0] : span[1]].strip()))
    return sorted(found, key=lambda f: f.span)


_RES_VERB = r"(?:调到|调成|改成|改为|设为|设置为|调整为|换成|为|是|:|=|用)"
_RES_PREFIX = r"(?:(?:把)?(?:分辨率|清晰度|画质|resolution)\s*" + _RES_VERB + r"?\s*)?"
_RES_SUFFIX = r"(?:\s*(?:的)?(?:分辨率|画质|清晰度|resolution))?(?:\s*的)?"
_RESOLUTION_RE = rx(
    r"(?:把)?(?:分辨率|清晰度|resolution)\s*"
    + _RES_VERB
    + r"?\s*(?P<bare>480|540|720|768|1080|1440|2160)(?![\dpi])"
    + _RES_SUFFIX
    + r"|"
    + _RES_PREFIX
    + r"(?<![\d.])(?P<p>240|360|480|540|720|768|1080|1440|2160)\s*[pi](?![a-z])"
    + _RES_SUFFIX
    + r"|"
    + _RES_PREFIX
    + r"(?<![\d.a-z])(?P<k>[1248])\s*k(?![a-z])"
    + _RES_SUFFIX
    + r"|(?P<w>超高清|超清|全高清|高清|标清|ultra\s?hd|uhd|full\s?hd|fhd|\bhd\b)"
)
_WORD_RESOLUTION = {
    "超高清": "4K",
    "超清": "1080P",
    "全高清": "1080P",
    "高清": "1080P",
    "标清": "480P",
    "ultrahd": "4K",
    "ultra hd": "4K",
    "uhd": "4K",
    "fullhd": "1080P",
    "full hd": "1080P",
    "fhd": "1080P",
    "hd": "720P",
}
_SIZE_RE = rx(
    r"(?<![\d.])(?P<px>512)\s*px\b|"
    r"(?<![\d.])(?P<w>\d{3,4})\s*[x×*]\s*(?P<h>\d{3,4})(?![\d.])"
)


def find_resolutions(text: NormText, media: MediaType) -> list[Finding]:
    """Video: ``resolution`` ("720P", "4K"). Image: ``size`` ("1K", "2K", "4K", "512px", "2048x2048")."""
    found: list[Finding] = []
    for match in islice(_RESOLUTION_RE.finditer(text.norm), MAX_MATCHES):
        span = text.span(match.start(), match.end())
        phrase = text.original[span[0] : span[1]].strip()
        if match.group("p") or match.group("bare"):
            value = f"{match.group('p') or match.group('bare')}P"
        elif match.group("k"):
            value = f"{match.group('k')}K"
        else:
            value = _WORD_RESOLUTION[re.sub(r"\s+", " ", match.group("w"))]
        if media is MediaType.IMAGE and match.group("k"):
            found.append(Finding("size", value, span, phrase))
        elif media is MediaType.IMAGE:
            found.append(Finding("resolution", value, span, phrase))
        else:
            found.append(Finding("resolution", value, span, phrase))
    if media is MediaType.IMAGE:
        for match in islice(_SIZE_RE.finditer(text.norm), MAX_MATCHES):
            span = text.span(match.start(), match.end())
            value = "512px" if match.group("px") else f"{match.group('w')}x{match.group('h')}"
            found.append(Finding("size", value, span, text.original[span[0] : span[1]].strip()))
    return sorted(found, key=lambda f: f.span)


_VOICE_PATTERNS: tuple[tuple[re.Pattern[str], str, Any], ...] = (
    (
        rx(
            r"(?:用|换成)?(?:温柔的|甜美的|成熟的)?(?:女声|女生声音|女性声音|女孩的?声音|女音|"
            r"女配音)(?:朗读|来读|读|念)?"
            r"|\b(?:a\s+)?(?:female|woman'?s?|girl'?s?)\s+(?:voice|narrator|speaker)\b"
        ),
        "voice",
        "female",
    ),
    (
        rx(
            r"(?:用|换成)?(?:低沉的|磁性的|成熟的)?(?:男声|男生声音|男性声音|男孩的?声音|男音|"
            r"男配音)(?:朗读|来读|读|念)?"
            r"|\b(?:a\s+)?(?:male|man'?s?|boy'?s?)\s+(?:voice|narrator|speaker)\b"
        ),
        "voice",
        "male",
    ),
    (
        rx(
            r"语速(?:稍?快一?点|快一些|加快|快些|快)|读快一?点|说快一?点|\bspeak\s+faster\b|"
            r"\bspeed\s+up\b|\bfaster\s+(?:pace|speech)\b"
        ),
        "speed",
        1.2,
    ),
    (
        rx(
            r"语速(?:稍?慢一?点|慢一些|放慢|慢些|慢)|读慢一?点|说慢一?点|"
            r"慢慢(?:地|的)?(?:读|念|说)|\bspeak\s+slower\b|"
            r"\bslow\s+down\b|\bslower\s+(?:pace|speech)\b|\bslowly\b"
        ),
        "speed",
        0.8,
    ),
    (rx(r"(?:声音|音量)(?:大一?点|调大|大些)|大声(?:地|的)?(?:读|念|说)?|\blouder\b"), "volume", 1.2),
    (
        rx(
            r"(?:声音|音量)(?:小一?点|调小|小些)|小声(?:地|的)?(?:读|念|说)?|\bsofter\b|"
            r"\bquieter\b"
        ),
        "volume",
        0.8,
    ),
    (rx(r"音调(?:高一?点|调高)|\bhigher\s+pitch\b"), "pitch", 1.2),
    (rx(r"音调(?:低一?点|调低)|\blower\s+pitch\b"), "pitch", 0.8),
)

_AUDIO_PATTERNS: tuple[tuple[re.Pattern[str], str, Any], ...] = (
    (
        rx(
            r"(?:不要|不需要|别带|不带|没有)(?:声音|音效|音频|配音|背景音)|无声(?:的)?|静音(?:的)?|"
            r"\b(?:no|without)\s+(?:audio|sound)\b|\bsilent\b|\bmuted?\b"
        ),
        "generate_audio",
        False,
    ),
    (
        rx(
            r"(?:要|需要)?(?:有|带|带上|配上?|加上?|生成)(?:声音|音效|音频|环境音)(?:的)?|有声(?:的)?|"
            r"\b(?:with|plus|and)\s+(?:audio|sound(?:\s+effects)?)\b|\bgenerate\s+audio\b|\bsound\s+on\b"
        ),
        "generate_audio",
        True,
    ),
)

_MUSIC_PATTERNS: tuple[tuple[re.Pattern[str], str, Any], ...] = (
    (
        rx(
            r"纯音乐|无人声|不要人声|没有人声|不带人声|纯器乐|\bno\s+vocals?\b|"
            r"\binstrumental\b|\bwithout\s+vocals?\b"
        ),
        "make_instrumental",
        True,
    ),
    (rx(r"女声|女歌手|女生唱|女孩唱|\bfemale\s+(?:vocals?|singer|voice)\b"), "vocal_gender", "f"),
    (rx(r"男声|男歌手|男生唱|男孩唱|\bmale\s+(?:vocals?|singer|voice)\b"), "vocal_gender", "m"),
)


def find_voice_params(text: NormText) -> list[Finding]:
    return _find_all(text, _VOICE_PATTERNS)


def find_audio_params(text: NormText) -> list[Finding]:
    """Video with or without sound ("带音效" / "no audio"); fitted to generate_audio / audio / sound."""
    return _find_all(text, _AUDIO_PATTERNS)


def find_music_params(text: NormText) -> list[Finding]:
    return _find_all(text, _MUSIC_PATTERNS)


def _find_all(text: NormText, table: tuple[tuple[re.Pattern[str], str, Any], ...]) -> list[Finding]:
    found: list[Finding] = []
    for pattern, field_name, value in table:
        for match in islice(pattern.finditer(text.norm), MAX_MATCHES):
            span = text.span(match.start(), match.end())
            if any(span[0] < f.span[1] and f.span[0] < span[1] for f in found):
                continue
            found.append(Finding(field_name, value, span, text.original[span[0] : span[1]].strip()))
    return sorted(found, key=lambda f: f.span)
