"""Durable generation jobs: states, allowed transitions, the job value object and its store seam.

A job row is written when a request is accepted (before anything slow) and rewritten at every
transition. ``SUBMITTING`` means "a create request may have left": it is persisted right before the
request is sent (after the client's queue and quoting), and a refusal that proves nothing was created
moves the job back to ``ACKNOWLEDGED``. If the process dies while a job is ``SUBMITTING`` we cannot know
whether IMA created the task, so the job is failed with ``ErrorKind.LOST`` and the user is pointed to the
creation record instead of paying twice.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from core.errors import UNCERTAIN_CREATE_KINDS, ErrorKind
from core.request import GenerationRequest, PreferenceIntent, Tier
from core.types import (
    Attachment,
    AttachmentKind,
    Conversation,
    Language,
    MediaResult,
    MediaType,
    Platform,
    TaskType,
)


class JobState(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    UPLOADING = "uploading"
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # quoted; nothing is created until the user confirms
    SUBMITTING = "submitting"  # a create request may have left; no task id yet
    SUBMITTED = "submitted"
    RUNNING = "running"
    DELIVERING = "delivering"  # result known and persisted, not yet fully shown to the user
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT})
# States a cancel no longer applies to: ended, or its result is known and being shown.
UNCANCELLABLE_STATES = TERMINAL_STATES | {JobState.DELIVERING}
# States before the create call: safe to run again from the start after a restart.
PRE_CREATE_STATES = frozenset({JobState.RECEIVED, JobState.ACKNOWLEDGED, JobState.UPLOADING})

_ENDINGS = frozenset({JobState.FAILED, JobState.CANCELLED})
ALLOWED_TRANSITIONS: Mapping[JobState, frozenset[JobState]] = {
    JobState.RECEIVED: frozenset({JobState.ACKNOWLEDGED, JobState.DONE}) | _ENDINGS,
    JobState.ACKNOWLEDGED: frozenset({JobState.UPLOADING, JobState.SUBMITTING,
                                      JobState.AWAITING_CONFIRMATION}) | _ENDINGS,
    JobState.UPLOADING: frozenset({JobState.SUBMITTING, JobState.AWAITING_CONFIRMATION}) | _ENDINGS,
    JobState.AWAITING_CONFIRMATION: frozenset({JobState.ACKNOWLEDGED}) | _ENDINGS,
    # back to ACKNOWLEDGED: IMA refused the request (429, a validation code), so no task exists
    JobState.SUBMITTING: frozenset({JobState.SUBMITTED, JobState.ACKNOWLEDGED}) | _ENDINGS,
    JobState.SUBMITTED: frozenset({JobState.RUNNING, JobState.DELIVERING, JobState.TIMED_OUT}) | _ENDINGS,
    JobState.RUNNING: frozenset({JobState.DELIVERING, JobState.TIMED_OUT}) | _ENDINGS,
    JobState.DELIVERING: frozenset({JobState.DONE}),
    JobState.DONE: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
    JobState.TIMED_OUT: frozenset(),
}


# ``Job.error_params`` flag: the job ended (a cancel) while its create call was out and unanswered, so IMA
# may hold a task this job never learned of.
CREATE_UNANSWERED = "create_unanswered"


class TransitionError(RuntimeError):
    """A programming error: the runner tried a transition the state machine does not allow."""


@dataclass(frozen=True, slots=True)
class Job:
    job_id: str
    idempotency_key: str
    conversation: Conversation
    request: GenerationRequest
    state: JobState
    created_at: float
    updated_at: float
    model_id: str | None = None
    model_name: str | None = None
    credits: int | None = None
    eta_s: tuple[int, int] | None = None
    task_id: str | None = None
    submitted_at: float | None = None
    finished_at: float | None = None
    # slot or delivery part ("status", "result:0", ...) -> platform message ref ("" = sent, no ref)
    message_refs: Mapping[str, str] = field(default_factory=dict)
    result: tuple[MediaResult, ...] = ()
    error_kind: ErrorKind | None = None
    error_params: Mapping[str, str] = field(default_factory=dict)
    # Localized lines decided at selection time: ``notes`` go with the pre-generation notice
    # (parser notices, cheaper alternative), ``hints`` with the result (preference mismatch hint).
    notes: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    from_preference: bool = False
    notice_only: bool = False
    parent_job_id: str | None = None
    polls: int = 0
    # The replica holding this job (see ``JobStore.claim``); ``save`` succeeds only while it still does.
    # ``lease_until`` is as of the insert or claim: heartbeats extend it in the store, not on this value.
    lease_owner: str | None = None
    lease_until: float = 0.0
    # When a replica that did not hold the job recorded its user's cancel (``JobStore.request_cancel``);
    # written only by that call, never by ``save``, so the holder's own writes cannot wipe it out.
    cancel_requested_at: float | None = None

    @property
    def language(self) -> Language:
        return self.request.language

    @property
    def media_type(self) -> MediaType:
        return self.request.task_type.media_type

    @property
    def maybe_created(self) -> bool:
        """No task id, yet the create call may have reached IMA (its answer never came): a task may exist."""
        if self.task_id is not None:
            return False
        return self.error_kind in UNCERTAIN_CREATE_KINDS or CREATE_UNANSWERED in self.error_params

    def advance(self, state: JobState, now: float, **changes: Any) -> Job:
        """The job in ``state``; raises ``TransitionError`` for a move the machine forbids."""
        if state != self.state and state not in ALLOWED_TRANSITIONS[self.state]:
            raise TransitionError(f"{self.job_id}: {self.state} -> {state} is not allowed")
        if state.terminal and "finished_at" not in changes:
            changes["finished_at"] = now
        return replace(self, state=state, updated_at=now, **changes)

    def with_ref(self, part: str, ref: str | None, now: float) -> Job:
        refs = dict(self.message_refs)
        refs[part] = ref or ""
        return replace(self, message_refs=refs, updated_at=now)

    def update(self, now: float, **changes: Any) -> Job:
        return replace(self, updated_at=now, **changes)


class LeaseLostError(RuntimeError):
    """The job's lease moved to another replica (this one stalled past its lease): stop touching it."""


