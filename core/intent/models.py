"""Model names in free text: catalog aliases (with the "use" verb in front of them), tier words and
names that look like a model but match nothing."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from itertools import islice

from core.catalog.models import ModelCatalog, normalize_name
from core.intent.text import MAX_MATCHES, CompactText, NormText, Span, overlaps, rx
from core.request import Tier
from core.types import MediaType

# A "use" verb right before a model name. Longest first.
# fmt: off
_USE_CUES = (
    "以后都用", "以后一直用", "以后就用", "以后用", "默认都用", "默认用", "默认使用", "一直用",
    "总是用", "每次都用", "都用", "我更喜欢用", "我更喜欢", "我喜欢用", "我喜欢", "喜欢用", "更喜欢",
    "切换到", "切换成", "切到", "换成", "换到", "改成", "改用",
    "选用", "选择", "使用", "试试", "试一下", "最好用", "用", "换", "选",
    "always use", "switch to", "change to", "using", "use", "try", "prefer", "with", "via", "by",
)
# fmt: on
_CUE_RE = rx(
    r"(?:"
    + "|".join(
        (r"(?<![a-z])" + r"\s+".join(map(re.escape, c.split())) if c.isascii() else re.escape(c))
        for c in _USE_CUES
    )
    + r")\s*(?:the\s+)?$"
)
# fmt: off
_FOLLOW_CUES = (
    "模型", "model", "来", "生成", "做", "画", "帮", "跑", "出", "版本", "的模型", "给我", "把", "让", "给",
    "吧", "了", "呢", "啊", "呀", "嘛", "哦", "就", "的效果", "的风格", "的画质", "的质量", "的画面",
)
# fmt: on
_NEGATION_BEFORE = rx(
    r"(?:不要|不想|不再|别再|别|不用|甭|不|禁止|避免|除了|不是)\s*(?:再|继续)?\s*$|"
    r"\b(?:don'?t|do\s+not|never|not|no\s+more|stop|avoid|instead\s+of|rather\s+than|except|without)"
    r"(?:\s+(?:use|using|with|the))?\s*$"
)
_ASCII_ALNUM = rx(r"[a-z0-9]")
_CJK = rx(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class ModelMention:
    model_id: str  # primary catalog id
    span: Span  # original-text span incl. a leading use-verb and trailing 模型/model
    phrase: str  # the alias as the user wrote it
    cue: str  # the use-verb in front ("" if none)
    alias_span: Span = (0, 0)  # just the model name
    negated: bool = False  # "不要用海螺" / "don't use Kling": named, but not wanted


def find_models(text: NormText, catalog: ModelCatalog) -> list[ModelMention]:
    compact = CompactText.of(text)
    keys = catalog.aliases_longest_first()
    taken: list[tuple[int, int]] = []
    found: list[ModelMention] = []
    haystack = compact.text
    for key, model_id, weak in keys:
        start = haystack.find(key)
        while start >= 0 and len(found) < MAX_MATCHES:
            end = start + len(key)
            if not any(start < e and s < end for s, e in taken) and _bounded(
                text.original, compact, start, end, key
            ):
                alias_span = compact.span(start, end)
                cue, cue_start = _cue_before(text.original, alias_span[0])
                if not weak or _weak_ok(text.original, alias_span, haystack, end, cue, key):
                    taken.append((start, end))
                    c_end = end + _follow_len(haystack, end)
                    span = (cue_start, compact.span(start, c_end)[1])
                    window, offset = text.window_before(span[0])
                    negation = _NEGATION_BEFORE.search(window.norm)
                    negated = negation is not None
                    if negation is not None:  # the negation goes with the name ("不要用海螺")
                        span = (offset + window.span(negation.start(), negation.end())[0], span[1])
                    found.append(
                        ModelMention(
                            model_id,
                            span,
                            text.original[alias_span[0] : alias_span[1]],
                            cue,
                            alias_span,
                            negated,
                        )
                    )
            start = haystack.find(key, start + 1)
    return sorted(found, key=lambda m: m.span)


def _bounded(original: str, compact: CompactText, start: int, end: int, key: str) -> bool:
    o_start, o_end = compact.span(start, end)
    if _ASCII_ALNUM.match(key[0]) and o_start > 0 and _ASCII_ALNUM.match(original[o_start - 1].casefold()):
        return False
    return not (
        _ASCII_ALNUM.match(key[-1])
        and o_end < len(original)
        and _ASCII_ALNUM.match(original[o_end].casefold())
    )


def _cue_before(original: str, start: int) -> tuple[str, int]:
    """The use-verb right before ``start`` (normalized, without spaces) and where it begins."""
    window_start = max(0, start - 20)
    window = NormText.of(original[window_start:start])
    match = _CUE_RE.search(window.norm)
    if match is None:
        return "", start
    cue = re.sub(r"\s+", " ", match.group(0)).strip()
    cue = re.sub(r"\s*the$", "", cue).strip()
    return cue, window_start + window.span(match.start(), match.end())[0]


def _follow_len(haystack: str, end: int) -> int:
    for follow in ("的模型", "的效果", "的风格", "的画质", "的质量", "的画面", "模型", "model"):
        if haystack.startswith(follow, end):
            return len(follow)
    return 0


def _weak_ok(original: str, alias_span: Span, haystack: str, end: int, cue: str, key: str) -> bool:
    if any(haystack.startswith(f, end) for f in _FOLLOW_CUES):
        return True
    if not cue:
        return False
    if key.isascii():
        return True  # word boundaries already checked
    next_char = original[alias_span[1] : alias_span[1] + 1]
    return not (next_char and _CJK.match(next_char))


# ---------------------------------------------------------------- tiers

_TIER_PATTERNS: tuple[tuple[re.Pattern[str], Tier], ...] = (
    (
        rx(
            r"(?:(?:以后|默认)*都?(?:用|要|选))?(?:最便宜|最省钱|最低价|便宜(?:一?点|些)的?|省钱|低成本|"
            r"性价比最?高)(?:的)?(?:模型|版本|方案)?"
            r"|"
            r"(?:\b(?:use|using|with|try)\s+)?\b(?:the\s+)?(?:cheapest|cheaper|budget|lowest[- ]cost|"
            r"low[- ]cost)\b(?:\s+(?:model|option|one|version))?"
        ),
        Tier.CHEAPEST,
    ),
    (
        rx(
            r"(?:(?:以后|默认)*都?(?:用|要|选))?(?:最好(?=的|$|[,，。!！\s])|最强|最高质量|"
            r"质量最好|效果最好|最高画质|顶级|"
            r"旗舰)(?:的)?(?:模型|版本|效果|质量)?(?=$|[^用])"
            r"|"
            r"\b(?:use\s+)?(?:the\s+)?(?:best|highest[- ]quality|top[- ]quality|"
            r"premium)\s+(?:model|quality|one|possible|version|option)\b"
            r"|\buse\s+the\s+best\b"
        ),
        Tier.BEST,
    ),
    (
        rx(
            r"(?:用|要|选)?(?:极速版?|快速版|快速模式|快速生成|快一?点|速度优先|"
            r"最快的?)(?:的)?(?:模型|模式|版本)?"
            r"|(?:用|要|选)快速"
            r"|\b(?:faster|fastest|quick|fast|speedy)\s+(?:model|mode|version|option|one)\b|"
            r"\bas\s+fast\s+as\s+possible\b"
            r"|\bspeed\s+priority\b|\bquickly\b|^\s*fast\s*$|\bfast\s*[:,]"
            r"|(?:用|要|选|使用)\s*(?:fast|quick|speed)\b|\b(?:quick|speed)\s+(?:mode|priority|first)\b"
            r"|\buse\s+(?:the\s+)?fast\b|\bfaster\b|^\s*(?:quick|speed)\s*$"
        ),
        Tier.FAST,
    ),
    (
        rx(
            r"(?:用|要|选)?(?:专业版|高质量|高品质|质量优先|画质优先|专业模式|pro版|"
            r"pro模式)(?:的)?(?:模型|模式|版本)?"
            r"|"
            r"\b(?:high[- ]quality|professional|quality\s+priority|pro\s+(?:mode|version|"
            r"model)|quality\s+mode)\b"
            r"|^\s*pro\s*$|\bpro\s*[:,]"
            r"|(?:用|要|选|使用)\s*(?:pro|quality)\b|\buse\s+(?:the\s+)?pro\b|\bquality\s+(?:first|"
            r"priority)\b"
            r"|^\s*(?:quality|professional)\s*$"
        ),
        Tier.PRO,
    ),
)


@dataclass(frozen=True, slots=True)
class TierMention:
    tier: Tier
    span: Span


def find_tiers(text: NormText, taken: list[Span]) -> list[TierMention]:
    found: list[TierMention] = []
    for pattern, tier in _TIER_PATTERNS:
        for _match, span in text.finditer(pattern):
            if overlaps(span, taken) or any(overlaps(span, [f.span]) for f in found):
                continue
            found.append(TierMention(tier, span))
    return sorted(found, key=lambda t: t.span)


# ---------------------------------------------------------------- unknown names

_UNKNOWN_PATTERNS = (
    rx(
        r"(?:用|使用|换成|改用|切换到|以后都用|"
        r"默认用)\s*(?P<name>[a-z][a-z0-9 .\-]{1,24}?)\s*(?:模型|来|生成|做|画|帮|出|,|，|"
        r"。|$)"
    ),
    rx(
        r"\b(?:use|using|switch\s+to|"
        r"try)\s+(?:the\s+)?(?P<name>[a-z][a-z0-9.\-]*(?:\s+[a-z0-9.\-]+){0,2}?)\s+model\b"
    ),
    rx(r"\bmodel\s*[:=]\s*(?P<name>[a-z][a-z0-9.\-]*(?:\s[a-z0-9.\-]+)?)"),
    rx(r"模型\s*[:：=]\s*(?P<name>[^\s,，。]{2,24})"),
    # A Chinese product name right after a use-verb and before a make-verb ("用即梦生成").
    rx(
        r"(?:用|使用|换成|改用|以后都用|默认用)(?P<name>[\u4e00-\u9fff]{2,4}?)(?:模型|来生成|来做|"
        r"来画|生成|画|做)"
    ),
)
# Chinese words that follow 用 but are not model names ("用手机拍", "用这张图生成").
_NOT_MODEL_CJK = rx(
    r"^(?:最|你|随便|哪个|什么|新的|这|那|我|你|他|她|它|图|照片|手机|相机|一|两|几|中文|英文|文字|"
    r"语音|声音|自己|原图|上面|下面)"
)
_NOT_MODELS = frozenset(
    {
        "ai",
        "pro",
        "fast",
        "hd",
        "the",
        "a",
        "an",
        "it",
        "this",
        "that",
        "best",
        "default",
        "cheapest",
        "my",
        "your",
        "same",
        "another",
        "different",
        "new",
        "old",
        "other",
    }
)


@dataclass(frozen=True, slots=True)
class UnknownModel:
    name: str
    span: Span
    suggestions: tuple[str, ...]  # primary model ids, closest first


def find_unknown_model(
    text: NormText, catalog: ModelCatalog, taken: list[Span], media: MediaType | None = None
) -> UnknownModel | None:
    for pattern in _UNKNOWN_PATTERNS:
        for match in islice(pattern.finditer(text.norm), MAX_MATCHES):
            start, end = match.span("name")
            name_span = text.span(start, end)
            name = text.original[name_span[0] : name_span[1]].strip()
            follow = re.match(r"\s*(?:模型|model)", text.norm[end:])
            span = text.span(match.start(), end + (follow.end() if follow else 0))
            if not name or overlaps(span, taken) or normalize_name(name) in _NOT_MODELS:
                continue
            if not name.isascii() and _NOT_MODEL_CJK.match(name):
                continue
            if catalog.resolve_alias(name) is not None:
                continue
            return UnknownModel(name, span, suggest(name, catalog, media=media))
    return None


def suggest(
    name: str, catalog: ModelCatalog, limit: int = 3, media: MediaType | None = None
) -> tuple[str, ...]:
    """Close catalog matches for a name (difflib over every alias), of the requested medium if given."""
    key = normalize_name(name)
    aliases = {**catalog.weak_aliases(), **catalog.strong_aliases()}
    close = difflib.get_close_matches(key, list(aliases), n=12, cutoff=0.5)
    out: list[str] = []
    for alias in close:
        model_id = aliases[alias]
        if model_id not in out:
            out.append(model_id)
    if not out:
        prefix = [m for a, m in aliases.items() if a[:3] == key[:3] and len(key) >= 3]
        out = list(dict.fromkeys(prefix))
    if media is not None:
        same = [m for m in out if (info := catalog.info(m)) is not None and info.media_type is media]
        out = same
    return tuple(out[:limit])
