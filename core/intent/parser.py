"""Free text + attachments -> ``GenerationRequest``. Deterministic and total: any ``str`` gives a request."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from core.catalog.models import ModelCatalog
from core.intent.counts import find_counts
from core.intent.language import detect_language
from core.intent.media import detect_media, merges_images, task_type_for
from core.intent.models import ModelMention, UnknownModel, find_models, find_tiers, find_unknown_model
from core.intent.params import (
    Finding,
    find_aspects,
    find_audio_params,
    find_durations,
    find_music_params,
    find_resolutions,
    find_voice_params,
)
from core.intent.preference import find_clear, find_no_save_phrases, find_save_phrases, preference_intent
from core.intent.prompt import after_colon, clean_prompt, quoted_text
from core.intent.subject import output_shapes, platform_aspects, shown_spans, topic_models
from core.intent.text import NormText, Span, overlaps, remove_spans, rx
from core.messages import Messages
from core.request import GenerationRequest, PreferenceIntent, RequestOverrides, Tier
from core.types import Attachment, AttachmentKind, Language, MediaType, TaskType

MAX_TEXT_CHARS = 20_000  # only this much is searched for commands; the rest goes to the prompt as written

_PLATFORM_MENTION = rx(r"<@[!&]?\d+>|@_user_\d+|@_all\b|<at[^>]*>.*?</at>")
_BGM_RE = rx(
    r"背景音乐|纯音乐|无人声|配乐|bgm|\bbackground\s+music\b|\binstrumental\b|"
    r"\bambient\b|\bno\s+vocals?\b"
)
_SONG_RE = rx(
    r"歌词|人声|带歌词|演唱|唱一?首|一首.{0,16}歌|写.{0,12}歌|歌曲|\blyrics\b|"
    r"\bvocals?\b|\bsong\b|\bsing(?:er|ing)?\b"
)


def parse(
    text: str,
    attachments: Sequence[Attachment] = (),
    *,
    catalog: ModelCatalog,
    default_media: MediaType = MediaType.VIDEO,
    default_language: Language = Language.ZH,
    bot_names: Sequence[str] = (),
    messages: Messages | None = None,
) -> GenerationRequest:
    """Understand one chat message. Total and deterministic: any ``str`` gives a request; an empty or
    command-only message gives an empty prompt (``missing_prompt``). ``notices`` are in the reply language.

    Steps: mentions out -> model names (with their use-verbs, negations) -> media and task type ->
    parameters -> tiers / preference phrases -> unknown model names -> language -> prompt = the rest.
    """
    def msgs() -> Messages:  # loaded only for a notice: most messages need none
        return messages or Messages.from_package()

    full = text if isinstance(text, str) else ""
    raw, overflow = full[:MAX_TEXT_CHARS], full[MAX_TEXT_CHARS:]
    mentions = mention_spans(raw, bot_names)
    norm = NormText.of(raw)

    shown = shown_spans(norm)
    mentioned = [
        m
        for m in find_models(norm, catalog)
        if not overlaps(m.span, mentions) and not overlaps(m.alias_span, shown)
    ]
    topics = topic_models(norm, mentioned)
    mentioned = [m for m in mentioned if m not in topics]  # "讲解可灵和海螺的区别": the content, not a choice
    model_spans = [m.span for m in mentioned]
    models = [m for m in mentioned if not m.negated]
    skip = mentions + model_spans

    media, _ = detect_media(norm, skip)
    if (
        media is None
        and sum(a.kind is AttachmentKind.IMAGE for a in attachments) >= 2
        and merges_images(norm)
    ):
        media = MediaType.IMAGE  # two pictures made into one
    if media is None:
        named = catalog.info(models[-1].model_id) if models else None
        media = named.media_type if named is not None else default_media
    task_type = task_type_for(media, norm, attachments)

    speech_text = _speech_text(raw) if media is MediaType.SPEECH else None
    findings = output_shapes(norm, _param_findings(norm, media, skip + shown, speech_text))
    taken = skip + [f.span for f in findings]
    tiers = find_tiers(norm, taken)
    taken += [t.span for t in tiers]
    clear_spans = [s for s in find_clear(norm) if not overlaps(s, skip)]
    taken += clear_spans

    unknown: UnknownModel | None = None
    if not models:
        unknown = find_unknown_model(norm, catalog, taken, media)
    language = detect_language(
        remove_spans(raw, mentions + [m.alias_span for m in mentioned]),
        detect_language(remove_spans(raw, mentions), default_language),
    )

    params, notices = _resolve_params(findings, msgs, language)
    if "duration" in params:
        params.pop("duration_rejected", None)  # a usable length was given as well
    if media in (MediaType.VIDEO, MediaType.IMAGE) and "aspect_ratio" not in params:
        implied = platform_aspects(norm, mentions)
        if implied:  # "抖音视频": the platform's usual shape, unless the message names one
            params["aspect_ratio"] = implied[0].value
    model_id = _model_for_task(models, task_type, catalog)
    if len(models) > 1 and len({m.model_id for m in models}) > 1:
        names = msgs().text("intent.list_separator", language).join(
            dict.fromkeys(catalog.display_name(m.model_id, language) for m in models)
        )
        notices.append(
            msgs().text(
                "intent.multiple_models",
                language,
                models=names,
                model=catalog.display_name(models[-1].model_id, language),
            )
        )
    tier = tiers[-1].tier if tiers else None
    named_info = catalog.info(model_id) if model_id else None
    if tier is Tier.FAST and named_info is not None and named_info.fast_variant:
        model_id = catalog.for_task(named_info.fast_variant, task_type) or model_id
    if model_id is None and media is MediaType.MUSIC:
        model_id = _music_model(norm)
    if unknown is not None:
        notices.append(_unknown_notice(unknown, catalog, msgs(), language))
        taken.append(unknown.span)

    preference = preference_intent(norm, models, clear_spans)
    if preference is None and not models and mentioned:
        preference = PreferenceIntent.CLEAR  # "不要用海螺了": the saved choice is no longer wanted
    if preference is PreferenceIntent.SAVE or tier is not None or clear_spans:
        taken += find_save_phrases(norm)
    if models:
        taken += find_no_save_phrases(norm)
    prompt = _prompt(raw, taken + mentions, speech_text, attachments, media) + overflow
    return GenerationRequest(
        media_type=media,
        task_type=task_type,
        prompt=prompt,
        language=language,
        model_id=model_id,
        tier=tier,
        params=params,
        preference=preference,
        attachments=tuple(attachments),
        notices=tuple(notices),
        unknown_model=unknown.name if unknown else None,
    )


def apply_overrides(
    request: GenerationRequest, overrides: RequestOverrides | None, catalog: ModelCatalog
) -> GenerationRequest:
    """Typed options from a slash command or card win over what the free text said."""
    if overrides is None:
        return request
    task_type = overrides.task_type or request.task_type
    media = overrides.media_type or task_type.media_type
    if overrides.media_type and not overrides.task_type and media is not request.media_type:
        task_type = {
            MediaType.MUSIC: TaskType.TEXT_TO_MUSIC,
            MediaType.SPEECH: TaskType.TEXT_TO_SPEECH,
            MediaType.IMAGE: TaskType.IMAGE_TO_IMAGE if request.attachments else TaskType.TEXT_TO_IMAGE,
            MediaType.VIDEO: TaskType.TEXT_TO_VIDEO,
        }[media]
    model_id = request.model_id
    if overrides.model_id:
        model_id = (
            catalog.for_task(overrides.model_id, task_type)
            or catalog.resolve_alias(overrides.model_id, task_type)
            or overrides.model_id
        )
    elif model_id:
        model_id = catalog.for_task(model_id, task_type) or model_id
    return replace(
        request,
        media_type=media,
        task_type=task_type,
        model_id=model_id,
        params={**request.params, **overrides.params},
    )


# ---------------------------------------------------------------- helpers


def mention_spans(text: str, bot_names: Sequence[str]) -> list[Span]:
    spans = [m.span() for m in _PLATFORM_MENTION.finditer(text)]
    for name in bot_names:
        if not name.strip():
            continue
        escaped = re.escape(name.strip())
        pattern = re.compile(rf"@\s?{escaped}|^\s*{escaped}\s*[,，:：]", re.IGNORECASE | re.ASCII)
        spans += [m.span() for m in pattern.finditer(text)]
    return spans


def _speech_text(raw: str) -> str | None:
    return quoted_text(raw) or after_colon(raw)


def _param_findings(
    norm: NormText, media: MediaType, skip: list[Span], speech_text: str | None
) -> list[Finding]:
    found: list[Finding] = []
    if media is MediaType.VIDEO:
        found += find_durations(norm)
        found += find_audio_params(norm)
    if media is not MediaType.SPEECH:
        found += find_counts(norm)
    if media in (MediaType.VIDEO, MediaType.IMAGE):
        found += find_aspects(norm)
        found += find_resolutions(norm, media)
    if media is MediaType.SPEECH:
        head = norm
        if speech_text is not None:
            cut = norm.original.find(speech_text)
            head = NormText.of(norm.original[:cut]) if cut > 0 else NormText.of("")
        found += find_voice_params(head)
    if media is MediaType.MUSIC:
        found += find_music_params(norm)
    found = [f for f in found if not overlaps(f.span, skip)]
    numeric_res = any(f.field == "resolution" and any(c.isdigit() for c in f.phrase) for f in found)
    if numeric_res:  # "4K 高清": the number is what the user means; 高清 is just praise
        found = [f for f in found if f.field != "resolution" or any(c.isdigit() for c in f.phrase)]
    return sorted(found, key=lambda f: f.span)


def _resolve_params(
    findings: list[Finding], msgs: Callable[[], Messages], language: Language
) -> tuple[dict[str, Any], list[str]]:
    params: dict[str, Any] = {}
    notices: list[str] = []
    by_field: dict[str, list[Finding]] = {}
    for finding in findings:
        by_field.setdefault(finding.field, []).append(finding)
    for field_name, items in by_field.items():
        last = items[-1]
        params[field_name] = last.value
        distinct = [f for f in items if f.value != last.value]
        if distinct:
            notices.append(
                msgs().text("intent.contradiction", language, first=distinct[0].phrase, last=last.phrase)
            )
    return params, notices


def _model_for_task(models: list[ModelMention], task_type: TaskType, catalog: ModelCatalog) -> str | None:
    if not models:
        return None
    primary = models[-1].model_id
    return catalog.for_task(primary, task_type) or primary


def _music_model(norm: NormText) -> str | None:
    if _BGM_RE.search(norm.norm):
        return "GenBGM"
    if _SONG_RE.search(norm.norm):
        return "sonic"
    return None


def _unknown_notice(unknown: UnknownModel, catalog: ModelCatalog, msgs: Messages, language: Language) -> str:
    if not unknown.suggestions:
        return msgs.text("intent.unknown_model_no_match", language, name=unknown.name)
    names = msgs.text("intent.list_separator", language).join(
        catalog.display_name(s, language) for s in unknown.suggestions
    )
    return msgs.text("intent.unknown_model", language, name=unknown.name, suggestions=names)


def _prompt(
    raw: str, spans: list[Span], speech_text: str | None, attachments: Sequence[Attachment], media: MediaType
) -> str:
    if speech_text is not None:
        return speech_text
    remaining = remove_spans(raw, spans)
    prompt = clean_prompt(remaining, media)
    if not prompt and attachments:
        # "把这张图动起来": the instruction itself is the best prompt the image task gets.
        prompt = re.sub(r"\s+", " ", remaining).strip(" ,，。.:：;；!！")
    return prompt
