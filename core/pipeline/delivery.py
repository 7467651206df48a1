"""Exactly-once delivery of a job's result parts (issue #13 item 1).

Each part (the media message, then the link) is delivered in three recorded steps: the intent with an
idempotency token is written BEFORE the platform call, the platform call carries that token (Discord
``nonce`` + ``enforce_nonce``, Feishu ``uuid``), and the outcome (the platform's message id) is written
after. A crash anywhere leaves a part either not intended (send it), intended (its outcome is unknown:
send it again with THE SAME token, so the platform returns the message it already has instead of
posting a second one) or sent (skip it). The token is derived from the job and the part, so it is the
same in every process that ever delivers the job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from core.clock import Clock
from core.jobs import Job
from core.ops.telemetry import Telemetry
from core.platform import UxEvent

TOKEN_CHARS = 25  # Discord's nonce limit (Feishu allows 50)


class DeliveryState(StrEnum):
    INTENT = "intent"  # about to be sent (or sent, and the process died before hearing back)
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    job_id: str
    part: str
    token: str
    state: DeliveryState
    ref: str | None = None
    attempts: int = 1


class DeliveryLog(Protocol):
    """Durable delivery records (SQLite: ``adapters.sqlite.deliveries``)."""

    async def records(self, job_id: str) -> Mapping[str, DeliveryRecord]:
        """Every part of ``job_id`` with a record, by part."""
        ...

    async def intend(self, job_id: str, part: str, token: str, now: float) -> DeliveryRecord:
        """Record that ``part`` is about to be sent (a second call counts another attempt and keeps
        the first token); returns the record as stored."""
        ...

    async def sent(self, job_id: str, part: str, ref: str | None, now: float) -> None:
        """Record that ``part`` is visible on the platform as message ``ref``."""
        ...


def delivery_token(job_id: str, part: str) -> str:
    """The idempotency token of one part of one job: stable across processes, ≤ 25 characters, digits
    and letters only (valid as a Discord nonce and a Feishu uuid)."""
    return hashlib.sha256(f"{job_id}:{part}".encode()).hexdigest()[:TOKEN_CHARS]


async def deliver_once(log: DeliveryLog | None, job: Job, event: UxEvent, part: str,
                       emit: Callable[[Job, UxEvent, str], Awaitable[Job]], clock: Clock,
                       telemetry: Telemetry) -> Job:
    """Show one result part: intent (with its token) recorded before the platform call, the outcome
    after. ``emit`` shows the event and returns the job with the part's message ref remembered."""
    if log is None:
        return await emit(job, event, part)
    record = await log.intend(job.job_id, part, delivery_token(job.job_id, part), clock.now())
    if record.attempts > 1:  # a send whose outcome a crash hid is repeated with the same token
        telemetry.dedupe_hit(job.conversation.platform)
    job = await emit(job, replace(event, token=record.token), part)
    if part in job.message_refs:
        await log.sent(job.job_id, part, job.message_refs[part] or None, clock.now())
    return job
