"""What a job runner is built from (``RunnerDeps``) and what the service asks of it (``JobSteps``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from core.catalog.models import ModelCatalog
from core.clock import Clock
from core.errors import ErrorKind
from core.jobs import Job, JobStore
from core.messages import Messages
from core.ops.telemetry import NoTelemetry, Telemetry
from core.pipeline.delivery import DeliveryLog
from core.platform import AttachmentFetcher, EventSink
from core.ports import ImaGateway, InputPreparer, PreferenceStore
from core.selection import ModelProfile
from core.spend.hooks import Spend
from core.timing.durations import DurationBook
from core.types import Conversation, Language, Platform

_POLICY_WORDS = ("policy", "moderat", "sensitive", "safety", "违规", "敏感", "审核")


@dataclass(frozen=True, slots=True)
class RunnerDeps:
    gateway: ImaGateway
    jobs: JobStore
    preferences: PreferenceStore
    catalog: ModelCatalog
    messages: Messages
    clock: Clock
    sinks: Mapping[Platform, EventSink]  # live view: adapters register sinks after start-up
    fetchers: Mapping[Platform, AttachmentFetcher]
    preparer: InputPreparer | None = None
    profile: ModelProfile = field(default_factory=ModelProfile)
    # Operator-configured estimates (settings ``catalog.estimated_seconds``): they win over the live list.
    eta_overrides: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    delivery_attempts: int = 3
    telemetry: Telemetry = field(default_factory=NoTelemetry)
    spend: Spend | None = None  # budgets, queue, confirmation, own keys (issue #12); None: no limits
    deliveries: DeliveryLog | None = None  # exactly-once records of result parts (None: refs only)
    # Learned generation times (per model, duration, resolution): the poll schedule and the progress.
    durations: DurationBook = field(default_factory=DurationBook)


def classify_failure(reason: str | None) -> ErrorKind:
    lowered = (reason or "").lower()
    return ErrorKind.CONTENT_POLICY if any(w in lowered for w in _POLICY_WORDS) else ErrorKind.MEDIA_FAILED


class JobSteps(Protocol):
    """What the service asks of a job runner: the whole run, and the steps it takes itself at intake
    and on a cancel."""

    async def run(self, job: Job) -> Job: ...

    async def acknowledge(self, job: Job) -> Job:
        """Show Step 0 in the job's status message; the job with that message remembered (not yet
        advanced: the caller decides whether it goes on)."""
        ...

    async def cancel(self, job: Job) -> Job:
        """End an unfinished job as cancelled and say so."""
        ...

    async def notify(self, conversation: Conversation, language: Language, text: str,
                     job_id: str = "") -> None:
        """A reply that is not part of a generation (help, preference saved, missing prompt)."""
        ...
