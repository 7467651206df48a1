"""Explicit preference statements (seed 002 "When to write" / "When to clear")."""

from __future__ import annotations

from core.intent.models import ModelMention
from core.intent.text import NormText, Span, rx
from core.request import PreferenceIntent

_SAVE_CUES = frozenset(
    {
        "以后都用",
        "以后一直用",
        "以后就用",
        "以后用",
        "默认都用",
        "默认用",
        "默认使用",
        "一直用",
        "总是用",
        "每次都用",
        "都用",
        "我更喜欢用",
        "我更喜欢",
        "我喜欢用",
        "我喜欢",
        "喜欢用",
        "更喜欢",
        "切换到",
        "切换成",
        "切到",
        "换成",
        "换到",
        "改成",
        "改用",
        "选用",
        "使用",
        "用",
        "最好用",
        "选择",
        "选",
        "always use",
        "switch to",
        "change to",
        "use",
        "using",
        "prefer",
    }
)
_SAVE_PHRASES = rx(
    r"(?:把)?默认(?:的)?(?:模型)?(?:改成|换成|设为|设成|改为)?|以后|设为默认|设成默认|记住|"
    r"from\s+now\s+on|by\s+default|as\s+(?:my\s+)?default|"
    r"make\s+it\s+(?:my\s+)?default|"
    r"\balways\b|\bi\s+(?:prefer|like|love)\b|\bremember\b"
)
_NO_SAVE_RE = rx(
    r"(?:别|不用|不要|无需|不必)(?:帮我)?(?:记住|保存|存)|只用这一次|就这一次|仅此一次|只是这次|"
    r"这次先?用|这一次用|"
    r"\bjust\s+this\s+once\b|\bonly\s+this\s+time\b|\bthis\s+time\s+only\b|\bjust\s+for\s+this\s+one\b|"
    r"\bdon'?t\s+(?:remember|save)\b"
)
_CLEAR_RE = rx(
    r"用最新的?(?:模型)?|(?:用)?你觉得(?:最)?(?:合适|好)的?(?:模型)?|(?:随便|"
    r"哪个)(?:哪个)?(?:模型)?都(?:行|可以|好)|"
    r"(?:用|选)?最合适的(?:模型)?|用最好的(?:模型)?|你(?:来)?(?:帮我)?选(?:一个|一下|个)?|"
    r"帮我选(?:一个|个)?(?:模型)?|推荐一个(?:模型)?|"
    r"你推荐(?:的)?|自动选择?(?:模型)?|随便(?:选|用)(?:一个|个)?|都?用默认的?(?:模型)?|默认的就行|"
    r"用新的(?:模型)?|试试别的(?:模型)?|"
    r"换个(?:模型)?试试|换(?:个|一个)[^，,。]{0,8}模型|换一个(?:模型)?试试|换个别的|换一个别的|"
    r"重新推荐|不用(?:再)?(?:(?:记住|保存)(?:我的)?(?:偏好|选择)?|(?:我的)?偏好)了?|清除偏好|"
    r"^\s*(?:best|recommended|auto|default)\s*[.!]?\s*$|\buse\s+the\s+best\b|"
    r"\b(?:use\s+)?(?:the\s+)?best\s+model\b|\brecommended\b|\brecommend\s+(?:one|a\s+model|something)\b|"
    r"\byou\s+(?:choose|pick|decide)\b|\bpick\s+(?:one\s+)?for\s+me\b|"
    r"\bauto(?:matic(?:ally)?)?[- ]?(?:select|choose|pick)\b|"
    r"\buse\s+(?:the\s+)?default(?:\s+model)?\b|"
    r"\btry\s+(?:something\s+else|another\s+(?:one|model)|a\s+different\s+model)\b|"
    r"\b(?:forget|clear|reset|remove|delete)\s+(?:my\s+)?(?:model\s+)?(?:preference|default)s?\b|"
    r"\b(?:switch|go|change)\s+back\s+to\s+(?:the\s+)?default(?:\s+model)?\b|\bback\s+to\s+default\b|"
    r"恢复默认|改回默认|用回默认|换回默认|取消偏好|重置偏好|忘掉偏好|忘记偏好|清空偏好|"
    r"\bwhatever\s+(?:is\s+)?best\b"
)


def find_no_save_phrases(text: NormText) -> list[Span]:
    return [span for _, span in text.finditer(_NO_SAVE_RE)]


def find_save_phrases(text: NormText) -> list[Span]:
    """ "from now on" / "以后" / "by default": meta words, not part of the creative prompt."""
    return [span for _, span in text.finditer(_SAVE_PHRASES)]


def find_clear(text: NormText) -> list[Span]:
    return [span for _, span in text.finditer(_CLEAR_RE)]


def preference_intent(
    text: NormText, mentions: list[ModelMention], clear_spans: list[Span]
) -> PreferenceIntent | None:
    """SAVE when a model is named with a use/prefer verb; CLEAR when the user hands the choice back."""
    named = mentions[-1] if mentions else None
    if named is not None and _NO_SAVE_RE.search(text.norm):
        return None  # "这次用可灵，不用记住": use it, but do not remember it
    if named is not None and (named.cue in _SAVE_CUES or _SAVE_PHRASES.search(text.norm)):
        return PreferenceIntent.SAVE
    if clear_spans:
        return PreferenceIntent.CLEAR
    return None
