"""``Telemetry`` as Prometheus metrics (prometheus-client), in a registry of its own per app.

Each fact costs a label lookup and an add. Job durations and time-to-first-progress need the job's
start and model until the job ends or first shows progress: one small dict entry per live job.
Gauges that describe the present (jobs per state, platform connected) are set by the /metrics handler
just before a scrape (see ``bot.ops.server``), not per event.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from core.clock import Clock
from core.jobs import Job, JobState
from core.ops.telemetry import NoTelemetry
from core.types import MediaType, Platform

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Video jobs take minutes (Seedance up to 15); images seconds.
JOB_BUCKETS = (1, 5, 10, 20, 30, 60, 90, 120, 180, 300, 450, 600, 900, 1200, 1800, 3600)
CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
NO_MODEL = "none"


class PrometheusTelemetry(NoTelemetry):
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.transitions = Counter("imabot_job_transitions", "Jobs entering a state",
                                   ["state", "media_type"], registry=r)
        self.jobs = Gauge("imabot_jobs", "Unfinished jobs by state (at scrape time)",
                          ["state", "media_type"], registry=r)
        self.duration = Histogram("imabot_job_duration_seconds", "Acceptance to end of a job",
                                  ["model", "outcome"], buckets=JOB_BUCKETS, registry=r)
        self.first_progress = Histogram("imabot_job_first_progress_seconds",
                                        "Acceptance to the first progress (IMA reports running, or the "
                                        "first progress update shown)", ["model"], buckets=JOB_BUCKETS,
                                        registry=r)
        self.ima_requests = Counter("imabot_ima_requests", "Requests to IMA by endpoint and outcome code",
                                    ["endpoint", "outcome"], registry=r)
        self.ima_latency = Histogram("imabot_ima_request_seconds", "IMA request latency",
                                     ["endpoint"], buckets=CALL_BUCKETS, registry=r)
        self.platform_calls = Counter("imabot_platform_calls", "Chat platform API calls",
                                      ["platform", "operation", "outcome"], registry=r)
        self.platform_errors = Counter("imabot_platform_errors", "Chat platform API calls that failed",
                                       ["platform", "operation"], registry=r)
        self.platform_latency = Histogram("imabot_platform_call_seconds", "Chat platform API call latency",
                                          ["platform"], buckets=CALL_BUCKETS, registry=r)
        self.rate_limit_waits = Counter("imabot_platform_rate_limit_waits", "Waits for a platform rate limit",
                                        ["platform"], registry=r)
        self.rate_limit_seconds = Counter("imabot_platform_rate_limit_wait_seconds",
                                          "Seconds spent waiting for platform rate limits", ["platform"],
                                          registry=r)
        self.connected = Gauge("imabot_platform_connected", "1 when the platform connection is up",
                               ["platform"], registry=r)
        self.queue = Gauge("imabot_queue_length", "Accepted jobs waiting for a generation slot", registry=r)
        self.points = Counter("imabot_points_spent", "IMA points spent on created tasks", ["media_type"],
                              registry=r)
        self.deliveries = Counter("imabot_deliveries", "Results and failure cards delivered to chats",
                                  ["platform", "outcome"], registry=r)
        self.dedupe = Counter("imabot_dedupe_hits", "Repeated platform deliveries recognised and ignored",
                              ["platform"], registry=r)
        # job id -> (accepted at, model) until its first progress, then None; dropped when the job ends
        self._live: dict[str, tuple[float, str] | None] = {}

    # ------------------------------------------------------------ Telemetry
    def job_state(self, job: Job, previous: JobState | None) -> None:
        self.transitions.labels(job.state.value, job.media_type.value).inc()
        model = job.model_id or NO_MODEL
        if job.state.terminal:
            self._live.pop(job.job_id, None)
            end = job.finished_at if job.finished_at is not None else job.updated_at
            self.duration.labels(model, job.state.value).observe(max(0.0, end - job.created_at))
        elif job.state is JobState.RUNNING:
            self._progressed(job.job_id)
        elif job.job_id not in self._live or self._live[job.job_id] is not None:
            self._live[job.job_id] = (job.created_at, model)  # the model is known from SUBMITTING on

    def job_progress(self, job_id: str, percent: int | None) -> None:
        self._progressed(job_id)

    def ima_call(self, endpoint: str, outcome: str, seconds: float) -> None:
        self.ima_requests.labels(endpoint, outcome).inc()
        self.ima_latency.labels(endpoint).observe(seconds)

    def platform_call(self, platform: Platform, operation: str, outcome: str, seconds: float) -> None:
        self.platform_calls.labels(platform.value, operation, outcome).inc()
        if outcome != "ok":
            self.platform_errors.labels(platform.value, operation).inc()
        self.platform_latency.labels(platform.value).observe(seconds)

    def platform_rate_limited(self, platform: Platform, wait_s: float) -> None:
        self.rate_limit_waits.labels(platform.value).inc()
        self.rate_limit_seconds.labels(platform.value).inc(max(0.0, wait_s))

    def queue_length(self, waiting: int) -> None:
        self.queue.set(waiting)

    def points_spent(self, media_type: MediaType, points: int) -> None:
        self.points.labels(media_type.value).inc(points)

    def delivery(self, platform: Platform, outcome: str) -> None:
        self.deliveries.labels(platform.value, outcome).inc()

    def dedupe_hit(self, platform: Platform) -> None:
        self.dedupe.labels(platform.value).inc()

    # ------------------------------------------------------------ scrape
    def scrape(self, unfinished: Mapping[tuple[str, str], int], connected: Mapping[Platform, bool]) -> bytes:
        """The exposition text, with the present-state gauges set from ``unfinished`` ((state,
        media_type) -> count, from the store) and ``connected``."""
        self.jobs.clear()
        for state in JobState:
            if not state.terminal:
                for media in MediaType:
                    count = unfinished.get((state.value, media.value), 0)
                    self.jobs.labels(state.value, media.value).set(count)
        for platform, up in connected.items():
            self.connected.labels(platform.value).set(1 if up else 0)
        return generate_latest(self.registry)

    def _progressed(self, job_id: str) -> None:
        started = self._live.get(job_id)
        if started is not None:
            accepted_at, model = started
            self.first_progress.labels(model).observe(max(0.0, self._clock.now() - accepted_at))
            self._live[job_id] = None
