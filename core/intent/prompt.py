"""Turning what is left of the message into the creative prompt: leading commands ("帮我生成一段视频：",
"please make a video of"), trailing media nouns ("…的视频") and orphan punctuation go; the creative
text itself is kept as written."""

from __future__ import annotations

import re

from core.intent.text import NormText, rx
from core.types import MediaType

_MEDIA_NOUN = (
    r"(?:短视频|视频|短片|影片|动画|小动画|图片|图像|照片|插画|插图|图|"
    r"画|背景音乐|纯音乐|音乐|歌曲|儿歌|歌|"
    r"曲子|bgm|配乐|语音|音频|旁白|videos?|clips?|animations?|images?|pictures?|photos?|pics?|"
    r"illustrations?|songs?|music\s+videos?|music\s+(?:track|piece|clip)|music|tracks?|tunes?|"
    r"speech|audio|voice\s?-?over|"
    r"recording)"
)
# Multi-character media nouns are safe to strip at the end without 的 ("猫咪视频"; "山水画" stays).
_SEPARATOR_AHEAD = r"(?=\s*(?:[,，:：。.;；、!！—]|$))"
_LEADING = [
    rx(p)
    for p in (
        r"^(?:@\S+\s*)+",
        r"^/[a-z][a-z_-]*\b",
        r"^(?:(?:text|image|img|reference(?:[\s-]+image)?|first[\s-]*(?:and|/|-)?[\s-]*last[\s-]+frames?)"
        r"[\s-]+to[\s-]+(?:video|image)|i2v|t2v|t2i|i2i|img2img|img2vid)\b",
        r"^(?:这张图片?|这张照片|这张|此图)(?=[,，\s])",
        r"^个(?!人|性|子|体|别)(?=[\u4e00-\u9fff])",
        r"^(?:这|那)?(?:两|2|三|3|几)张(?:图片?|照片)(?:里|中)的?",
        r"^(?:use|using)\s+(?:these|them|this|it)\s+as\s+(?:the\s+|a\s+)?(?:character\s+|style\s+)?"
        r"references?\b",
        r"^(?:再来一个|再来一次|再生成一个|再做一个|重新生成|重新来一个|重来)",
        r"^(?:hi|hello|hey|yo|ok|okay|嗨|哈喽|你好|您好|在吗|嘿)[呀啊哇吖]?(?:\s+(?:bot|there|"
        r"imabot))?(?![a-z])[\s,，!！。.]*",
        r"^(?:请你|请您|请|麻烦你|麻烦|劳驾|拜托|帮我们|帮我|帮忙|帮|给我们|给我|替我|为我|我想要|"
        r"我想|我要|我需要|想要|需要|还是|那就|算了|要不|不如|就(?!行|好|可以)|那|"
        r"能不能|能否|可不可以|可以|你能|你可以|能|你|来吧|来)",
        r"^(?:我们|咱们)(?=想|要|需要|希望)",
        r"^最好(?:是)?(?=[,，\s]|$)",
        r"^[吗呢吧嘛了](?=[\s,，:：!！?？]|$)",
        r"^(?:下面|以下)?(?:这段话|这句话|这段文字|这些文字|这段内容|这段|以下内容|下面的话)",
        r"^for\s+(?:instagram|ig|tiktok|youtube|reels?|shorts|my\s+\w+|our\s+\w+)\b"
        r"(?:\s+(?:of|about|showing))?",
        r"^(?:it|this)\b(?=\s*(?:and\b|[,:]|$))|^for\b|^(?:with|using)\s*(?=[:,])",
        r"^(?:please|pls|plz|kindly|can\s+you|could\s+you|would\s+you|will\s+you|i\s+want\s+(?:you\s+)?to|"
        r"i'?d\s+like\s+(?:you\s+)?to|i\s+would\s+like\s+(?:you\s+)?to|i\s+need\s+(?:you\s+to)?|i\s+want|"
        r"i'?d\s+like|i\s+would\s+like|i'?d\s+love|let'?s|help\s+me|go\s+ahead\s+and|just|"
        r"what\s+about|how\s+about|one\s+more|another\s+one)\b",
        r"^(?:this|the|these)\s+(?:images?|photos?|pictures?|pics?)\b\s*[:,]?",
        r"^(?:using|with|from)\s+(?:these|this|the|my)\s+(?:images?|photos?|pictures?|pics?)\b",
        r"^(?:把|将|用|根据|基于|让|给|以)(?:这张|这幅|这个|该|此|这些|这两张|这几张)?(?:图片?|"
        r"照片|图像|相片)"
        r"(?:作为|当作|当成|做|为)(?:首帧|第一帧|开头|起始帧|参考图?|参考)",
        r"^(?:把|将|用|根据|基于|让|给|以)(?:这张|这幅|这个|该|此|这些|这两张|这几张)?(?:图片?|"
        r"照片|图像|相片)"
        r"(?:(?:里的?|中的?|上的?)|(?:做成|变成|生成|转成|转换成|制作成|做)(?:一个|一段)?(?:小|"
        r"短)?(?:视频|动画|短片))",
        r"^(?:按|按照|照着|参考|依照|参照)(?:这张|这个|这幅)?(?:图片?|照片)(?:里|中)?的?"
        r"(?:风格|画风|色调|角色|人物)?",
        r"^(?:use|using|with)\s+(?:this|the)\s+(?:image|photo|picture|pic)\s+as\s+(?:the\s+|a\s+)?"
        r"(?:first\s+frame|start(?:ing)?\s+frame|reference|style\s+reference)\b",
        r"^(?:from|using|with|based\s+on)\s+(?:this|the|my)\s+(?:image|photo|picture|pic)\b"
        r"(?:\s*,)?(?:\s+(?:where|in\s+which|and))?",
        r"^(?:重新生成|生成出|生成|制作|创作|创建|绘制|画出|画|写|作|做成|做|出|弄|整|搞|渲染|拍摄|"
        r"拍|合成|转换成|转换为|转成|听|"
        r"转为|变成|朗读|念出来|念|读出来|读|说|唱|来)(?:一下)?",
        r"^(?:generate|create|make|draw|paint|render|produce|compose|write|design|animate|turn|convert|"
        r"read\s+(?:out|aloud)|read|say|speak|sing|give\s+me|show\s+me|get\s+me|do|craft|build)\b",
        r"^(?:me|us)\b(?=\s+(?:a|an|some|the)\b)",
        r"^(?:图生视频|文生视频|图生图|文生图|参考生视频|首帧\s*[+＋和与&/]?\s*尾帧|首尾帧|首帧|尾帧)",
        r"^(?:这是|这张是|第[一二1-2]张(?:图)?是|前一张是|后一张是)(?:首帧|尾帧|第一帧|最后一帧|开头|结尾)",
        r"^(?:用)?(?:这)?(?:两|2|三|3|几|多)张(?:图片?|照片)(?:做成?|作为|当作?|串成|"
        r"合成)?(?:首尾帧|一个视频|视频)?",
        r"^(?:(?:一|1|几|两)?(?:个|段|张|幅|首|支|部|条))?\s*的?\s*" + _MEDIA_NOUN + _SEPARATOR_AHEAD,
        r"^(?:一|1|几|两)(?:段|张|幅|首|部|份)|^(?:首(?!帧|尾|先|都|次|页)|段(?!子|落))",
        r"^(?:一|1)?个\s*(?=logo|图|画|头像|海报|壁纸|插画|视频|动画|mv|关于)",
        r"^(?:短视频|视频|短片|影片|动画|图片|图像|照片|插画|插图|背景音乐|纯音乐|音乐|歌曲|语音|音频|bgm)",
        r"^(?:的|之)|^(?:and|to|then)\b|^(?:用|使用)(?=\s|生成|做|画|来|制作)|^要(?=[\s,，])|"
        r"^(?:要求|需求)[:：]?",
        r"^(?:(?:一|1|几|两)?(?:个|支|条)|(?:an?|one|some|me\s+an?|me)\s+"
        r"(?:(?:short|quick|nice|cool|beautiful|new|little)\s+)?)" + _MEDIA_NOUN + r"(?![\-a-z])",
        r"^个(?=[a-z])",
        r"^" + _MEDIA_NOUN + r"(?=\s*(?:[,，:：。.;；、—]|of\b|about\b|showing\b|where\b|that\b|please\b|"
        r"with\b|featuring\b|"
        r"depicting\b|内容|关于|主题|描述|$))",
        r"^(?:内容是|内容为|内容：|内容:|主题是|主题为|关于|描述|讲述|画面是|画面为|画面：|场景是|是|为)",
        r"^(?:of|about|showing|that\s+shows|where|featuring|depicting|with\s+the\s+text|"
        r"with\s+text|saying|that\s+says)\b",
        r"^[\s,，:：。.;；、!！?？\-—~～|#/]+",
    )
]
# The request's own media nouns may go at the end ("一只猫在弹钢琴的视频"); other media words are content
# ("a video for a rock song" keeps "song"). Multi-character nouns need no 的; "山水画" keeps its 画.
_OWN_NOUNS = {
    MediaType.VIDEO: (
        r"(?:短视频|视频|短片|影片|动画|videos?|clips?|animations?|movie)",
        r"(?:视频|短片|动画)",
    ),
    MediaType.IMAGE: (
        r"(?:图片|图像|照片|插画|插图|images?|pictures?|photos?|pics?|illustrations?)",
        r"(?:图片|图像|照片|插画|插图|图|画)",
    ),
    MediaType.SPEECH: (r"(?:语音|音频|speech|audio|voice\s?-?over)", r"(?:语音|音频)"),
}
_TRAILING_SOURCES = (
    r"(?:\s@\S+)+$",
    r"(?:谢谢你?|谢啦|多谢|thanks?(?:\s+you)?|thx|please|pls|吧|呢|哦|哈|啊|呀)\s*[.!！。~～]*$",
    r"(?:(?<![a-z])(?:instead|this\s+time|again|now)|这次|这一次|再试一次|再来一次)\s*[?？.!！。]*$",
    r"(?<![a-z])(?:using|with|from)\s+(?:these|this|the|my)(?:\s+(?:images?|photos?|pictures?|pics?))?$",
    r"(?:^|(?<=[\s,，。:：]))(?:生成|制作|做|画)(?:一下|出来)?$",
    r"(?<![a-z])(?:with|using|via|by|in|on|for|and|to)$",
    r"[\s,，:：;；、\-—~～?？|#]+$",
    r"(?:要求|需求|参数|设置|重新生成|再生成一次)[:：]?$",
    r"(?:就行|就好|就可以|即可|都行|^行)$",
    r"(?<![a-z])(?:make|keep)\s+(?:it|them)(?:\s+long)?$",
)
_TRAILING = [rx(p) for p in _TRAILING_SOURCES]
_TRAILING_BY_MEDIA = {
    media: [rx(r"(?:的|之)" + after_de + r"$"), rx(bare + r"$"), *_TRAILING]
    for media, (bare, after_de) in _OWN_NOUNS.items()
}
_ORPHAN_PUNCT = rx(r"\s*([,，、;；|#])(?:\s*[,，、;；:：|#])+")
_SPACES = rx(r"[ \t\u3000]{2,}")
_QUOTED = rx(r"[“\"「『‘'](.+?)[”\"」』’']")


