"""Observers that sit on existing seams, so the pipeline reports to ``Telemetry`` without a call per site.

``ObservedJobStore`` wraps any ``JobStore``: every stored transition (intake, each state change, the
end) is reported once, after the write succeeded. It remembers only the last state of the jobs this
process touches and forgets a job when it ends, so each save costs one dict lookup.

``ObservedSink`` wraps a platform's ``EventSink``: each emit is a platform call (with its latency and
outcome), progress events feed the live progress, results and failure cards count as deliveries.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from typing import Any

from core.jobs import ForwardingJobStore, Job, JobState, JobStore
from core.ops.telemetry import Telemetry
from core.platform import EventSink, Step, UxEvent
from core.ports import DedupeStore
from core.types import Platform

_DELIVERY_STEPS = frozenset({Step.SUCCESS, Step.FAILURE})


class ObservedJobStore(ForwardingJobStore):
    def __init__(self, inner: JobStore, telemetry: Telemetry) -> None:
        super().__init__(inner)
        self._telemetry = telemetry
        self._last: dict[str, JobState] = {}

    @property
    def inner(self) -> JobStore:
        return self._inner

    async def insert(self, job: Job) -> tuple[Job, bool]:
        stored, inserted = await self._inner.insert(job)
        if inserted:
            self._seen(stored, None)
        return stored, inserted

    async def save(self, job: Job) -> None:
        await self._inner.save(job)
        previous = self._last.get(job.job_id)
        if previous is not job.state:
            self._seen(job, previous)

    async def get(self, job_id: str) -> Job | None:
        job = await self._inner.get(job_id)
        if job is not None and not job.state.terminal:
            self._last.setdefault(job.job_id, job.state)
        return job

    async def unfinished(self) -> Sequence[Job]:
        jobs = await self._inner.unfinished()
        for job in jobs:  # resumed after a restart: their next transition has a known previous state
            self._last.setdefault(job.job_id, job.state)
        return jobs

    async def claim(self, owner: str, now: float, until: float, limit: int,
                    platforms: Collection[str]) -> Sequence[Job]:
        jobs = await self._inner.claim(owner, now, until, limit, platforms)
        for job in jobs:  # taken over or resumed: their next transition has a known previous state
            self._last.setdefault(job.job_id, job.state)
        return jobs

    def __getattr__(self, name: str) -> Any:
        # Store methods added later (leases, queries) pass through unobserved.
        return getattr(self._inner, name)

    def _seen(self, job: Job, previous: JobState | None) -> None:
        if job.state.terminal:
            self._last.pop(job.job_id, None)
        else:
            self._last[job.job_id] = job.state
        if job.notice_only:
            return
        self._telemetry.job_state(job, previous)
        if job.state is JobState.SUBMITTED and job.credits:
            self._telemetry.points_spent(job.media_type, job.credits)


class ObservedSink:
    def __init__(self, platform: Platform, inner: EventSink, telemetry: Telemetry) -> None:
        self._platform = platform
        self._inner = inner
        self._telemetry = telemetry

    @property
    def inner(self) -> EventSink:
        return self._inner

    async def emit(self, event: UxEvent) -> str | None:
        started = time.perf_counter()
        operation = f"emit_{event.slot.value}"
        try:
            ref = await self._inner.emit(event)
        except Exception:
            self._telemetry.platform_call(self._platform, operation, "error", time.perf_counter() - started)
            if event.step in _DELIVERY_STEPS:
                self._telemetry.delivery(self._platform, "error")
            raise
        self._telemetry.platform_call(self._platform, operation, "ok", time.perf_counter() - started)
        if event.step is Step.PROGRESS:
            self._telemetry.job_progress(event.job_id, event.percent)
        elif event.step in _DELIVERY_STEPS:
            self._telemetry.delivery(self._platform, "ok" if event.step is Step.SUCCESS else "failure_card")
        return ref

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class ObservedDedupeStore:
    """A ``DedupeStore`` whose refusals (a key seen before) count as dedupe hits of ``platform``."""

    def __init__(self, platform: Platform, inner: DedupeStore, telemetry: Telemetry) -> None:
        self._platform = platform
        self._inner = inner
        self._telemetry = telemetry

    async def first_seen(self, key: str, ttl_s: float) -> bool:
        first = await self._inner.first_seen(key, ttl_s)
        if not first:
            self._telemetry.dedupe_hit(self._platform)
        return first

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
