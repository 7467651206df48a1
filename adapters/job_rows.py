"""The ``jobs`` table's columns and the mapping between a row and ``core.jobs.Job``, shared by every SQL
store (SQLite, PostgreSQL): one place decides how a job is laid out, each backend only its dialect."""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from core.errors import ErrorKind
from core.jobs import (
    TERMINAL_STATES,
    UNCANCELLABLE_STATES,
    Job,
    JobState,
    conversation_from_dict,
    conversation_to_dict,
    media_from_json,
    media_to_json,
    request_from_json,
    request_to_json,
)

# Written by insert; ``save`` writes ``SAVED_COLUMNS``.
COLUMNS = (
    "job_id", "idempotency_key", "platform", "chat_id", "user_id", "message_id", "conversation", "request",
    "state", "model_id", "model_name", "credits", "eta_min_s", "eta_max_s", "task_id", "created_at",
    "updated_at", "submitted_at", "finished_at", "message_refs", "result", "error_kind", "error_params",
    "notes", "hints", "from_preference", "notice_only", "parent_job_id", "polls",
    "lease_owner", "lease_until", "cancel_requested_at",
)
# What a save writes: not the lease (its own statements), nor what identifies the job and never changes
# after the insert. Every indexed column in an UPDATE's SET rewrites its index entry, same value or
# not: saving those too made a save write 4.1 WAL pages instead of 2.6 (and cost 50 % more CPU).
IDENTITY_COLUMNS = frozenset({"job_id", "idempotency_key", "platform", "chat_id", "user_id", "message_id",
                              "conversation", "created_at"})
SAVED_COLUMNS = tuple(c for c in COLUMNS[:-3] if c not in IDENTITY_COLUMNS)
_SAVED = operator.itemgetter(*(COLUMNS.index(c) for c in SAVED_COLUMNS))
TERMINAL_SQL = ", ".join(f"'{s.value}'" for s in sorted(TERMINAL_STATES))
PARKED = JobState.AWAITING_CONFIRMATION.value
UNCANCELLABLE_SQL = ", ".join(f"'{s.value}'" for s in sorted(UNCANCELLABLE_STATES))


class Row(Protocol):
    def __getitem__(self, key: str) -> Any: ...


def job_values(job: Job, parts: tuple[str, str]) -> tuple[Any, ...]:
    """Values in ``COLUMNS`` order (booleans as Python bools: both drivers adapt them). ``parts``: the
    conversation and request encoded (``JobEncoder``)."""
    conv = job.conversation
    conversation_json, request_json = parts
    return (
        job.job_id, job.idempotency_key, conv.platform.value, conv.chat_id, conv.user_id, conv.message_id,
        conversation_json, request_json,
        job.state.value, job.model_id, job.model_name, job.credits,
        job.eta_s[0] if job.eta_s else None, job.eta_s[1] if job.eta_s else None, job.task_id,
        job.created_at, job.updated_at, job.submitted_at, job.finished_at,
        _json_object(job.message_refs), media_to_json(job.result) if job.result else None,
        job.error_kind.value if job.error_kind else None,
        _json_object(job.error_params), _json_list(job.notes), _json_list(job.hints),
        job.from_preference, job.notice_only, job.parent_job_id, job.polls, job.lease_owner, job.lease_until,
        job.cancel_requested_at,
    )


# A job is saved ~6 times and these are mostly empty; json.dumps with options builds an encoder per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def _json_object(values: Mapping[str, Any]) -> str:
    return _ENCODE(dict(values)) if values else "{}"


def _json_list(values: Sequence[Any]) -> str:
    return _ENCODE(list(values)) if values else "[]"


def _parts(job: Job) -> tuple[str, str]:
    conversation = json.dumps(conversation_to_dict(job.conversation), ensure_ascii=False)
    return conversation, request_to_json(job.request)


class JobEncoder:
    """Job rows (``job_values``) for a store that saves each job many times: a job's conversation
    and request (the largest columns) are encoded once and reused while they are the same objects (a
    change replaces them: jobs are immutable). Entries go when the job ends, the oldest past ``keep``."""

    def __init__(self, keep: int = 20_000) -> None:
        self._keep = keep
        self._encoded: dict[str, tuple[object, object, tuple[str, str]]] = {}

    def values(self, job: Job) -> tuple[Any, ...]:
        return job_values(job, self._parts(job))

    def saved(self, job: Job) -> tuple[Any, ...]:
        """Values in ``SAVED_COLUMNS`` order."""
        saved: tuple[Any, ...] = _SAVED(self.values(job))
        return saved

    def _parts(self, job: Job) -> tuple[str, str]:
        known = self._encoded.get(job.job_id)
        if known is not None and known[0] is job.conversation and known[1] is job.request:
            parts = known[2]
        else:
            parts = _parts(job)
        if job.state in TERMINAL_STATES:
            self._encoded.pop(job.job_id, None)
        elif known is None or known[2] is not parts:
            self._encoded[job.job_id] = (job.conversation, job.request, parts)
            if len(self._encoded) > self._keep:
                del self._encoded[next(iter(self._encoded))]
        return parts


def job_from_row(row: Row) -> Job:
    eta = (int(row["eta_min_s"]), int(row["eta_max_s"])) if row["eta_min_s"] is not None else None
    return Job(
        job_id=row["job_id"],
        idempotency_key=row["idempotency_key"],
        conversation=conversation_from_dict(json.loads(row["conversation"])),
        request=request_from_json(row["request"]),
        state=JobState(row["state"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        model_id=row["model_id"],
        model_name=row["model_name"],
        credits=row["credits"],
        eta_s=eta,
        task_id=row["task_id"],
        submitted_at=row["submitted_at"],
        finished_at=row["finished_at"],
        message_refs=json.loads(row["message_refs"]),
        result=media_from_json(row["result"]),
        error_kind=ErrorKind(row["error_kind"]) if row["error_kind"] else None,
        error_params=json.loads(row["error_params"]),
        notes=tuple(json.loads(row["notes"])),
        hints=tuple(json.loads(row["hints"])),
        from_preference=bool(row["from_preference"]),
        notice_only=bool(row["notice_only"]),
        parent_job_id=row["parent_job_id"],
        polls=int(row["polls"]),
        lease_owner=row["lease_owner"],
        lease_until=float(row["lease_until"] or 0.0),
        cancel_requested_at=row["cancel_requested_at"],
    )