# A head made only of command words ("根据首尾帧生成视频：", "用文生图功能画：", "内容如下：", "prompt:"): the
# content is what follows the colon.
_COMMAND_HEAD = rx(
    r"^(?:请你?|帮我|帮忙|给我|麻烦你?|用|使用|根据|按照|按|通过|以|基于|来|一下|一个|一段|一张|一首|一幅|个|"
    r"的|功能|模式|方式|工具|生成|制作|创作|做|画|写|出|视频|短片|动画|图片|图|照片|图像|音乐|歌|歌曲|"
    r"语音|首尾帧|首帧|尾帧|图生视频|文生视频|图生图|文生图|参考图|参考|内容|如下|是|为|要求|提示词|描述|主题|"
    r"画面|具体|这样|下面|以下|please|make|create|generate|draw|render|a|an|the|video|clip|image|picture|"
    r"song|music|speech|with|using|from|prompt|description|content|following|as|follows|below|mode|"
    r"text|to|first|last|frames?|and|of|me|[\s,，、])+[:：]"
)


def clean_prompt(remaining: str, media: MediaType = MediaType.VIDEO) -> str:
    """Music prompts keep their nouns ("…的背景音乐", "轻音乐"): the genre is the request."""
    text = _SPACES.sub(" ", _ORPHAN_PUNCT.sub(r"\1", remaining)).strip()
    head = _COMMAND_HEAD.match(NormText.of(text[:120]).norm)
    if head is not None and text[head.end() :].strip():
        text = text[NormText.of(text[:120]).span(0, head.end())[1] :].strip()
    text = _strip_repeatedly(text, _LEADING, leading=True, rounds=12)
    text = _strip_repeatedly(text, _TRAILING_BY_MEDIA.get(media, _TRAILING), leading=False, rounds=6)
    return text.strip()


