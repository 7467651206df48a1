"""What belongs to the picture rather than to the request: values a sign shows ("招牌上写着4K"), models a
video is about ("讲解可灵和海螺的区别"), shape words of the subject ("竖着耳朵的兔子"); and the usual
shape of a named platform ("抖音视频" -> 9:16). Word tables: ``core/data/intent_words.toml``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import islice

from core.intent.models import ModelMention
from core.intent.params import Finding
from core.intent.text import MAX_MATCHES, NormText, Span, intent_words, overlaps, rx

_QUOTED = rx(r"[“\"「『][^”\"」』]{1,200}[”\"」』]")
_CLAUSE_END = rx(r"[,，。.;；!！?？\n]")


@dataclass(frozen=True, slots=True)
class _Tables:
    platforms: tuple[tuple[re.Pattern[str], str], ...]
    shows: re.Pattern[str]
    topic: re.Pattern[str]
    joiner: re.Pattern[str]
    ambiguous_shape: re.Pattern[str]
    output_after: re.Pattern[str]


@cache
def _tables() -> _Tables:
    words = intent_words()
    subject = words["subject"]
    return _Tables(
        platforms=tuple((rx(p["pattern"]), str(p["ratio"])) for p in words["platform_ratio"]),
        shows=rx(subject["shows"]),
        topic=rx(subject["topic"]),
        joiner=rx(subject["joiner"]),
        ambiguous_shape=rx(subject["ambiguous_shape"]),
        output_after=rx(subject["output_after"]),
    )


def shown_spans(text: NormText) -> list[Span]:
    """Quoted text, and what a sign / shirt / screen shows up to the end of its clause."""
    spans = [span for _, span in text.finditer(_QUOTED)]
    for match in islice(_tables().shows.finditer(text.norm), MAX_MATCHES):
        end = _CLAUSE_END.search(text.norm, match.end())
        stop = end.start() if end else len(text.norm)
        if stop > match.end():
            spans.append(text.span(match.end(), stop))
    return spans


def topic_models(text: NormText, mentions: list[ModelMention]) -> list[ModelMention]:
    """Mentions that are the content's topic: no use-verb picks them, and they come as a list ("Sora和Veo")
    or right after a topic word ("讲解可灵", "comparing Kling")."""
    free = [m for m in mentions if not m.cue and not m.negated]
    out: list[ModelMention] = []
    for index, mention in enumerate(free):
        neighbours = free[index - 1 : index] + free[index + 1 : index + 2]
        listed = any(_joined(text.original, mention, other) for other in neighbours)
        before = NormText.of(text.original[max(0, mention.alias_span[0] - 12) : mention.alias_span[0]])
        after = NormText.of(text.original[mention.span[1] : mention.span[1] + 12])
        if listed or _tables().topic.search(before.norm) or _tables().topic.match(after.norm.lstrip("的 ")):
            out.append(mention)
    return out


def _joined(original: str, a: ModelMention, b: ModelMention) -> bool:
    first, second = (a, b) if a.alias_span[0] < b.alias_span[0] else (b, a)
    between = NormText.of(original[first.alias_span[1] : second.alias_span[0]]).norm
    return _tables().joiner.match(between) is not None


def output_shapes(text: NormText, findings: list[Finding]) -> list[Finding]:
    """Drop shape words that describe the subject ("竖着耳朵的兔子", "方形的房子")."""
    tables = _tables()
    kept = []
    for finding in findings:
        if finding.field == "aspect_ratio" and tables.ambiguous_shape.match(NormText.of(finding.phrase).norm):
            after = NormText.of(text.original[finding.span[1] : finding.span[1] + 6]).norm
            if not tables.output_after.match(after):
                continue
        kept.append(finding)
    return kept


def platform_aspects(text: NormText, taken: list[Span]) -> list[Finding]:
    """The usual shape of a named platform or device, as ``implied_aspect_ratio`` findings."""
    found: list[Finding] = []
    for pattern, ratio in _tables().platforms:
        for _match, span in text.finditer(pattern):
            if not overlaps(span, taken + [f.span for f in found]):
                found.append(Finding("implied_aspect_ratio", ratio, span, text.original[span[0] : span[1]]))
    return sorted(found, key=lambda f: f.span)
