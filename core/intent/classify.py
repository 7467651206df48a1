"""What a message asks for, decided before anything can cost money.

``understand`` is the one entry every platform and ``imabot parse`` call. It returns an ``Understanding``:
the intent (only ``generate`` may lead to a paid task), the parsed ``GenerationRequest`` when it is a
generation, and what the conversation layer needs to answer everything else: a yes/no ``answer`` to the
bot's own pending question, a ``follow_up`` kind ("再来一个" / "和上次一样，但是竖屏" / "继续"), the
``prefs`` action, the ``cancel`` selector and the ``models_query``.

Rules, in order: nothing readable -> smalltalk (emoji) or unclear; a whole-message yes/no word; the
non-generation intents, each decided by a cue phrase when little content is left besides it (questions
about models or the bot tolerate more); follow-ups; a request whose prompt has content; else unclear.
The phrases are data (``core/data/intent_cues.toml``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from core.catalog.models import ModelCatalog
from core.intent.cues import IntentCues, Patterns, default_cues, matches, spans_of
from core.intent.hygiene import clean_text
from core.intent.media import detect_media
from core.intent.models import find_models
from core.intent.parser import mention_spans, parse
from core.intent.text import CompactText, NormText, parse_number, remove_spans, rx
from core.intent.understanding import (
    Answer,
    CancelSelector,
    FollowUp,
    IntentKind,
    ModelsQuery,
    PrefsAction,
    Understanding,
)
from core.messages import Messages
from core.request import GenerationRequest, PreferenceIntent
from core.types import Attachment, Language, MediaType

_CJK = rx(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = rx(r"[a-z]{2,}")
_READABLE = re.compile(r"\w", re.UNICODE)
_GIBBERISH_WORD = rx(r"[bcdfghjklmnpqrstvwxz]{5,}|^[^aeiouy]{4,}$")
_INDEX = rx(
    r"第\s*(?P<cn>\d+|[一二三四五六七八九十两]+)\s*(?:个|条|项|号)?|#\s*(?P<hash>\d+)|"
    r"(?:^|\s|取消|停止|cancel|stop)\s*(?P<bare>\d{1,2})\s*(?:号|个)?$|\b(?P<en>first|second|third|fourth|fifth)\b"
)
_QUESTION = rx(
    r"(?:[?？]|吗|呢|么|嘛|没有?)\s*$|^(?:what|how|why|when|where|who|which|is|are|do|does|did|can|could|"
    r"will|would|should|any)\b"
)
_MAKE_VERB = rx(
    r"生成|制作|创作|做|画|拍|写|来|出|重新|再|改|换|\b(?:make|create|generate|draw|render|redo|again)\b"
)
_POLITE_LEAD = rx(
    r"^(?:(?:请你?|麻烦你?|我想要?|我要|我需要|帮我|给我|替我|你能|你可以|能不能|可以|can\s+you|could\s+you|"
    r"please|i\s+want|i\x27?d\s+like|i\s+would\s+like|i\s+need)\s*)+"
)
_REPEATED = re.compile(r"^(.{1,5}?)(?:[\s,，]*\1)+$")
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
PLAIN_LIMIT = 3  # content units a cue phrase may leave beside it ("取消那个视频")
QUESTION_LIMIT = 8  # a question may name what it is about ("做人像用哪个模型比较好")
# Content spelled out after a colon or in quotes: a description, even when it ends like a question
# ("生成一段视频：小贩喊'西瓜多少钱'").
_DESCRIBED = rx(r"[:：]\s*\S{4,}|[“\"「『][^”\"」』]{2,}[”\"」』]")


def understand(
    text: str,
    attachments: Sequence[Attachment] = (),
    *,
    catalog: ModelCatalog,
    default_media: MediaType = MediaType.VIDEO,
    default_language: Language = Language.ZH,
    bot_names: Sequence[str] = (),
    messages: Messages | None = None,
    cues: IntentCues | None = None,
) -> Understanding:
    """Classify one chat message. Total and deterministic; never raises on any ``str``."""
    c = cues or default_cues()
    given = text if isinstance(text, str) else ""
    raw = clean_text(
        given, max_chars=len(given)
    )  # intake caps the length; here only what cannot be read goes
    read = partial(
        parse,
        attachments=attachments,
        catalog=catalog,
        default_media=default_media,
        default_language=default_language,
        bot_names=bot_names,
        messages=messages,
    )
    request = read(raw)
    body = remove_spans(raw, mention_spans(raw, bot_names))
    norm = re.sub(r"\s+", " ", NormText.of(body[:2000]).norm).strip()
    # A follow-up's own words ("再来一个", "和上次一样，但是") are no part of the change it asks for.
    marked = NormText.of(raw[:2000])
    cue_spans = [marked.span(*span) for span in spans_of(c.again + c.edit + c.continue_, marked.norm)]
    change = replace(request, prompt=read(remove_spans(raw, cue_spans)).prompt) if cue_spans else request
    return _Classifier(c, catalog, request, change, norm, tuple(attachments)).run()


@dataclass(frozen=True, slots=True)
class _Classifier:
    cues: IntentCues
    catalog: ModelCatalog
    request: GenerationRequest
    change: GenerationRequest  # the request without follow-up words: what a follow-up changes
    norm: str
    attachments: tuple[Attachment, ...]

    def run(self) -> Understanding:
        core = self.norm.strip(" .。!！~～,，")
        answer = self._answer(core)
        if not _READABLE.search(core):
            if self.attachments:
                return self._generate_or_unclear(answer)
            emoji = any(unicodedata.category(ch) == "So" for ch in core)
            return self._u(IntentKind.SMALLTALK if emoji else IntentKind.UNCLEAR, answer=answer)
        for decide in (
            self._prefs, self._cancel, self._status, self._usage, self._models, self._help, self._chat,
        ):  # fmt: skip
            found = decide(core, answer)
            if found is not None:
                return found
        if self._judges_a_result(core):
            return self._u(IntentKind.SMALLTALK, answer=answer)
        generated = self._generate_or_unclear(answer)
        if generated.intent is IntentKind.UNCLEAR and (
            answer is not None or matches(self.cues.feedback, core)
        ):
            return self._u(IntentKind.SMALLTALK, answer=answer)
        return generated

    def _u(self, intent: IntentKind, **found: Any) -> Understanding:
        return Understanding(intent, self.request.language, self.request, **found)

    # ------------------------------------------------------------ non-generation intents
    def _small(
        self, patterns: Sequence[re.Pattern[str]], core: str, limit: int = PLAIN_LIMIT, *, also: Patterns = ()
    ) -> bool:
        """A cue matched and little content is left beside it (``also``: more phrases that are no content)."""
        spans = spans_of(patterns, core)
        if not spans:
            return False
        rest = remove_spans(core, spans + spans_of(also, core))
        rest = remove_spans(rest, _model_spans(rest, self.catalog))
        rest = remove_spans(rest, spans_of(self.cues.filler, rest))
        return _units(rest) <= limit

    def _prefs(self, core: str, answer: Answer | None) -> Understanding | None:
        handed_back = self.request.preference is PreferenceIntent.CLEAR and self.request.missing_prompt
        if handed_back and matches(self.cues.again, core):
            handed_back = False  # "换个模型再试一次": a retry with another model, not a settings change
        if self._small(self.cues.prefs_clear, core, QUESTION_LIMIT) or handed_back:
            return self._u(IntentKind.PREFS, answer=answer, prefs=PrefsAction.CLEAR)
        named = self.request.model_id or self.request.tier
        if named and self._small(self.cues.prefs_persist, core, also=self.cues.prefs_set):
            return self._u(
                IntentKind.PREFS, answer=answer, prefs=PrefsAction.SET, model_id=self.request.model_id
            )
        if self._small(self.cues.prefs_show, core, QUESTION_LIMIT):
            return self._u(IntentKind.PREFS, answer=answer, prefs=PrefsAction.SHOW)
        return None

    def _cancel(self, core: str, answer: Answer | None) -> Understanding | None:
        selectors = (_INDEX, *self.cues.cancel_all)
        if not self._small(self.cues.cancel, core, PLAIN_LIMIT + 1, also=selectors):
            return None
        selector = CancelSelector(index=_index(core), all=matches(self.cues.cancel_all, core))
        return self._u(IntentKind.CANCEL, answer=answer or Answer.NO, cancel=selector)

    def _status(self, core: str, answer: Answer | None) -> Understanding | None:
        if self._small(self.cues.status, core, PLAIN_LIMIT + 1):
            return self._u(IntentKind.STATUS, answer=answer)
        return None

    def _usage(self, core: str, answer: Answer | None) -> Understanding | None:
        if self._small(self.cues.usage, core, PLAIN_LIMIT + 1):
            return self._u(IntentKind.USAGE, answer=answer)
        return None

    def _models(self, core: str, answer: Answer | None) -> Understanding | None:
        plain = self._small(self.cues.models, core)
        question = not plain and not _DESCRIBED.search(core)
        asked = question and self._small(self.cues.models_question, core, QUESTION_LIMIT)
        may_ask_availability = (  # "有可灵吗", "is sora available?"
            question and _QUESTION.search(core) and self._small(self.cues.models_availability, core)
        )
        if not (plain or asked or may_ask_availability):
            return None  # most messages: the models named need not be looked for
        named = tuple(dict.fromkeys(self._named_models(core)))
        if not (plain or asked or named):
            return None
        media, _ = detect_media(NormText.of(core), [])
        return self._u(
            IntentKind.MODELS,
            answer=answer,
            models_query=ModelsQuery(media_type=media, model_ids=named, topic=self._topic(core)),
            model_id=named[0] if len(named) == 1 else None,
        )

    def _help(self, core: str, answer: Answer | None) -> Understanding | None:
        if self._small(self.cues.help, core) or self._small(self.cues.help_question, core, PLAIN_LIMIT + 2):
            return self._u(IntentKind.HELP, answer=answer)
        return None

    def _chat(self, core: str, answer: Answer | None) -> Understanding | None:
        if self._small(self.cues.smalltalk, core) and not matches(self.cues.lone, core):
            return self._u(IntentKind.SMALLTALK, answer=answer)
        return None

    def _judges_a_result(self, core: str) -> bool:
        """ "刚才那个视频太短了": a judgement of an earlier result, even with a medium named, when no
        make-verb asks for something new (a retry is the conversation layer's offer to make)."""
        c = self.cues
        refers = any(p.search(core) for p in c.chat[1:2])
        return (
            refers and matches(c.feedback, core) and _MAKE_VERB.search(core) is None and not self.attachments
        )

    # ------------------------------------------------------------ generation
    def _generate_or_unclear(self, answer: Answer | None) -> Understanding:
        request, core = self.request, self.norm
        content = _units(NormText.of(request.prompt).norm)
        follow = self._follow_up(
            core, _units(NormText.of(self.change.prompt).norm), self._changes(self.change)
        )
        if follow is not None:
            request = self.change
            content = _units(NormText.of(request.prompt).norm)
            prefs = (
                PrefsAction.SET
                if follow is FollowUp.EDIT and request.preference is PreferenceIntent.SAVE and not content
                else None
            )
            return self._u(
                IntentKind.GENERATE,
                request=request,
                answer=answer,
                follow_up=follow,
                prefs=prefs,
                model_id=request.model_id,
            )
        if self._has_content(core, content):
            return self._u(IntentKind.GENERATE, request=request, answer=answer, model_id=request.model_id)
        return self._u(IntentKind.UNCLEAR, answer=answer, model_id=request.model_id)

    def _follow_up(self, core: str, content: int, has_change: bool) -> FollowUp | None:
        c = self.cues
        if self.attachments:
            return None  # new inputs make a new request ("变成水彩风格" edits the attached picture)
        if matches(c.continue_, core) and content <= QUESTION_LIMIT:
            return FollowUp.CONTINUE
        edit = matches(c.edit, core)
        if matches(c.again, core):
            if not content and not has_change:
                return FollowUp.AGAIN
            if edit or content <= PLAIN_LIMIT:
                return FollowUp.EDIT
            return None
        if edit and content <= QUESTION_LIMIT and (has_change or content):
            return FollowUp.EDIT
        if has_change and not content and not self.attachments:
            return FollowUp.EDIT  # "10秒" / "竖屏" / "换成可灵": the last request, changed
        return None

    @staticmethod
    def _changes(request: GenerationRequest) -> bool:
        another_model = request.preference is PreferenceIntent.CLEAR  # "换个模型"
        return (
            bool(request.params) or request.model_id is not None or request.tier is not None or another_model
        )

    def _has_content(self, core: str, content: int) -> bool:
        prompt = NormText.of(self.request.prompt).norm.strip()
        if not prompt or matches(self.cues.lone, prompt):
            return bool(self.attachments) and matches(self.cues.generate, core)
        if _gibberish(prompt):
            return False
        cue = matches(self.cues.generate, core)
        spoken = _POLITE_LEAD.sub("", core)  # "你说话能不能快点" keeps its 你; "我想要…" loses its 我
        chat = not self.attachments and (
            matches(self.cues.chat + self.cues.feedback, prompt) or matches(self.cues.chat[:1], spoken)
        )
        if not cue and (_QUESTION.search(core) or chat):
            return False  # a question or a chat line without a make-word or a medium is asked back
        if self.attachments:
            return cue or content >= 2
        return content >= (1 if cue else 4)

    # ------------------------------------------------------------ helpers
    def _answer(self, core: str) -> Answer | None:
        bare = _REPEATED.sub(r"\1", core.strip(" .。!！~～,，?？"))  # "好的好的" -> "好的"
        if matches(self.cues.yes, bare):
            return Answer.YES
        if matches(self.cues.no, bare):
            return Answer.NO
        return None

    def _named_models(self, core: str) -> list[str]:
        """Every catalog model the question names, weak aliases included ("海螺和可灵哪个好")."""
        found = [m.model_id for m in find_models(NormText.of(core), self.catalog)]
        compact = CompactText.of(core).text
        for alias, model_id in {**self.catalog.weak_aliases(), **self.catalog.strong_aliases()}.items():
            if len(alias) >= 2 and alias in compact and model_id not in found:
                found.append(model_id)
        positions = {m: compact.find(_first_alias(m, self.catalog, compact)) for m in found}
        return sorted(found, key=lambda m: positions[m])

    def _topic(self, core: str) -> str:
        rest = remove_spans(core, spans_of(self.cues.models_question + self.cues.models, core))
        rest = remove_spans(rest, _model_spans(rest, self.catalog))
        rest = remove_spans(rest, spans_of(self.cues.filler, rest))
        return re.sub(r"\s+", " ", rest).strip()


def _first_alias(model_id: str, catalog: ModelCatalog, compact: str) -> str:
    aliases = {**catalog.weak_aliases(), **catalog.strong_aliases()}
    hits = [a for a, m in aliases.items() if m == model_id and a in compact]
    return min(hits, key=compact.find) if hits else ""


def _model_spans(text: str, catalog: ModelCatalog) -> list[tuple[int, int]]:
    return [m.span for m in find_models(NormText.of(text), catalog)]


def _units(text: str) -> int:
    """Content size: CJK characters, and two per Latin word (a word says about as much as two hanzi)."""
    return len(_CJK.findall(text)) + 2 * len(_WORD.findall(text))


def _gibberish(prompt: str) -> bool:
    words = _WORD.findall(prompt)
    if not words or _CJK.search(prompt):
        cjk = _CJK.findall(prompt)
        return len(cjk) >= 3 and len(set(cjk)) == 1  # "啊啊啊啊"
    odd = sum(1 for w in words if _GIBBERISH_WORD.search(w))
    return odd * 2 >= len(words)


def _index(core: str) -> int | None:
    match = _INDEX.search(core)
    if match is None:
        return None
    if match.group("en"):
        return _ORDINALS[match.group("en")]
    raw = match.group("cn") or match.group("hash") or match.group("bare") or ""
    value = parse_number(raw)
    return int(value) if value is not None and value >= 1 else None