def _strip_repeatedly(text: str, patterns: list[re.Pattern[str]], *, leading: bool, rounds: int) -> str:
    """Strip scaffolding at one edge until nothing more comes off (at most ``rounds`` times)."""
    for _ in range(rounds):
        stripped = _strip_once(text, patterns, leading=leading)
        if stripped == text:
            break
        text = stripped
    return text


_EDGE = 240  # leading/trailing phrases are short: only this much of each end is examined


def _strip_once(text: str, patterns: list[re.Pattern[str]], *, leading: bool) -> str:
    offset = 0 if leading else max(0, len(text) - _EDGE)
    edge = text[:_EDGE] if leading else text[offset:]
    norm = NormText.of(edge)
    for pattern in patterns:
        match = pattern.search(norm.norm)
        if match is None or match.end() == match.start():
            continue
        if leading and match.start() == 0:
            _, end = norm.span(0, match.end())
            return text[end:].lstrip()
        if not leading and match.end() == len(norm.norm):
            start, _ = norm.span(match.start(), match.end())
            return text[: offset + start].rstrip()
    return text


def quoted_text(text: str) -> str | None:
    """The text inside the first pair of quotes, if any ("朗读：“今天天气很好”")."""
    match = _QUOTED.search(text)
    return match.group(1).strip() if match and match.group(1).strip() else None


def after_colon(text: str) -> str | None:
    """What follows the first colon ("把这段话转成语音：今天天气很好")."""
    for sep in ("：", ":"):
        head, found, tail = text.partition(sep)
        if found and tail.strip() and len(head) <= 40:
            return tail.strip()
    return None
