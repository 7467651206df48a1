"""Job leases across replicas: keep this replica's leases alive, notice the ones it lost, and take over
jobs whose holder stopped renewing (crashed, partitioned, killed).

Every ``lease_s / 3`` (on the injected clock) one renewal statement extends every lease this replica
holds; then it claims as many free jobs as it has room for (``JobStore.claim`` is atomic, so two replicas
never take the same job). A job whose lease moved while it was running here (this replica stalled for
longer than a lease) is dropped: its new holder carries on, and every write from here is refused by the
store anyway (``LeaseLostError``).

Only the holder acts on a job. A cancel that reaches another replica while the lease is live is recorded
in the store (``JobStore.request_cancel``); the holder carries it out at its next heartbeat, and a replica
that takes a job over with a cancel pending cancels it instead of resuming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from typing import Protocol

from core.clock import Clock
from core.jobs import UNCANCELLABLE_STATES, Job, JobStore

log = logging.getLogger(__name__)


class LeaseHolder(Protocol):
    """What the keeper needs from the service that runs the jobs."""

    def running_job_ids(self) -> Collection[str]: ...

    def free_capacity(self) -> int: ...

    def platforms(self) -> Collection[str]: ...

    def resume(self, job: Job) -> None: ...

    def drop(self, job_id: str) -> None: ...

    def cancel_requested(self, job_id: str) -> None:
        """Another replica recorded a cancel of ``job_id``, which this one holds: carry it out."""
        ...


class LeaseKeeper:
    def __init__(self, jobs: JobStore, clock: Clock, owner: str, lease_s: float, holder: LeaseHolder) -> None:
        self._jobs = jobs
        self._clock = clock
        self._owner = owner
        self._lease_s = lease_s
        self._holder = holder
        self._task: asyncio.Task[None] | None = None
        self.beating = False
        """A heartbeat is under way (its store calls have not all come back)."""

    @property
    def owner(self) -> str:
        return self._owner

    def until(self) -> float:
        """When a lease taken now ends."""
        return self._clock.now() + self._lease_s

    async def claim(self) -> int:
        """Take free jobs up to the holder's capacity and hand them over; returns how many."""
        limit = self._holder.free_capacity()
        platforms = self._holder.platforms()
        if limit <= 0 or not platforms:
            return 0
        now = self._clock.now()
        claimed = await self._jobs.claim(self._owner, now, now + self._lease_s, limit, platforms)
        for job in claimed:
            log.info("job %s: lease taken by %s", job.job_id, self._owner)
            if job.cancel_requested_at is not None and job.state not in UNCANCELLABLE_STATES:
                self._holder.cancel_requested(job.job_id)
            else:
                self._holder.resume(job)
        return len(claimed)

    async def heartbeat(self) -> None:
        """Renew, drop what was lost, carry out cancels asked for elsewhere, claim what is free."""
        held = await self._jobs.renew(self._owner, self.until())
        for job_id in set(self._holder.running_job_ids()) - held:
            latest = await self._jobs.get(job_id)
            if latest is not None and latest.lease_owner != self._owner:
                log.warning("job %s: lease moved to another replica; stopping it here", job_id)
                self._holder.drop(job_id)
        for job_id in await self._jobs.cancel_requests(self._owner):
            self._holder.cancel_requested(job_id)
        await self.claim()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._beat(), name="lease-keeper")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _beat(self) -> None:
        interval = self._lease_s / 3
        while True:
            await self._clock.sleep(interval)
            self.beating = True
            try:
                await self.heartbeat()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is briefly unreachable: try again next beat
                log.warning("lease heartbeat failed: %s", type(exc).__name__)
            finally:
                self.beating = False
