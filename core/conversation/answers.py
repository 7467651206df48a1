"""Replies to messages that are not generations: help, models, status, usage, smalltalk, unclear.

Pure text building over the live product list, the model catalog and the user's jobs; nothing here
can create a task.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.catalog.models import ModelCatalog
from core.catalog.products import ProductLeaf
from core.intent import ModelsQuery
from core.jobs import Job, JobState
from core.messages import Messages
from core.types import Language, MediaType, Platform, TaskType
from core.ux.renderer import excerpt, progress_percent

MODELS_PER_MEDIA = 8
_LISTED_TASKS = {
    MediaType.VIDEO: TaskType.TEXT_TO_VIDEO,
    MediaType.IMAGE: TaskType.TEXT_TO_IMAGE,
    MediaType.MUSIC: TaskType.TEXT_TO_MUSIC,
    MediaType.SPEECH: TaskType.TEXT_TO_SPEECH,
}
_THANKS = ("谢", "thank", "thx", "感谢", "辛苦", "多谢")
_GREETINGS = ("你好", "您好", "hi", "hello", "hey", "在吗", "早", "嗨", "哈喽", "晚上好", "下午好")


def help_text(messages: Messages, platform: Platform | None, language: Language) -> str:
    """What the bot can do, with examples; how to reach it on ``platform`` when one is known."""
    parts = [messages.text("service.help", language)]
    key = f"conversation.help.platform.{platform.value}" if platform is not None else ""
    if key and messages.has(key):
        parts.append(messages.text(key, language))
    parts.append(messages.text("conversation.help.follow_ups", language))
    return "\n\n".join(parts)


class Answers:
    def __init__(self, messages: Messages, catalog: ModelCatalog) -> None:
        self._m = messages
        self._catalog = catalog

    def _t(self, key: str, language: Language, **params: object) -> str:
        return self._m.text(key, language, **params)

    # ------------------------------------------------------------ help / smalltalk / unclear
    def help(self, platform: Platform | None, language: Language) -> str:
        return help_text(self._m, platform, language)

    def smalltalk(self, text: str, language: Language) -> str:
        lowered = text.lower()
        if any(word in lowered for word in _THANKS):
            return self._t("conversation.smalltalk.thanks", language)
        if any(word in lowered for word in _GREETINGS):
            return self._t("conversation.smalltalk.greeting", language)
        return self._t("conversation.smalltalk.ack", language)

    def unclear(self, text: str, language: Language) -> str:
        key = "conversation.unclear.long" if len(text) > 2_000 else "conversation.unclear"
        return self._t(key, language)

    # ------------------------------------------------------------ models
    def model_list(self, lists: Sequence[tuple[MediaType, Sequence[ProductLeaf]]], language: Language) -> str:
        lines = [self._t("conversation.models.header", language)]
        for media, leaves in lists:
            lines.append(self._t("conversation.models.media", language,
                                 media=self._t(f"service.media.{media.value}", language)))
            unique = list({leaf.model_id: leaf for leaf in leaves}.values())
            for leaf in unique[:MODELS_PER_MEDIA]:
                lines.append(self._leaf_line(leaf, media, language))
            if len(unique) > MODELS_PER_MEDIA:
                more = len(unique) - MODELS_PER_MEDIA
                lines.append(self._t("conversation.models.more", language, count=more))
        lines.append("")
        lines.append(self._t("conversation.models.footer", language))
        return "\n".join(lines)

    def _leaf_line(self, leaf: ProductLeaf, media: MediaType, language: Language) -> str:
        name = self._catalog.display_name(leaf.model_id, language) if self._catalog.info(leaf.model_id) \
            else leaf.name or leaf.model_id
        points = leaf.points_range[0]
        eta = leaf.estimated_seconds or self._catalog.timing_for(leaf.model_id, media).eta_s
        if not eta:
            return self._t("conversation.models.line_no_eta", language, name=name, points=points)
        lo, hi = eta
        return self._t("conversation.models.line", language, name=name, points=points,
                       eta=self._t("conversation.models.eta_seconds", language, lo=lo, hi=hi))

    def comparison(self, query: ModelsQuery, language: Language) -> str | None:
        """"X和Y哪个好" / "which is best for portraits": the catalog's notes on the named models, or on
        the models of the named medium. None when the question names neither."""
        infos = [info for mid in query.model_ids if (info := self._catalog.info(mid)) is not None]
        if not infos and query.topic and query.media_type is not None:
            infos = [m for m in self._catalog.models
                     if m.media_type is query.media_type and m.notes(language)][:6]
        if not infos:
            return None
        lines = [self._t("conversation.models.compare_header", language)]
        for info in infos:
            lines.append(self._t("conversation.models.compare_line", language,
                                 name=info.display_name(language),
                                 media=self._t(f"service.media.{info.media_type.value}", language),
                                 notes=info.notes(language) or "-"))
        lines.append(self._t("conversation.models.compare_footer", language))
        return "\n".join(lines)

    @staticmethod
    def listed_tasks(query: ModelsQuery | None) -> list[tuple[MediaType, TaskType]]:
        if query is not None and query.media_type is not None:
            return [(query.media_type, _LISTED_TASKS[query.media_type])]
        return list(_LISTED_TASKS.items())

    # ------------------------------------------------------------ jobs
    def job_line(self, index: int, job: Job, now: float, language: Language) -> str:
        model = job.model_name or self._t("conversation.job.model_pending", language)
        prompt = excerpt(job.request.prompt) or self._t(f"service.media.{job.media_type.value}", language)
        return self._t("conversation.job.line", language, index=index, prompt=prompt, model=model,
                       progress=self.progress(job, now, language))

    def progress(self, job: Job, now: float, language: Language) -> str:
        if job.state is JobState.DELIVERING:
            return self._t("conversation.job.delivering", language)
        if job.submitted_at is None:
            return self._t("conversation.job.preparing", language)
        eta_max = job.eta_s[1] if job.eta_s else 0
        percent = progress_percent(max(0.0, now - job.submitted_at), eta_max)
        return self._t("conversation.job.percent", language, percent=percent)

    def status(self, running: Sequence[Job], now: float, language: Language) -> str:
        if not running:
            return self._t("conversation.status.none", language)
        lines = [self._t("conversation.status.header", language)]
        lines.extend(self.job_line(i, job, now, language) for i, job in enumerate(running, 1))
        lines.append(self._t("conversation.status.footer", language))
        return "\n".join(lines)