class JobStore(Protocol):
    async def insert(self, job: Job) -> tuple[Job, bool]:
        """Insert ``job`` (with its lease) unless its idempotency key exists; returns (stored job,
        inserted?). Across replicas sharing the store, exactly one insert of a key wins."""
        ...

    async def save(self, job: Job) -> None:
        """Persist the whole job (every transition goes through here), except its lease. Raises
        ``LeaseLostError`` when the stored lease owner is no longer ``job.lease_owner``."""
        ...

    async def claim(self, owner: str, now: float, until: float, limit: int,
                    platforms: Collection[str]) -> Sequence[Job]:
        """Atomically take up to ``limit`` unfinished jobs of ``platforms`` that nobody holds (no owner
        or an expired lease), oldest first; returns them, leased to ``owner`` until ``until``."""
        ...

    async def renew(self, owner: str, until: float) -> frozenset[str]:
        """Extend every lease ``owner`` holds on an unfinished job; returns those jobs' ids."""
        ...

    async def release(self, owner: str, job_ids: Sequence[str] | None = None) -> None:
        """Give up ``owner``'s leases on ``job_ids`` (all of them when None): after a clean shutdown
        others may resume them at once; a restarted replica frees what it held before it died."""
        ...

    async def request_cancel(self, job_id: str, owner: str, now: float, until: float) -> Job | None:
        """Record, atomically, that ``job_id``'s user asked to cancel it (kept until the job ends) and,
        unless another replica holds a live lease on it, lease it to ``owner`` until ``until``. Returns
        the stored job: leased to ``owner``, who then cancels it; or still held by that other replica,
        which acts on the request (``cancel_requests``); or ended / delivering, unchanged. None when
        there is no such job."""
        ...

    async def cancel_requests(self, owner: str) -> frozenset[str]:
        """Ids of the jobs ``owner`` holds that a cancel was requested for and that can still stop."""
        ...

    async def take_parked(self, job_id: str, owner: str, until: float) -> Job | None:
        """Lease ``job_id`` to ``owner`` until ``until``, atomically, if it is parked awaiting its user's
        confirmation with no cancel pending, whoever holds it: nobody runs a parked job, so the replica
        that acts on the answer takes it (a lease still renewed on it guards nothing). Returns the job
        leased to ``owner``; None when it is not parked (ended, cancelling, answered elsewhere) or gone."""
        ...

    async def get(self, job_id: str) -> Job | None: ...

    async def by_key(self, idempotency_key: str) -> Job | None: ...

    async def unfinished(self) -> Sequence[Job]:
        """Every job not in a terminal state, oldest first."""
        ...


