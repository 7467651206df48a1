"""How many results the user wants ("画4张", "两首歌", "two versions"): the ``n`` parameter."""

from __future__ import annotations

from itertools import islice

from core.intent.params import Finding
from core.intent.text import MAX_MATCHES, NormText, parse_number, rx

MAX_COUNT = 100  # more than this is no count of pictures anyone wants at once
_ZH = rx(
    r"(?<![\d.])(?P<n>\d{1,3}|[两二三四五六七八九十]{1,2})\s*"
    r"(?:张|幅|款|个版本|版(?!本)|种(?:不同的?)?(?:风格|版本|样式|设计)?|首|段|"
    r"个(?=\s*(?:不同|版本|方案|选项|视频|短片|logo|图|头像|海报|设计|封面|壁纸|表情包|贴纸)))"
)
_EN = rx(
    r"\b(?P<n>\d{1,3}|two|three|four|five|six|seven|eight|nine|ten)\s+(?:different\s+|more\s+|distinct\s+)?"
    r"(?:versions?|variations?|variants?|options|images|pictures|pics|photos|drawings|illustrations|logos|"
    r"posters|designs|songs|tracks|clips|videos|takes|wallpapers|avatars|icons|stickers|covers)\b"
)


# A count of results follows a make-verb ("画4张", "写两首"); without one it counts the inputs or the
# subject ("两张图做首尾帧", "两张图片里的人"). English counts of inputs follow a determiner.
_ZH_VERB_BEFORE = rx(r"(?:画|生成|做|来|出|要|写|给我|创作|制作|设计|弄|整|搞|p|渲染)\S{0,3}$")
_EN_INPUTS_BEFORE = rx(r"\b(?:these|those|the|my|both|attached|with|from|using|of)\s+$")


def find_counts(text: NormText) -> list[Finding]:
    found: list[Finding] = []
    for pattern, before in ((_ZH, _ZH_VERB_BEFORE), (_EN, _EN_INPUTS_BEFORE)):
        for match in islice(pattern.finditer(text.norm), MAX_MATCHES):
            window = text.norm[max(0, match.start() - 8) : match.start()]
            if (before.search(window) is None) is (pattern is _ZH):
                continue
            value = parse_number(match.group("n"))
            if value is None or not 2 <= value <= MAX_COUNT or value != int(value):
                continue
            span = text.span(*match.span("n"))
            unit_end = text.span(match.start(), match.end())
            found.append(
                Finding("n", int(value), (span[0], unit_end[1]), text.original[span[0] : unit_end[1]])
            )
    return sorted(found, key=lambda f: f.span)
