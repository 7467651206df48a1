"""A normalized view of a message that remembers where each character came from.

Matching runs on the normalized text (NFKC: full-width letters, digits and punctuation become ASCII;
case-folded); removal of matched phrases happens on the original text so the prompt keeps the user's
own characters.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from core.catalog.models import STRIP_CHARS as _STRIP

Span = tuple[int, int]  # [start, end) in original-text indices

# Matches kept per finder. Repeating a phrase hundreds of times adds nothing but cost (overlap checks
# are pairwise), so very long messages stop collecting after this many.
MAX_MATCHES = 48


def rx(pattern: str) -> re.Pattern[str]:
    """Compile with ASCII classes: ``\\b``/``\\w`` must treat CJK as a boundary ("用pro生成")."""
    return re.compile(pattern, re.ASCII)


@dataclass(frozen=True, slots=True)
class NormText:
    original: str
    norm: str
    origin: tuple[int, ...]  # norm index -> original index

    @classmethod
    def of(cls, text: str) -> NormText:
        folded_whole = text.casefold()
        if len(folded_whole) == len(text) and unicodedata.is_normalized("NFKC", text):
            # The common case, most chat text: every character is its own NFKC form and folds to one
            # character, so the per-character walk below would give this same text, index for index.
            return cls._with_typos_fixed(text, folded_whole, list(range(len(text))))
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(text):
            folded = unicodedata.normalize("NFKC", ch).casefold()
            if ch == "\u3000":
                folded = " "
            for part in folded:
                chars.append(part)
                origin.append(i)
        return cls._with_typos_fixed(text, "".join(chars), origin)

    @classmethod
    def _with_typos_fixed(cls, text: str, norm: str, origin: list[int]) -> NormText:
        typos = _typo_pattern()
        if typos is not None and typos.search(norm):
            norm, origin = _fix_typos(norm, origin, typos)
        return cls(text, norm, tuple(origin))

    def window_before(self, index: int, width: int = 16) -> tuple[NormText, int]:
        """The ``width`` original characters before ``index``, normalized, and where they start."""
        start = max(0, index - width)
        return NormText.of(self.original[start:index]), start

    def span(self, start: int, end: int) -> Span:
        """Original-text span of the normalized range [start, end)."""
        if start >= end or not self.origin:
            return (0, 0)
        return self.origin[start], self.origin[end - 1] + 1

    def finditer(self, pattern: re.Pattern[str]) -> Iterable[tuple[re.Match[str], Span]]:
        count = 0
        for match in pattern.finditer(self.norm):
            if match.end() > match.start():
                yield match, self.span(match.start(), match.end())
                count += 1
                if count >= MAX_MATCHES:
                    return


def _fix_typos(norm: str, origin: list[int], pattern: re.Pattern[str]) -> tuple[str, list[int]]:
    """Replace known typos ("视屏", "vidoe"); each new character keeps the origin of the typo it replaces."""
    fixes = intent_words()["typos"]
    out: list[str] = []
    out_origin: list[int] = []
    pos = 0
    for match in pattern.finditer(norm):
        start, end = match.span()
        out.append(norm[pos:start])
        out_origin += origin[pos:start]
        fixed = fixes[match.group(0)]
        out.append(fixed)
        out_origin += [origin[start + min(k, end - start - 1)] for k in range(len(fixed))]
        pos = end
    out.append(norm[pos:])
    out_origin += origin[pos:]
    return "".join(out), out_origin


@cache
def intent_words() -> Mapping[str, Any]:
    """``core/data/intent_words.toml``: the parser's word tables (platform ratios, subject cues, typos)."""
    raw = resources.files("core.data").joinpath("intent_words.toml").read_text(encoding="utf-8")
    return tomllib.loads(raw)


@cache
def _typo_pattern() -> re.Pattern[str] | None:
    typos = intent_words().get("typos")
    if not isinstance(typos, dict) or not typos:
        return None
    words = sorted(typos, key=len, reverse=True)
    return rx("|".join(rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w) for w in words))


@dataclass(frozen=True, slots=True)
class CompactText:
    """Normalized text without spaces, hyphens, underscores and dots (the alias key alphabet)."""

    text: str
    origin: tuple[int, ...]  # compact index -> original index

    @classmethod
    def of(cls, text: str | NormText) -> CompactText:
        norm = text if isinstance(text, NormText) else NormText.of(text)
        chars: list[str] = []
        origin: list[int] = []
        for ch, source in zip(norm.norm, norm.origin, strict=True):
            if ch in _STRIP or ch.isspace():
                continue
            chars.append(ch)
            origin.append(source)
        return cls("".join(chars), tuple(origin))

    def span(self, start: int, end: int) -> Span:
        return self.origin[start], self.origin[end - 1] + 1


def remove_spans(text: str, spans: Iterable[Span]) -> str:
    """``text`` without the given spans (overlaps merged). A removed span becomes a space only between two
    ASCII letters/digits ("a 10s clip" -> "a clip"); between Chinese characters it leaves nothing."""
    merged: list[list[int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[str] = []
    pos = 0
    for start, end in merged:
        out.append(text[pos:start])
        left = text[start - 1] if start > 0 else ""
        right = text[end] if end < len(text) else ""
        word_edge = (left.isascii() and left.isalnum()) or (right.isascii() and right.isalnum())
        if word_edge and left and right and not left.isspace() and not right.isspace():
            out.append(" ")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def overlaps(span: Span, taken: Iterable[Span]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in taken)


_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_EN_NUMBERS = {
    "zero": 0,
    "one": 1,
    "a": 1,
    "an": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "half": 0.5,
    "half a": 0.5,
}

NUMBER_RE = (
    r"(?:\d+(?:\.\d+)?|[零〇一二两俩三四五六七八九十百半]+|half an?|half|an?|one|two|"
    r"three|four|five|"
    r"six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    r"eighteen|nineteen|twenty|thirty|forty|fifty|sixty|ninety)"
)


def parse_number(raw: str) -> float | None:
    """ "10" / "1.5" / "十五" / "二十" / "两" / "半" / "ten" -> a number; None if not a number."""
    token = raw.strip().casefold()
    if not token:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", token):
        return float(token)
    if token in _EN_NUMBERS:
        return float(_EN_NUMBERS[token])
    if token == "半":
        return 0.5
    if not re.fullmatch(r"[零〇一二两俩三四五六七八九十百]+", token):
        return None
    total = 0
    current = 0
    for ch in token:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _CN_DIGITS[ch] if current and token.count("十") == 0 else _CN_DIGITS[ch]
    return float(total + current)
