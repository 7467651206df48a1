"""How the pipeline reaches the spend rules: one bundle in ``RunnerDeps`` and a job-store wrapper that
settles the ledger whenever a job's outcome is saved (so every ending, on every path, settles)."""

from __future__ import annotations

from dataclasses import dataclass

from core.jobs import ForwardingJobStore, Job, JobState, JobStore
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


class SettlingJobStore(ForwardingJobStore):
    """``JobStore`` that settles or releases the job's ledger entry when it reaches an outcome (its
    result is known - DELIVERING - or it ended). Settling is idempotent, so repeated saves are harmless."""

    def __init__(self, inner: JobStore, gate: SpendGate) -> None:
        super().__init__(inner)
        self._gate = gate

    async def save(self, job: Job) -> None:
        await self._inner.save(job)
        if not job.notice_only and (job.state.terminal or job.state is JobState.DELIVERING):
            await self._gate.finished(
                job.job_id,
                job.credits,
                created=charged(job),
                failed=job.state is not JobState.DONE and job.state is not JobState.DELIVERING,
            )
