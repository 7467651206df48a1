"""What the status page and /readyz need to know right now and the store does not hold: each live job's
last shown progress, when IMA last answered the product list, and each platform's connection probe."""

from __future__ import annotations

from collections.abc import Callable

from core.clock import Clock
from core.jobs import Job, JobState
from core.ops.telemetry import NoTelemetry
from core.types import Platform

ConnectionProbe = Callable[[], bool]


class LiveView(NoTelemetry):
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.progress: dict[str, int] = {}  # job id -> last percent shown; dropped when the job ends
        self.last_product_list: float | None = None
        self.connections: dict[Platform, ConnectionProbe] = {}

    def job_state(self, job: Job, previous: JobState | None) -> None:
        if job.state.terminal:
            self.progress.pop(job.job_id, None)

    def job_progress(self, job_id: str, percent: int | None) -> None:
        if percent is not None:
            self.progress[job_id] = percent

    def ima_call(self, endpoint: str, outcome: str, seconds: float) -> None:
        if endpoint == "product_list" and outcome == "ok":
            self.last_product_list = self._clock.now()

    def connected(self) -> dict[Platform, bool]:
        return {platform: _safe(probe) for platform, probe in self.connections.items()}


def _safe(probe: ConnectionProbe) -> bool:
    try:
        return bool(probe())
    except Exception:  # a probe reading an SDK's state must never break /readyz
        return False
