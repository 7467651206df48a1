"""Which medium the user wants (video / image / music / speech) and which task type that makes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.intent.text import NormText, Span, overlaps, rx
from core.types import Attachment, AttachmentKind, MediaType, TaskType

# Words that name the thing to produce. The earliest one in the message wins: the request's object comes
# before the content description ("生成一段视频，一个女孩在唱歌").
_REFERRING = "".join(
    f"(?<!{w})"
    for w in (
        "这",
        "那",
        "这张",
        "那张",
        "这幅",
        "这个",
        "该",
        "上面的",
        "附件",
        "我的",
        "原",
        "和",
        "与",
        "跟",
        "用",
        "把",
        "根据",
        "参考",
        "按照",
        "基于",
        "以",
        "拍的",
        "拍摄的",
    )
)
# The thing to make is for an existing video ("给我的视频配个背景音乐"): these outrank every other word.
_TARGET_PATTERNS: tuple[tuple[re.Pattern[str], MediaType], ...] = (
    (
        rx(
            r"(?:给|为|帮)(?:我的|我|这个|这段|你的|一个|一段)?(?:视频|短片|vlog|片子|影片|动画)"
            r"(?:配|加|做|写|搭)(?:个|一段|一首|上|点|首)?(?:背景音乐|bgm|音乐|配乐|纯音乐)|"
            r"(?:music|bgm|soundtrack)\s+for\s+(?:my|a|the|this)\s+(?:video|clip|vlog)"
        ),
        MediaType.MUSIC,
    ),
    (rx(r"配(?:个|一段|段|一下)音(?!乐)|voice\s+(?:it|this)"), MediaType.SPEECH),
)
_MEDIA_PATTERNS: tuple[tuple[re.Pattern[str], MediaType], ...] = (
    (rx(r"^\s*/(?:tts|speech|speak|say|voice|read)\b"), MediaType.SPEECH),
    (rx(r"^\s*/(?:music|song|bgm)\b"), MediaType.MUSIC),
    (
        rx(
            r"^\s*/(?:video|vid|animate)\b|\bmusic\s+videos?\b|\b(?:text|image|img|reference(?:[\s-]+image)?|"
            r"first[\s-]*(?:and|/|-)?[\s-]*last[\s-]+frames?)[\s-]+to[\s-]+video\b|\b(?:i2v|t2v|img2vid)\b"
        ),
        MediaType.VIDEO,
    ),
    (rx(r"\b(?:text|image|img)[\s-]+to[\s-]+image\b|\b(?:t2i|i2i|img2img)\b"), MediaType.IMAGE),
    (rx(r"^\s*/(?:image|img|draw|imagine|picture)\b"), MediaType.IMAGE),
    (
        rx(
            r"语音合成|文字转语音|文本转语音|转成语音|转为语音|转语音|变成语音|生成语音|"
            r"合成语音|朗读|念一下|念出来|念给我|读一下|读出来|"
            r"读给我听|读这段|配音|播报|旁白|tts|text[- ]to[- ]speech|"
            r"read\s+(?:it\s+|this\s+|that\s+)?(?:aloud|out)|\bread\s+(?:it|this|that)\b[^:]{0,24}:|"
            r"\bvoice[- ]?over\b|\bnarrat(?:e|ion)\b|\bspeech\b|语音|说出来|念(?=[:：“\"「])|"
            r"\bsay\s*(?=[\"“:])|\bin\s+an?\s+[a-z]+\s+voice\b|"
            r"读(?=[:：“\"「])"
        ),
        MediaType.SPEECH,
    ),
    (
        rx(
            r"(?<!这段)(?<!那段)(?<!这首)(?<!这个)(?<!配上)(?<!用这段)(?:背景音乐|纯音乐|音乐)|"
            r"歌曲|儿歌|童谣|钢琴曲|吉他曲|小提琴曲|乐曲|舞曲|进行曲|摇篮曲|交响曲|协奏曲|奏鸣曲|"
            r"圆舞曲|小夜曲|轻音乐|"
            r"民谣|爵士乐|摇滚乐|电子乐|交响乐|伴奏|一首.{0,16}(?:歌|曲)|(?<!这)(?<!那)首歌|"
            r"写.{0,12}歌|作曲|编曲|配乐|"
            r"bgm|曲子|旋律|说唱|唱一|主题曲|插曲|白噪音|环境音|氛围音|铃声|\bmusic\b(?!\s+video)|"
            r"\bsongs?\b|\blo-?fi\b|"
            r"\bringtone\b|\bwhite\s+noise\b|\bambient\s+sound|"
            r"\bsoundtrack\b|\bjingle\b|\bmelody\b|\binstrumental\b|\blyrics\b|\brap\b|"
            r"\bbeat\b|\btrack\b|\btune\b|\bsing\b"
        ),
        MediaType.MUSIC,
    ),
    (
        rx(
            r"文生视频|图生视频|(?<!这个)(?<!这段)(?<!那段)(?<!该)(?<!原)视频|短片|影片|动画(?!风|画风|效果|滤镜|感)|短剧|"
            r"动起来|动态化|"
            r"让.{0,8}动|活起来|运镜|动图|gif|"
            r"\bvideos?\b|\bclips?\b|\banimation\b|\bimage\s+to\s+video\b|\bimg2vid\b|\bcome\s+alive\b|"
            r"\bbring\s+(?:it|this|them)\s+to\s+life\b|"
            r"\banimate\b|\bmovie\b|\bfootage\b|\bmv\b|\bcinematic\s+shot\b|首尾帧|首帧|尾帧"
        ),
        MediaType.VIDEO,
    ),
    (
        rx(
            r"文生图|图生图|修图|p图|抠图|换背景|去背景|改图|上色|卡通化|动漫化|"
            r"(?:改成|变成|修成|转成|换成).{0,12}(?:风格|效果|画风|样子|背景|色调|滤镜|画)|"
            + _REFERRING
            + r"(?:图片|图像|照片|插画|插图|海报|壁纸|头像|封面|配图|贴纸|图标|漫画|"
            r"表情包|画作|相片|写真)(?!动|里|中|上的)|"
            r"(?:画|生成|做|来|出|制作)\s*(?:一|1|几)?张|"
            r""
            r"(?:画|绘制|画出|生成|来|做|出|p)(?:一|1|几)?(?:张|幅|个)?(?:图|画)|^画|"
            r"(?<=[帮给请])画|(?:帮我|给我|替我|为我|请你|麻烦你)画(?!面|质|风)|画一|"
            r"(?<!this )(?<!that )(?<!the )(?<!my )(?<!attached )(?<!these )(?<!first )(?<!second )(?<!last )"
            r"\b(?:images?|pictures?|photos?|pic|illustration|poster|wallpaper|avatar|drawing|"
            r"painting|artwork|"
            r"logo|icon|sketch|thumbnail|banner|flyer|meme|sticker|infographic)\b(?![\s-]+to[\s-]+video)|"
            r"\b(?:portrait\s+of|draw|paint|edit\s+this)\b"
            r"|\b(?:make|turn)\s+(?:this|the|my)\s+(?:photo|picture|image|pic)\s+look\b|\bstyle\s+transfer\b"
            r"|\bretouch\b|\bphotoshop\b"
        ),
        MediaType.IMAGE,
    ),
)
# Editing words: an image request only when nothing else names a medium ("把图里的猫变成狗").
_EDIT_PATTERN = rx(
    r"\bchange\s+(?:the\s+)?(?:style|background|colou?rs?)\b|\bupscale\b|\benhance\b|\bretouch\b|"
    r"\b(?:turn|convert)\s+(?:it|this|them)\s+into\s+(?:a|an)\s+(?!video|clip|animation|movie)|"
    r"(?:把|将).{0,12}(?:变成|改成|换成|替换成|修成)|换个?背景|加个|加上|去掉|移除|抠(?:掉|出|图)|p一下|"
    r"修一下|美颜|磨皮|扩图|扩展|扩充|延展|外扩|补全|补完整|戴上|穿上|换上|去除|擦掉|消除|修复|修补|上色|"
    r"\b(?:replace|remove|add|erase)\s+(?:the|a|an|his|her|their|this|that)\b|"
    r"\bchange\s+the\s+(?:background|color|colour)\b|\bout-?paint|\buncrop\b|\bcolou?ri[sz]e\b|"
    r"\b(?:extend|expand|widen)\s+(?:the\s+)?(?:image|picture|photo|canvas|it|this|frame)\b|\brestore\b|"
    r"\b(?:make|turn)\s+(?:it|this|him|her|them)\s+(?:into\s+)?(?:a|an)\s+(?!video|clip|animation|movie|gif)|"
    r"\b(?:make|turn|paint|colou?r)\s+(?:the\s+|his\s+|her\s+)?\w+\s+(?:red|blue|green|purple|pink|yellow|orange|"
    r"black|white|golden|gr[ae]y|brown|silver)\b"
)
# Two pictures made into one ("把这两张照片合成一张", "put the cat from the first into the second").
_MERGE_PATTERN = rx(
    r"合成|合并|融合|拼(?:成|接|在一起|到一起)|放(?:到|进|在)|p到|贴到|换到|"
    r"\b(?:combine|merge|blend|composite|collage|put|place|paste)\b"
)


_SPEECH_VERB = rx(
    r"语音合成|文字转语音|文本转语音|转成语音|转为语音|转语音|变成语音|朗读|念|读|tts|"
    r"text[- ]to[- ]speech|read\s"
)
_IMAGE_VERB = rx(r"画|绘制|draw\b|paint\b|p图|修图|抠图")
_VERBS = {MediaType.SPEECH: _SPEECH_VERB, MediaType.IMAGE: _IMAGE_VERB}
_PRODUCE_BEFORE = rx(
    r"(?:生成|做成|做|制作|创作|来|画|写|出|弄|整|搞|渲染|合成|要|改成|变成|转成|make|create|"
    r"generate|produce|"
    r"render|draw|compose|"
    r"write|want|need)\s*(?:an?|one|some|me)?\s*(?:一|1|几|两)?\s*(?:段|个|张|幅|首|支|部|条)?\s*\S{0,10}$"
)


def detect_media(text: NormText, skip: Sequence[Span]) -> tuple[MediaType | None, Span | None]:
    """The medium the message asks for: the earliest media word right after a "make" verb wins, else the
    earliest media word at all (the request's object usually comes before the content description), else
    editing words ("换个背景") mean an image."""
    for pattern, media in _TARGET_PATTERNS:
        for _match, span in text.finditer(pattern):
            if not overlaps(span, skip):
                return media, span
    hits: list[tuple[int, int, MediaType, Span]] = []
    for pattern, media in _MEDIA_PATTERNS:
        for match, span in text.finditer(pattern):
            if overlaps(span, skip):
                continue
            before = text.norm[max(0, match.start() - 14) : match.start()]
            verb = _VERBS.get(media)
            strong = (verb is not None and verb.match(text.norm, match.start()) is not None) or (
                _PRODUCE_BEFORE.search(before) is not None
            )
            hits.append((2 if strong else 1, match.start(), media, span))
    for match, span in text.finditer(_EDIT_PATTERN):
        if not overlaps(span, skip):
            hits.append((0, match.start(), MediaType.IMAGE, span))
    if not hits:
        return None, None
    best = max(h[0] for h in hits)
    _, _, media, span = min((h for h in hits if h[0] == best), key=lambda h: h[1])
    return media, span


_REFERENCE_RE = rx(
    r"(?:按|按照|照着|依照|沿用|保持|用|参照)(?:这张|这个|这幅|图片?|照片|图中|图里|图片里|图片中)?.{0,4}"
    r"(?:的)?(?:风格|画风|色调|人物形象|角色形象|形象)|(?:图片?|照片)(?:里|中)的(?:风格|画风|角色|人物)|"
    r"参考(?:这|那|该|图|照片|附|上|下|一下这)|参考(?:生)?视频|参考模式|(?:作为|当作|当成|做)参考|"
    r"参考图|按这张|按照这张|按这个|照着|"
    r"像这张|类似这张|和这张.{0,4}一样|同款|仿照|模仿这|"
    r"以这张.{0,8}为(?!首帧|第一帧|开头|起始|起点)|风格参考|参照|"
    r"(?:作为|当作|当成)(?:参考|风格)|保持.{0,6}(?:角色|人物|形象|风格)一致|"
    r"\breference\b|\bstyle\s+of\s+(?:this|the\s+(?:attached|image|picture|photo))|"
    r"\bthis\s+style\b|\bsame\s+style\b|"
    r"\blike\s+this\s+(?:image|picture|photo|one)\b|"
    r"\bbased\s+on\s+(?:this|the)\s+(?:image|picture|photo|character)\b|"
    r"\bin\s+the\s+style\s+of\s+(?:this|the\s+attached)\b|"
    r"\bas\s+(?:a\s+)?(?:ref|reference|style\s+guide)\b|\bref\b"
)
_FIRST_LAST_RE = rx(
    r"首尾帧|首帧|尾帧|首尾|起始帧|结束帧|开始帧|第一帧|最后一帧|末帧|开头.{0,10}结尾|起点.{0,10}终点|"
    r"从.{1,30}(?:过渡|变成|变为|变到|切换|转变|转换|变化|渐变|演变)到?|过渡到|过渡|渐变到|"
    r"\bfirst\s+(?:and|&|/)\s+last\s+frames?\b|\bfirst\s+frame\b|\blast\s+frame\b|\bstart(?:ing)?\s+frame\b|"
    r"\bend(?:ing)?\s+frame\b|\btransition(?:s|ing)?\b|\bmorph(?:s|ing)?\b|\bfrom\s+.{1,40}\s+(?:to|into)\s+|"
    r"\b(?:start|beginning|opening)\b.{0,60}\b(?:end|ending|finish)\b|"
    r"(?:第一张|图\s*[1一]|前一张).{0,30}(?:第二张|图\s*[2二]|后一张).{0,30}(?:变|过渡|转|到|延时)|"
    r"(?:第一张|图\s*[1一]).{0,6}到.{0,6}(?:第二张|图\s*[2二])|一张是.{1,10}一张是.{0,20}(?:延时|"
    r"过渡|变化|变成)"
)


def merges_images(text: NormText) -> bool:
    return _MERGE_PATTERN.search(text.norm) is not None


def wants_reference(text: NormText) -> bool:
    return _REFERENCE_RE.search(text.norm) is not None


def wants_first_last(text: NormText) -> bool:
    return _FIRST_LAST_RE.search(text.norm) is not None


def task_type_for(media: MediaType, text: NormText, attachments: Sequence[Attachment]) -> TaskType:
    images = [a for a in attachments if a.kind is AttachmentKind.IMAGE]
    if media is MediaType.MUSIC:
        return TaskType.TEXT_TO_MUSIC
    if media is MediaType.SPEECH:
        return TaskType.TEXT_TO_SPEECH
    if media is MediaType.IMAGE:
        return TaskType.IMAGE_TO_IMAGE if images else TaskType.TEXT_TO_IMAGE
    roles = {a.role for a in attachments if a.role}
    if roles & {"first_frame", "last_frame"} and len(images) >= 2:
        return TaskType.FIRST_LAST_FRAME_TO_VIDEO
    if (
        any(a.kind in (AttachmentKind.VIDEO, AttachmentKind.AUDIO) for a in attachments)
        or "reference" in roles
    ):
        return TaskType.REFERENCE_IMAGE_TO_VIDEO
    if not images:
        return TaskType.TEXT_TO_VIDEO
    if len(images) == 1:
        return TaskType.REFERENCE_IMAGE_TO_VIDEO if wants_reference(text) else TaskType.IMAGE_TO_VIDEO
    if len(images) == 2 and wants_first_last(text) and not wants_reference(text):
        return TaskType.FIRST_LAST_FRAME_TO_VIDEO
    return TaskType.REFERENCE_IMAGE_TO_VIDEO
