"""The one place that turns an error into what a user reads (seeds 002/003 "Error Message Translation").

Reasons come from the ``errors.reason.*`` catalog keys (a media-specific key wins over the generic
one); 401 / 4008 / 4014 add the key or credit links. Every failure also says what happened to the
user's points: nothing charged (before the create call), maybe charged (the create was sent and its
answer never came), or created and charged (a task id exists: its id and the creation record come
before any offer of a new, paid try). Nothing here ever shows a code, exception text or parameter name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from core.errors import UNCERTAIN_CREATE_KINDS, ErrorKind, ImabotError
from core.jobs import Job
from core.media.preflight import MediaRejectedError
from core.messages import Messages
from core.platform import ActionKind, Alternative
from core.types import Language, MediaType
from core.ux.detail_text import ima_error_detail
from core.ux.preflight_text import render_violations

_LINKS: Mapping[ErrorKind, str] = {
    ErrorKind.AUTH: "errors.link.apikey",
    ErrorKind.INSUFFICIENT_POINTS: "errors.link.credits",
    ErrorKind.SUBSCRIPTION_REQUIRED: "errors.link.subscription",
}
# The task exists (or may) and may still finish: another model is not the remedy, the record is.
_FOLLOW_THE_RECORD = UNCERTAIN_CREATE_KINDS | {ErrorKind.TASK_NOT_FOUND, ErrorKind.POLL_UNREACHABLE,
                                               ErrorKind.STORE_UNAVAILABLE}
# Another model would not help with these (the key, the network, the user's own media or choice).
_NO_ALTERNATIVES = _FOLLOW_THE_RECORD | {
    ErrorKind.AUTH, ErrorKind.NETWORK, ErrorKind.MISSING_PROMPT, ErrorKind.CANCELLED, ErrorKind.INVALID_INPUT,
    ErrorKind.VERIFY_FAILED, ErrorKind.RATE_LIMITED, ErrorKind.UPLOAD_REFUSED, ErrorKind.UNSAFE_URL,
    ErrorKind.VERIFY_PENDING, ErrorKind.REFUSED,
}
# Retrying the same request cannot succeed (or could charge twice) for these.
_NO_RETRY = _FOLLOW_THE_RECORD | {
    ErrorKind.AUTH, ErrorKind.INSUFFICIENT_POINTS, ErrorKind.SUBSCRIPTION_REQUIRED, ErrorKind.MISSING_PROMPT,
    ErrorKind.CANCELLED, ErrorKind.INVALID_INPUT, ErrorKind.VERIFY_FAILED, ErrorKind.UNSAFE_URL,
    ErrorKind.REFUSED,
}


class Charge(StrEnum):
    """What a failed job cost the user, as far as we know."""

    NONE = "none"  # the create call was never sent
    UNKNOWN = "unknown"  # sent, but its answer never arrived: the task may exist
    CREATED = "created"  # IMA answered with a task id: created and charged


def charge_of(job: Job) -> Charge:
    if job.task_id:
        return Charge.CREATED
    return Charge.UNKNOWN if job.maybe_created else Charge.NONE


def charge_text(messages: Messages, charge: Charge, language: Language, *, task_id: str | None = None,
                credits: int | None = None) -> str:
    """The line that says what happened to the user's points (and, when a task may exist, where to
    look before paying again)."""
    if charge is Charge.CREATED:
        key = "errors.charge.created" if credits is not None else "errors.charge.created_no_points"
        return messages.text(key, language, task_id=task_id or "", credits=0 if credits is None else credits)
    return messages.text(f"errors.charge.{charge.value}", language)


def error_detail(messages: Messages, exc: ImabotError, language: Language) -> str | None:
    """The specific line under the generic reason: every refused file with its value and allowed
    range, the option a model does not offer, the models that exist. None when nothing specific."""
    if isinstance(exc, MediaRejectedError) and exc.violations:
        return render_violations(exc.violations, language, messages)
    return ima_error_detail(messages, exc, language)


def reason_text(messages: Messages, kind: ErrorKind, media: MediaType, language: Language) -> str:
    for key in (f"errors.reason.{kind.value}.{media.value}", f"errors.reason.{kind.value}",
                f"errors.reason.generic.{media.value}"):
        if messages.has(key):
            return messages.text(key, language)
    return messages.text("errors.reason.generic", language)


def offers_alternatives(kind: ErrorKind) -> bool:
    return kind not in _NO_ALTERNATIVES


def failure_actions(kind: ErrorKind, *, has_faster: bool,
                    charge: Charge = Charge.NONE) -> tuple[ActionKind, ...]:
    if kind in _NO_RETRY or charge is Charge.UNKNOWN:
        return ()
    if has_faster and kind in (ErrorKind.TIMEOUT, ErrorKind.UNAVAILABLE, ErrorKind.MEDIA_FAILED):
        return (ActionKind.RETRY, ActionKind.FASTER)
    return (ActionKind.RETRY,)


def failure_text(
    messages: Messages,
    kind: ErrorKind,
    media: MediaType,
    language: Language,
    alternatives: Sequence[Alternative] = (),
    detail: str | None = None,
    *,
    inputs_beyond_images: bool = False,
    charge: Charge = Charge.NONE,
    task_id: str | None = None,
    credits: int | None = None,
) -> str:
    """The Step 4 message: head, reason, optional detail/links, what was charged (with the task id and
    creation record when a task exists or may exist), then 1-2 alternatives and a retry offer.

    ``inputs_beyond_images``: the request carried video or audio, so a reason that speaks only of
    images (the seeds' image-to-video wording) would point at the wrong file."""
    if kind is ErrorKind.CANCELLED:  # the user's own choice, not a failure: no "failed" headline
        lines = [messages.text("errors.head.cancelled", language)]
    else:
        if kind is ErrorKind.INVALID_INPUT and inputs_beyond_images:
            reason = messages.text("errors.reason.invalid_input", language)
        else:
            reason = reason_text(messages, kind, media, language)
        lines = [messages.text(f"errors.head.{media.value}", language),
                 messages.text("errors.reason_line", language, reason=reason)]
    if detail:
        lines.append(detail)
    if kind in _LINKS:
        lines.append(messages.text(_LINKS[kind], language))
    lines.append(charge_text(messages, charge, language, task_id=task_id, credits=credits))
    if kind is ErrorKind.CANCELLED and charge is not Charge.NONE:  # IMA has no way to stop a task
        lines.append(messages.text(f"cancel.not_stopped.{charge.value}", language))
    shown = list(alternatives)[:2] if offers_alternatives(kind) and charge is not Charge.UNKNOWN else []
    if shown:
        lines.append(messages.text("errors.alternatives", language))
        for alt in shown:
            if alt.points is None:
                lines.append(messages.text("errors.alternative_no_points", language, model=alt.model_name))
            else:
                lines.append(messages.text("errors.alternative", language, model=alt.model_name,
                                           points=alt.points))
    if shown:
        lines.append("")
        offer = "errors.retry_offer.charged_again" if charge is Charge.CREATED else "errors.retry_offer"
        lines.append(messages.text(offer, language))
    return "\n".join(lines)