class ForwardingJobStore:
    """A ``JobStore`` that hands every call to ``inner``: the base of wrappers that add something to a
    few calls (telemetry, spend settling) and pass the rest on unchanged."""

    def __init__(self, inner: JobStore) -> None:
        self._inner = inner

    async def insert(self, job: Job) -> tuple[Job, bool]:
        return await self._inner.insert(job)

    async def save(self, job: Job) -> None:
        await self._inner.save(job)

    async def claim(self, owner: str, now: float, until: float, limit: int,
                    platforms: Collection[str]) -> Sequence[Job]:
        return await self._inner.claim(owner, now, until, limit, platforms)

    async def renew(self, owner: str, until: float) -> frozenset[str]:
        return await self._inner.renew(owner, until)

    async def release(self, owner: str, job_ids: Sequence[str] | None = None) -> None:
        await self._inner.release(owner, job_ids)

    async def request_cancel(self, job_id: str, owner: str, now: float, until: float) -> Job | None:
        return await self._inner.request_cancel(job_id, owner, now, until)

    async def cancel_requests(self, owner: str) -> frozenset[str]:
        return await self._inner.cancel_requests(owner)

    async def take_parked(self, job_id: str, owner: str, until: float) -> Job | None:
        return await self._inner.take_parked(job_id, owner, until)

    async def get(self, job_id: str) -> Job | None:
        return await self._inner.get(job_id)

    async def by_key(self, idempotency_key: str) -> Job | None:
        return await self._inner.by_key(idempotency_key)

    async def unfinished(self) -> Sequence[Job]:
        return await self._inner.unfinished()


# ---------------------------------------------------------------- (de)serialization of the request


def request_to_json(request: GenerationRequest) -> str:
    return json.dumps(
        {
            "media_type": request.media_type.value,
            "task_type": request.task_type.value,
            "prompt": request.prompt,
            "language": request.language.value,
            "model_id": request.model_id,
            "tier": request.tier.value if request.tier else None,
            "params": dict(request.params),
            "preference": request.preference.value if request.preference else None,
            "attachments": [attachment_to_dict(a) for a in request.attachments],
            "notices": list(request.notices),
            "unknown_model": request.unknown_model,
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def request_from_json(raw: str) -> GenerationRequest:
    data = json.loads(raw)
    return GenerationRequest(
        media_type=MediaType(data["media_type"]),
        task_type=TaskType(data["task_type"]),
        prompt=data["prompt"],
        language=Language(data["language"]),
        model_id=data.get("model_id"),
        tier=Tier(data["tier"]) if data.get("tier") else None,
        params=dict(data.get("params") or {}),
        preference=PreferenceIntent(data["preference"]) if data.get("preference") else None,
        attachments=tuple(attachment_from_dict(a) for a in data.get("attachments") or ()),
        notices=tuple(data.get("notices") or ()),
        unknown_model=data.get("unknown_model"),
    )


def attachment_to_dict(a: Attachment) -> dict[str, Any]:
    return {"kind": a.kind.value, "name": a.name, "ref": a.ref, "size": a.size, "mime": a.mime,
            "role": a.role}


def attachment_from_dict(d: Mapping[str, Any]) -> Attachment:
    return Attachment(kind=AttachmentKind(d["kind"]), name=d["name"], ref=d["ref"], size=d.get("size"),
                      mime=d.get("mime"), role=d.get("role"))


def media_to_json(media: Sequence[MediaResult]) -> str:
    return json.dumps([
        {"url": m.url, "kind": m.kind.value, "cover_url": m.cover_url, "duration_s": m.duration_s,
         "width": m.width, "height": m.height, "format": m.format}
        for m in media
    ])


def media_from_json(raw: str | None) -> tuple[MediaResult, ...]:
    if not raw:
        return ()
    return tuple(
        MediaResult(url=m["url"], kind=MediaType(m["kind"]), cover_url=m.get("cover_url"),
                    duration_s=m.get("duration_s"), width=m.get("width"), height=m.get("height"),
                    format=m.get("format"))
        for m in json.loads(raw)
    )


def conversation_to_dict(c: Conversation) -> dict[str, Any]:
    return {"platform": c.platform.value, "chat_id": c.chat_id, "user_id": c.user_id,
            "message_id": c.message_id, "is_direct": c.is_direct, "thread_id": c.thread_id,
            "user_display": c.user_display, "reply_to": c.reply_to, "space_id": c.space_id,
            "roles": list(c.roles), "manager": c.manager}


def conversation_from_dict(d: Mapping[str, Any]) -> Conversation:
    return Conversation(platform=Platform(d["platform"]), chat_id=d["chat_id"], user_id=d["user_id"],
                        message_id=d["message_id"], is_direct=bool(d.get("is_direct")),
                        thread_id=d.get("thread_id"), user_display=d.get("user_display"),
                        reply_to=d.get("reply_to"), space_id=d.get("space_id"),
                        roles=tuple(d.get("roles") or ()), manager=bool(d.get("manager")))
