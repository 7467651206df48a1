"""The telemetry observer: one small seam every layer reports operational facts to.

Callers report what happened; an implementation (``bot.ops.metrics`` for Prometheus) decides what to
count. Every method is synchronous, O(1), never raises and never blocks the event loop, so calling it
on a hot path (a poll, a platform edit) is free. ``NoTelemetry`` is the default everywhere: code that
is not wired to an observer still runs unchanged. Subclass it to observe only some facts.

Outcome words are short and stable (they become metric labels): ``"ok"``, ``"error"``, an IMA
business code such as ``"6009"``, ``"http_503"``, ``"network"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from core.jobs import Job, JobState
from core.types import MediaType, Platform


class Telemetry(Protocol):
    def job_state(self, job: Job, previous: JobState | None) -> None:
        """``job`` entered ``job.state`` (``previous`` is None when it was just accepted)."""
        ...

    def job_progress(self, job_id: str, percent: int | None) -> None:
        """A progress update was shown to the user for ``job_id``."""
        ...

    def ima_call(self, endpoint: str, outcome: str, seconds: float) -> None:
        """One request to IMA (``endpoint``: product_list, create, detail, upload_token, verify...)."""
        ...

    def ima_queue_wait(self, lane: str, seconds: float) -> None:
        """A request to IMA waited ``seconds`` for a free connection (``lane``: "poll" or "call")."""
        ...

    def platform_call(self, platform: Platform, operation: str, outcome: str, seconds: float) -> None:
        """One call to a chat platform's API (send, edit, upload, ...); ``outcome`` "ok" or an error word."""
        ...

    def platform_rate_limited(self, platform: Platform, wait_s: float) -> None:
        """We waited ``wait_s`` because the platform (or our own pacing) asked us to slow down."""
        ...

    def queue_length(self, waiting: int) -> None:
        """Accepted jobs waiting for a free generation slot right now."""
        ...

    def points_spent(self, media_type: MediaType, points: int) -> None:
        """A task was created at IMA for ``points`` (reported once per created task)."""
        ...

    def delivery(self, platform: Platform, outcome: str) -> None:
        """A result (or failure card) was delivered to a chat, or could not be ("error")."""
        ...

    def dedupe_hit(self, platform: Platform) -> None:
        """A repeated delivery of a platform message or event was recognised and ignored."""
        ...


class NoTelemetry:
    """Observes nothing. Subclass and override the facts you need."""

    def job_state(self, job: Job, previous: JobState | None) -> None:
        return None

    def job_progress(self, job_id: str, percent: int | None) -> None:
        return None

    def ima_call(self, endpoint: str, outcome: str, seconds: float) -> None:
        return None

    def ima_queue_wait(self, lane: str, seconds: float) -> None:
        return None

    def platform_call(self, platform: Platform, operation: str, outcome: str, seconds: float) -> None:
        return None

    def platform_rate_limited(self, platform: Platform, wait_s: float) -> None:
        return None

    def queue_length(self, waiting: int) -> None:
        return None

    def points_spent(self, media_type: MediaType, points: int) -> None:
        return None

    def delivery(self, platform: Platform, outcome: str) -> None:
        return None

    def dedupe_hit(self, platform: Platform) -> None:
        return None


class FanOut(NoTelemetry):
    """Reports every fact to each of ``parts`` (e.g. the metrics and the status page's live view)."""

    def __init__(self, parts: Sequence[Telemetry]) -> None:
        self._parts = tuple(parts)

    def job_state(self, job: Job, previous: JobState | None) -> None:
        for part in self._parts:
            part.job_state(job, previous)

    def job_progress(self, job_id: str, percent: int | None) -> None:
        for part in self._parts:
            part.job_progress(job_id, percent)

    def ima_call(self, endpoint: str, outcome: str, seconds: float) -> None:
        for part in self._parts:
            part.ima_call(endpoint, outcome, seconds)

    def ima_queue_wait(self, lane: str, seconds: float) -> None:
        for part in self._parts:
            part.ima_queue_wait(lane, seconds)

    def platform_call(self, platform: Platform, operation: str, outcome: str, seconds: float) -> None:
        for part in self._parts:
            part.platform_call(platform, operation, outcome, seconds)

    def platform_rate_limited(self, platform: Platform, wait_s: float) -> None:
        for part in self._parts:
            part.platform_rate_limited(platform, wait_s)

    def queue_length(self, waiting: int) -> None:
        for part in self._parts:
            part.queue_length(waiting)

    def points_spent(self, media_type: MediaType, points: int) -> None:
        for part in self._parts:
            part.points_spent(media_type, points)

    def delivery(self, platform: Platform, outcome: str) -> None:
        for part in self._parts:
            part.delivery(platform, outcome)

    def dedupe_hit(self, platform: Platform) -> None:
        for part in self._parts:
            part.dedupe_hit(platform)


@runtime_checkable
class Connectable(Protocol):
    """A platform adapter that can tell whether its connection to the platform is up right now."""

    @property
    def connected(self) -> bool: ...
