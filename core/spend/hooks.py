"""How the pipeline reaches the spend rules: one bundle in ``RunnerDeps`` and a job-store wrapper that
settles the ledger whenever a job's outcome is saved (so every ending, on every path, settles)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from core.jobs import Job, JobState, JobStore
from core.spend.gate import SpendGate
from core.spend.keys import UserKeys


@dataclass(frozen=True, slots=True)
class Spend:
    gate: SpendGate
    keys: UserKeys | None = None


def charged(job: Job) -> bool:
    """A created task is charged (also when it failed later; facts §3 describe no refund); a create whose
    outcome is unknown (lost, unconfirmed, timed out, cancelled while unanswered) is counted too, so
    budgets never under-count."""
    return job.task_id is not None or job.maybe_created


class SettlingJobStore:
    """``JobStore`` that settles or releases the job's ledger entry when it reaches an outcome (its
    result is known - DELIVERING - or it ended). Settling is idempotent, so repeated saves are harmless."""

    def __init__(self, inner: JobStore, gate: SpendGate) -> None:
        self._inner = inner
        self._gate = gate

    async def insert(self, job: Job) -> tuple[Job, bool]:
        return await self._inner.insert(job)

    async def save(self, job: Job) -> None:
        await self._inner.save(job)
        if not job.notice_only and (job.state.terminal or job.state is JobState.DELIVERING):
            await self._gate.finished(
                job.job_id,
                job.credits,
                created=charged(job),
                failed=job.state is not JobState.DONE and job.state is not JobState.DELIVERING,
            )

    async def get(self, job_id: str) -> Job | None:
        return await self._inner.get(job_id)

    async def by_key(self, idempotency_key: str) -> Job | None:
        return await self._inner.by_key(idempotency_key)

    async def unfinished(self) -> Sequence[Job]:
        return await self._inner.unfinished()

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
