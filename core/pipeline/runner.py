"""Runs one durable job from acknowledgment to delivery: select, quote, (upload), create, poll, deliver.

Every transition is saved before its side effect, so a restart can pick the job up from its row:
pre-create states start over (nothing was created), ``SUBMITTING`` (saved right before the create request
leaves, ``core.pipeline.creating``) becomes ``LOST`` (we cannot know whether IMA created the task and must
not charge twice), ``SUBMITTED``/``RUNNING`` resume polling, and
``DELIVERING`` shows only the result parts that have no recorded message yet.
Cancellation of the asyncio task (shutdown or a user's cancel) leaves the row as it was ("parked"),
except that a create call already sent is waited for and its task id recorded first.
A store that cannot write (locked, busy, full) is ridden out (``core.pipeline.durability``): once a
task exists the job goes on from memory, the user is told the truth, and results wait for the store;
result parts are delivered exactly once (``core.pipeline.delivery``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from random import Random
from typing import TypeVar

from core.errors import TRANSIENT_KINDS, ErrorKind, ImabotError, InputError
from core.jobs import CREATE_UNANSWERED, PRE_CREATE_STATES, Job, JobState, LeaseLostError
from core.pipeline.creating import CreateMarks, create_retrying
from core.pipeline.delivery import DeliveryState, deliver_once
from core.pipeline.deps import RunnerDeps, classify_failure
from core.pipeline.durability import JobRecorder
from core.pipeline.guards import NoLocalFiles, complete_despite_cancel
from core.pipeline.offers import ModelOffers
from core.pipeline.polling import backoff_policy, transient_delay
from core.pipeline.preferences import PreferenceBook
from core.pipeline.spending import SpendSteps
from core.platform import Step, UxEvent
from core.ports import ImaGateway, TaskSpec
from core.request import PreferenceIntent
from core.selection import select_model
from core.selection.form_fit import unsupported_notices
from core.timing.durations import DurationKey
from core.timing.schedule import PollPlan, poll_bounds, status_every_s
from core.types import Conversation, Language
from core.ux.error_text import error_detail
from core.ux.renderer import FAILURE_PART, STATUS_PART, SUCCESS_PARTS, UxRenderer

log = logging.getLogger(__name__)

T = TypeVar("T")
PRE_CREATE_ATTEMPTS = 3  # product list and quote: nothing is paid yet, so a transient error is retried


class JobRunner:
    def __init__(self, deps: RunnerDeps, preferences: PreferenceBook | None = None) -> None:
        self._d = deps
        self._ux = UxRenderer(deps.messages)
        self._preferences = preferences or PreferenceBook(deps.preferences, deps.catalog, deps.messages,
                                                          deps.clock)
        self._spending = (SpendSteps(self, deps.spend, deps.jobs, deps.gateway, deps.clock, deps.messages)
                          if deps.spend is not None else None)
        self._recorder = JobRecorder(deps.jobs, deps.clock)
        self._offers = ModelOffers(deps)

    # ------------------------------------------------------------ the service's interface (JobSteps)
    async def acknowledge(self, job: Job) -> Job:
        return await self.emit(job, self._ux.ack(job), STATUS_PART)

    async def cancel(self, job: Job) -> Job:
        if job.state is JobState.SUBMITTING:  # its create went out unanswered: IMA may hold a task
            job = job.update(self._d.clock.now(), error_params={**job.error_params, CREATE_UNANSWERED: "yes"})
        return await self.finish_failed(job, ErrorKind.CANCELLED)

    async def notify(self, conversation: Conversation, language: Language, text: str,
                     job_id: str = "") -> None:
        sink = self._d.sinks.get(conversation.platform)
        if sink is not None:
            await sink.emit(self._ux.notice(conversation, language, text, job_id))

    # ------------------------------------------------------------ entry point
    async def run(self, job: Job) -> Job:
        try:
            if job.state is JobState.AWAITING_CONFIRMATION:  # parked until the user answers
                return job
            if job.state is JobState.RECEIVED:  # written but never acknowledged (crash right after intake)
                job = await self.acknowledge(job)
                job = job.advance(JobState.ACKNOWLEDGED, self._d.clock.now())
                await self._recorder.save(job)
            if job.state in PRE_CREATE_STATES:
                job = await self._submit(job)
            elif job.state is JobState.SUBMITTING:
                # Crash while the create call was in flight: do not re-create (see module docstring).
                return await self.finish_failed(job, ErrorKind.LOST)
            if job.state in (JobState.SUBMITTED, JobState.RUNNING):
                job = await self._follow(job)
            if job.state is JobState.DELIVERING:
                job = await self._deliver(job)
            return job
        except asyncio.CancelledError:
            raise
        except LeaseLostError:
            log.warning("job %s: another replica holds it now; stopping here", job.job_id)
            return job
        except Exception as exc:
            return await self._fail_after(job, exc)
        finally:
            self._recorder.forget(job.job_id)

    async def _fail_after(self, job: Job, exc: Exception) -> Job:
        """End the job with a failure message, whatever went wrong; even if recording or showing that
        fails too, the coroutine ends with an error log naming the job, never silently."""
        if isinstance(exc, ImabotError):
            log.info("job %s failed: %s (code %s)", job.job_id, exc.kind.value, exc.code)
            kind = exc.kind
        else:  # type only at error level (exception text may carry request data); the trace for debugging
            log.error("job %s crashed: %s", job.job_id, type(exc).__name__)
            log.debug("job %s crash trace", job.job_id, exc_info=True)
            kind = ErrorKind.INTERNAL
        try:
            latest = await self._recorder.latest(job)
            detail = None
            if isinstance(exc, ImabotError):
                detail = error_detail(self._d.messages, exc, latest.language)
                if self._spending is not None:
                    detail = await self._spending.failure_detail(latest, exc, detail)
            return await self.finish_failed(latest, kind, detail=detail)
        except asyncio.CancelledError:
            raise
        except Exception as second:
            log.error("job %s: could not end as failed (%s after %s)", job.job_id, type(second).__name__,
                      type(exc).__name__)
            return job

    async def _keep(self, job: Job) -> Job:
        return await self._recorder.keep(job, self._tell_store_outage)

    async def _tell_store_outage(self, job: Job) -> Job:
        """Once per job, in the status message (no extra message): created, its id, points, the record."""
        truth = self._d.messages.text("reliability.store_outage", job.language, task_id=job.task_id or "",
                                      credits=job.credits if job.credits is not None else "?")
        job = job.update(self._d.clock.now(), notes=(*job.notes, truth))
        return await self.emit(job, self._ux.progress(job, self._d.clock.now()), STATUS_PART)

    # ------------------------------------------------------------ select, quote, upload, create
    async def _submit(self, job: Job) -> Job:
        d, request = self._d, job.request
        leaves = await self._patiently(lambda: d.gateway.list_products(request.task_type))
        preference = await self._preferences.current(job.conversation, request.task_type)
        selection = select_model(request, leaves, catalog=d.catalog, preference=preference, profile=d.profile,
                                 messages=d.messages)
        notes = [*request.notices, *selection.notices]
        if request.preference is PreferenceIntent.SAVE:  # a clear was applied at intake
            confirmation = await self._preferences.record(job.conversation, request, selection)
            if confirmation:  # said in the status message, like every other notice of a generation
                notes.insert(0, confirmation)
        params = dict(selection.params)
        count = int(params.pop("n", 1) or 1)  # "画4张" where the form offers n: one task, n results
        spec = TaskSpec(task_type=request.task_type, model_id=selection.model_id, prompt=request.prompt,
                        version_id=selection.leaf.version_id, params=params, n=count,
                        language=request.language.value)
        quote = await self._patiently(lambda: d.gateway.quote(spec))
        cost = quote.credit * max(1, spec.n)  # what is shown is what is charged
        eta = self._offers.estimate(selection.model_id, selection.leaf)
        source = selection.source
        notes += unsupported_notices(quote.ignored_params, request.params,
                                     d.catalog.display_name(selection.model_id, request.language),
                                     d.messages, request.language)
        if not quote.exact:
            notes.append(d.messages.text("spend.quote.fallback_rule", job.language))
        auto = source in ("recommendation", "default")
        cheaper = self._offers.cheaper(selection.model_id, quote.credit, leaves, job) if auto else None
        if cheaper is not None:
            notes.append(d.messages.text("ux.pregen.cheaper", job.language, model=cheaper.model_name,
                                         points=cheaper.points))
        job = job.update(d.clock.now(), model_id=selection.model_id,
                         model_name=self._offers.model_name(selection.model_id, selection.leaf, job),
                         credits=None, eta_s=eta, notes=tuple(notes),
                         hints=(selection.mismatch_hint,) if selection.mismatch_hint else (),
                         from_preference=source == "preference")
        await self._recorder.save(job)
        spending = self._spending
        if spending is not None and (refused := await spending.precheck(job, cost)) is not None:
            return refused
        if request.attachments:  # checked (counts, kinds, sizes, probes) before the cost is shown
            job = await self.emit(job, self._ux.pregen(job), STATUS_PART)
            job = job.advance(JobState.UPLOADING, d.clock.now())
            await self._recorder.save(job)
            spec = await self._prepare_inputs(job, spec)
        job = job.update(d.clock.now(), credits=cost)
        await self._recorder.save(job)
        pregen = self._ux.pregen(job)
        if request.attachments:
            pregen = replace(pregen, step=Step.PROGRESS, percent=0)
        job = await self.emit(job, pregen, STATUS_PART)
        gateway = d.gateway
        if spending is not None:
            cleared = await spending.clear_to_create(job, selection, cost)
            if isinstance(cleared, Job):
                return cleared
            gateway = cleared
        marks = CreateMarks(job, self._recorder, d.clock)  # SUBMITTING once the request really leaves
        return await complete_despite_cancel(self._create_and_record(marks, spec, gateway),
                                             marks.may_have_left)

    async def _create_and_record(self, marks: CreateMarks, spec: TaskSpec, gateway: ImaGateway) -> Job:
        d, job = self._d, marks.job

        async def busy() -> None:
            marks.job = await self.emit(marks.job, self._ux.stage(marks.job, "busy"), STATUS_PART)

        created = await create_retrying(gateway, spec, d.clock, busy, seed=job.job_id, watch=marks)
        now = d.clock.now()
        job = marks.job.advance(JobState.SUBMITTED, now, task_id=created.task_id, submitted_at=now,
                                credits=created.quote.credit * spec.n)
        return await self._keep(job)

    async def _patiently(self, call: Callable[[], Awaitable[T]]) -> T:
        """Calls before the create are safe to repeat: retry transient failures a few times."""
        seed, rng = f"{self._d.clock.now()}", None  # the jitter's generator is made on a first failure
        for attempt in range(1, PRE_CREATE_ATTEMPTS + 1):
            try:
                return await call()
            except ImabotError as exc:
                if exc.kind not in TRANSIENT_KINDS or attempt == PRE_CREATE_ATTEMPTS:
                    raise
                rng = rng or Random(seed)
                delay = min(30.0, 2.0 ** attempt) * (0.5 + rng.random() / 2)
                await self._d.clock.sleep(max(delay, exc.retry_after or 0.0))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _prepare_inputs(self, job: Job, spec: TaskSpec) -> TaskSpec:
        if self._d.preparer is None:
            raise InputError("no input preparer configured")
        fetcher = self._d.fetchers.get(job.conversation.platform) or NoLocalFiles()
        holder = [job]

        async def on_stage(stage: str) -> None:
            holder[0] = await self.emit(holder[0], self._ux.stage(holder[0], stage), STATUS_PART)

        request = job.request
        prepared = await self._d.preparer.prepare(request.task_type, spec.model_id, request.attachments,
                                                  fetcher, on_stage)
        return replace(spec, input_urls=prepared.input_urls, references=prepared.references)

    # ------------------------------------------------------------ polling
    def timing(self, job: Job) -> PollPlan:
        t = self._d.catalog.timing_for(job.model_id, job.media_type)
        profile = self._d.durations.profile(_duration_key(job), job.eta_s or t.eta_s)
        bounds = poll_bounds(job.media_type, t.poll_interval_s, backoff_policy().sparse_max_s, t.max_wait_s)
        return PollPlan(profile, bounds, status_every_s(t.progress_interval_s))

    async def _follow(self, job: Job) -> Job:
        d, clock = self._d, self._d.clock
        task_id, start = job.task_id, job.submitted_at
        if task_id is None or start is None:  # pragma: no cover - guaranteed by the state machine
            raise RuntimeError(f"job {job.job_id} is {job.state} without a task")
        timing, policy = self.timing(job), backoff_policy()
        gateway = await self._spending.task_gateway(job) if self._spending is not None else d.gateway
        rng = Random(f"{job.idempotency_key}:{start}")  # the jitter: jobs created together spread out
        now = clock.now()
        deadline = start + timing.bounds.max_wait_s
        resumed = now - start > 1.0
        next_poll = now if resumed else start + timing.next_delay(0.0, rng)
        next_progress = now + timing.status_every_s
        failures = shown = 0
        running_at = 0.0  # elapsed at the last poll that saw the task still running (what we learn from)
        asked_at = now  # when the last poll was sent
        while True:
            now = clock.now()
            wake = min(next_poll, next_progress, deadline)
            if wake > now:
                await clock.sleep(wake - now)
                now = clock.now()
            if now >= next_poll:
                asked_at = now
                try:
                    snap = await gateway.get_task(task_id)
                except ImabotError as exc:
                    if exc.kind not in TRANSIENT_KINDS:
                        raise
                    failures += 1
                    job = job.update(clock.now(), polls=job.polls + 1)
                    if failures >= policy.max_consecutive_failures:
                        raise ImabotError(f"{failures} polls in a row failed ({exc.kind.value})",
                                          kind=ErrorKind.POLL_UNREACHABLE) from exc
                    next_poll = clock.now() + transient_delay(failures, timing.bounds.official_s, rng,
                                                              exc.retry_after, policy)
                    continue
                failures = 0
                now = clock.now()
                job = job.update(now, polls=job.polls + 1)
                if self._recorder.behind(job.job_id):  # the task id reaches the store as soon as it can
                    job = await self._keep(job)
                progress = snap.progress.value
                if progress == "succeeded":
                    job = job.advance(JobState.DELIVERING, now, result=snap.medias, finished_at=now)
                    job = await self._keep(job)
                    if not resumed:  # a job resumed after a restart did not see its real finish
                        await self._learn(job, timing.profile.censored(running_at, now - start, rng))
                    return job
                if progress == "failed":
                    return await self.finish_failed(job, classify_failure(snap.failure_reason))
                if progress == "deleted":
                    return await self.finish_failed(job, ErrorKind.DELETED)
                running_at = now - start
                if job.state is JobState.SUBMITTED:
                    job = job.advance(JobState.RUNNING, now)
                    job = await self._keep(job)
                timing = self.timing(job)  # O(1); picks up what finished jobs of this model just taught
                next_poll = now + max(0.001, timing.next_delay(now - start, rng))
            # Progress after the poll: a wake that finds the result shows the result, not one more percent.
            if now >= next_progress and now < deadline:
                shown = max(shown, timing.percent(now - start))  # progress never goes back on screen
                job = await self.emit(job, self._ux.progress(job, now, shown), STATUS_PART)
                next_progress = now + timing.status_every_s
            if clock.now() >= deadline and next_poll >= deadline:
                if asked_at >= deadline:
                    return await self.finish_failed(job, ErrorKind.TIMEOUT)
                # The last answer was asked for before the deadline (a slow reply, a stalled process):
                # the task may have finished since. One more look before telling the user it timed out.
                next_poll = clock.now()

    async def _learn(self, job: Job, seconds: float) -> None:
        try:
            await self._d.durations.record(_duration_key(job), seconds, self._d.clock.now())
        except Exception as exc:  # learning is an optimisation: it must never cost a result
            log.warning("job %s: duration not recorded: %s", job.job_id, type(exc).__name__)

    # ------------------------------------------------------------ delivery and endings
    async def _deliver(self, job: Job) -> Job:
        if self._recorder.behind(job.job_id):  # a part posted must be recorded: wait for the store
            await self._recorder.save_until_stored(job)
        events = self._ux.success(job, self._offers.success_actions(job))
        records = await self._d.deliveries.records(job.job_id) if self._d.deliveries else {}
        for part, event in zip(SUCCESS_PARTS, events, strict=True):
            record = records.get(part)
            if part in job.message_refs or (record is not None and record.state is DeliveryState.SENT):
                continue
            job = await deliver_once(self._d.deliveries, job, event, part, self._emit_required, self._d.clock,
                                     self._d.telemetry)
        job = job.advance(JobState.DONE, self._d.clock.now(), finished_at=job.finished_at)
        await self.emit(job, self._ux.done(job, self._offers.success_actions(job)), None)
        return await self._keep(job)

    async def _emit_required(self, job: Job, event: UxEvent, part: str) -> Job:
        return await self.emit(job, event, part, required=True)

    async def finish_failed(self, job: Job, kind: ErrorKind, detail: str | None = None) -> Job:
        state = {ErrorKind.TIMEOUT: JobState.TIMED_OUT, ErrorKind.CANCELLED: JobState.CANCELLED}.get(
            kind, JobState.FAILED)
        if job.state.terminal:
            return job
        if job.state is JobState.DELIVERING:  # the result exists; finishing delivery is all that is left
            log.error("job %s: %s while delivering; marking done", job.job_id, kind)
            job = job.advance(JobState.DONE, self._d.clock.now(), finished_at=job.finished_at)
            return await self._keep(job)
        job = job.advance(state, self._d.clock.now(), error_kind=kind)
        job = await self._keep(job)
        has_faster = bool(job.model_id and self._d.catalog.faster_than(job.model_id, job.request.task_type))
        alternatives = await self._offers.failure_alternatives(job, kind)
        event = self._ux.failure(job, alternatives, has_faster=has_faster, detail=detail)
        if FAILURE_PART not in job.message_refs:
            job = await self.emit(job, event, FAILURE_PART)
        await self.emit(job, self._ux.done(job), None)
        return job

    async def emit(self, job: Job, event: UxEvent, part: str | None, *, required: bool = False) -> Job:
        """Show ``event``; remember the message it produced under ``part`` (persisted)."""
        sink = self._d.sinks.get(job.conversation.platform)
        if sink is None:
            log.warning("no sink for %s; job %s event dropped", job.conversation.platform, job.job_id)
            return job
        attempts = self._d.delivery_attempts if required else 1
        for attempt in range(1, attempts + 1):
            try:
                ref = await sink.emit(event)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a platform hiccup must not lose the job
                log.warning("job %s: showing %s failed (attempt %d): %s", job.job_id, event.step.name,
                            attempt, type(exc).__name__)
                if attempt == attempts:
                    return job
                await self._d.clock.sleep(2.0 * attempt)
        if part is None:
            return job
        if part == STATUS_PART and job.message_refs.get(STATUS_PART) == (ref or ""):
            return job
        job = job.with_ref(part, ref, self._d.clock.now())
        return await self._keep(job)


def _duration_key(job: Job) -> DurationKey:
    return DurationKey.of(job.model_id or "", job.request.params)
