"""The UX state machine's renderer: turns job facts into the seeds' Step 0-5 events.

Steps 0-2 and the final status share ``Slot.STATUS`` (one message edited in place), so every status
text is complete on its own: the pre-generation block followed by the current stage or progress line.
Steps 3-4 are ``Slot.RESULT`` messages. All text comes from the message catalog in the job's language.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import ErrorKind
from core.jobs import Job, JobState
from core.messages import Messages
from core.platform import ActionKind, Alternative, Slot, Step, UxEvent
from core.types import AttachmentKind, Conversation, Language, MediaType
from core.ux.error_text import charge_of, failure_actions, failure_text

STATUS_PART = "status"
SUCCESS_PARTS = ("result:0", "result:1")
FAILURE_PART = "result:failure"
_CANCEL = (ActionKind.CANCEL,)
EXCERPT_CHARS = 24


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A prompt shortened to name a job in a line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def cancelled_text(messages: Messages, job: Job) -> str:
    """The answer to the cancel itself (a button's toast): which job, and what it cost."""
    lang = job.language
    prompt = excerpt(job.request.prompt) or messages.text(f"service.media.{job.media_type.value}", lang)
    return messages.text(f"cancel.done.{charge_of(job).value}", lang, prompt=prompt,
                         model=job.model_name or "-", task_id=job.task_id or "",
                         credits="?" if job.credits is None else job.credits)


def progress_percent(elapsed_s: float, eta_max_s: float) -> int:
    """P = min(95, floor(elapsed / estimated_max * 100)) (seeds 001/002/003)."""
    if eta_max_s <= 0:
        return 95
    return max(0, min(95, int(elapsed_s * 100 // eta_max_s)))


def _minutes(seconds: int) -> str:
    return f"{round(seconds / 60, 1):g}"


class UxRenderer:
    def __init__(self, messages: Messages) -> None:
        self._m = messages

    def _t(self, key: str, language: Language, **params: object) -> str:
        return self._m.text(key, language, **params)

    def _event(self, job: Job, step: Step, slot: Slot, text: str, **fields: object) -> UxEvent:
        ref = job.message_refs.get(STATUS_PART) or None if slot is Slot.STATUS else None
        return UxEvent(job_id=job.job_id, conversation=job.conversation, step=step, slot=slot, text=text,
                       language=job.language, message_ref=ref, model_id=job.model_id,
                       model_name=job.model_name, credits=job.credits, **fields)  # type: ignore[arg-type]

    # ------------------------------------------------------------ Step 0
    def ack(self, job: Job) -> UxEvent:
        text = self._t(f"ux.ack.{job.media_type.value}", job.language)
        return self._event(job, Step.ACK, Slot.STATUS, text)

    # ------------------------------------------------------------ Step 1
    def pregen_block(self, job: Job, *, quote_only: bool = False) -> str:
        """Model, time and credits under a "starting now" head; ``quote_only`` heads it as an offer
        instead (nothing starts before the user confirms) and leaves out the progress promise."""
        lang, media = job.language, job.media_type
        head = "ux.quote.head" if quote_only else "ux.pregen.head"
        lines = [self._t(f"{head}.{media.value}", lang)]
        if job.model_name:
            key = "ux.pregen.model_preferred" if job.from_preference else "ux.pregen.model"
            lines.append(self._t(key, lang, model=job.model_name))
        if job.eta_s:
            lo, hi = job.eta_s
            if media is MediaType.VIDEO or lo >= 60:  # seed 003 gives videos in seconds and minutes
                lines.append(self._t("ux.pregen.eta_minutes", lang, lo=lo, hi=hi, lo_min=_minutes(lo),
                                     hi_min=_minutes(hi)))
            else:
                lines.append(self._t("ux.pregen.eta_seconds", lang, lo=lo, hi=hi))
        if job.credits is not None:
            lines.append(self._t("ux.pregen.credits", lang, credits=job.credits))
        lines.extend(job.notes)
        if media is MediaType.VIDEO and not quote_only:
            lines.append("")
            lines.append(self._t("ux.pregen.video_note", lang))
        return "\n".join(lines)

    def pregen(self, job: Job) -> UxEvent:
        return self._event(job, Step.PREGEN, Slot.STATUS, self.pregen_block(job), actions=_CANCEL)

    def stage(self, job: Job, stage: str) -> UxEvent:
        key = f"ux.stage.{stage}" if self._m.has(f"ux.stage.{stage}") else "ux.stage.preparing"
        text = self.pregen_block(job) + "\n\n" + self._t(key, job.language)
        return self._event(job, Step.PROGRESS, Slot.STATUS, text, percent=0, actions=_CANCEL)

    # ------------------------------------------------------------ Step 2
    def progress(self, job: Job, now: float, percent: int | None = None) -> UxEvent:
        """``percent`` from the job's learned duration distribution; without it, the seeds' static
        formula (elapsed / estimated max)."""
        started = job.submitted_at if job.submitted_at is not None else job.created_at
        elapsed = max(0.0, now - started)
        eta_max = job.eta_s[1] if job.eta_s else 0
        percent = progress_percent(elapsed, eta_max) if percent is None else min(95, max(0, percent))
        line = self._t(f"ux.progress.{job.media_type.value}", job.language, percent=percent,
                       elapsed=int(elapsed), max=eta_max)
        if eta_max and elapsed > eta_max:
            line += " " + self._t("ux.progress.almost", job.language)
        text = self.pregen_block(job) + "\n\n" + line
        return self._event(job, Step.PROGRESS, Slot.STATUS, text, percent=percent, actions=_CANCEL)

    # ------------------------------------------------------------ Step 3
    def success(self, job: Job, success_actions: Sequence[ActionKind] = ()) -> tuple[UxEvent, UxEvent]:
        lang, media = job.language, job.media_type
        actual = self.actual_seconds(job)
        lines = [self._t(f"ux.success.head.{media.value}", lang)]
        if job.model_name:
            lines.append(self._t("ux.success.model", lang, model=job.model_name))
        if job.eta_s:
            lines.append(self._t("ux.success.time", lang, lo=job.eta_s[0], hi=job.eta_s[1], actual=actual))
        else:
            lines.append(self._t("ux.success.time_actual", lang, actual=actual))
        if job.credits is not None:
            lines.append(self._t("ux.success.credits", lang, credits=job.credits))
        first = job.result[0] if job.result else None
        if first is not None and first.duration_s and media in (MediaType.MUSIC, MediaType.SPEECH):
            lines.append(self._t("ux.success.duration", lang, seconds=round(first.duration_s)))
        if job.hints:
            lines.append("")
            lines.extend(job.hints)
        media_event = self._event(job, Step.SUCCESS, Slot.RESULT, "\n".join(lines), media=job.result,
                                  percent=100, actions=tuple(success_actions))
        url = first.url if first else ""
        link_event = self._event(job, Step.SUCCESS, Slot.RESULT,
                                 self._t(f"ux.success.link.{media.value}", lang, url=url))
        return media_event, link_event

    def actual_seconds(self, job: Job) -> int:
        start = job.submitted_at if job.submitted_at is not None else job.created_at
        end = job.finished_at if job.finished_at is not None else job.updated_at
        return max(0, round(end - start))

    # ------------------------------------------------------------ Step 4
    def failure(self, job: Job, alternatives: Sequence[Alternative], *, has_faster: bool,
                detail: str | None = None) -> UxEvent:
        kind = job.error_kind or ErrorKind.INTERNAL
        if kind is ErrorKind.INSUFFICIENT_POINTS and job.credits is not None:
            # a model that costs as much or more cannot help someone who is short of points
            credits = job.credits
            alternatives = [a for a in alternatives if a.points is not None and a.points < credits]
        beyond_images = any(a.kind is not AttachmentKind.IMAGE for a in job.request.attachments)
        charge = charge_of(job)
        if kind is ErrorKind.CANCELLED and detail is None:  # which of the user's jobs this was
            prompt = excerpt(job.request.prompt) or self._t(f"service.media.{job.media_type.value}",
                                                            job.language)
            detail = self._t("ux.cancelled.subject", job.language, prompt=prompt, model=job.model_name or "-")
        text = failure_text(self._m, kind, job.media_type, job.language, alternatives, detail,
                            inputs_beyond_images=beyond_images, charge=charge, task_id=job.task_id,
                            credits=job.credits)
        return self._event(job, Step.FAILURE, Slot.RESULT, text, error_kind=kind,
                           alternatives=tuple(alternatives)[:2],
                           actions=failure_actions(kind, has_faster=has_faster, charge=charge))

    # ------------------------------------------------------------ Step 5
    def done(self, job: Job, success_actions: Sequence[ActionKind] = ()) -> UxEvent:
        """The final status: the pre-generation block and how it ended; after a success also the result's
        hints and its follow-up buttons (platforms that show no separate result text put them here)."""
        lang = job.language
        actions: tuple[ActionKind, ...] = ()
        if job.state is JobState.DONE:
            line = self._t("ux.done.success", lang, actual=self.actual_seconds(job))
            line = "\n".join((line, *job.hints))
            actions = tuple(success_actions)
        elif job.state is JobState.CANCELLED:
            line = self._t("ux.done.cancelled", lang)
        elif job.state is JobState.TIMED_OUT:
            line = self._t("ux.done.timed_out", lang)
        else:
            line = self._t("ux.done.failed", lang)
        text = self.pregen_block(job) + "\n\n" + line if job.model_name else line
        return self._event(job, Step.DONE, Slot.STATUS, text, error_kind=job.error_kind, actions=actions)

    # ------------------------------------------------------------ replies that are not a generation
    def notice(self, conversation: Conversation, language: Language, text: str, job_id: str = "") -> UxEvent:
        return UxEvent(job_id=job_id, conversation=conversation, step=Step.NOTICE, slot=Slot.NOTICE,
                       text=text, language=language)
