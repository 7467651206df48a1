"""``core.platform.BotService``: intake, idempotency, background jobs, actions, reconciliation.

Intake writes the job row (keyed ``"{platform}:{message_id}"``, UNIQUE in the store) and emits the
Step 0 acknowledgment before anything slow; the rest runs in one tracked asyncio task per job under a
concurrency cap (``core.pipeline.job_tasks``). ``start()`` resumes every unfinished job of a platform that
has a sink; ``aclose()`` cancels the job tasks and leaves their rows as they are, to be resumed by the next
``start()``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

from core.catalog.products import ProductLeaf
from core.errors import ImabotError
from core.intent import IntentKind, Understanding, apply_overrides, understand
from core.intent.hygiene import clean_name, clean_text
from core.intent.language import detect_language
from core.jobs import UNCANCELLABLE_STATES, Job, JobState
from core.ops.log_context import about_job
from core.pipeline.deps import JobSteps, RunnerDeps
from core.pipeline.job_tasks import JobTasks
from core.pipeline.leases import LeaseKeeper
from core.pipeline.offers import button_request
from core.pipeline.preferences import PreferenceBook
from core.pipeline.runner import JobRunner
from core.pipeline.spend_desk import SpendDesk
from core.platform import ActionKind, ActionOutcome, ActionReply
from core.request import GenerationRequest, PreferenceIntent, RequestOverrides
from core.selection import Selection, select_model
from core.spend.keys import KEY_PATTERN
from core.types import Attachment, Conversation, Language, MediaType, Platform, TaskType
from core.ux.renderer import cancelled_text

log = logging.getLogger(__name__)

R = TypeVar("R")
_ALL = 1_000_000


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    default_media: MediaType = MediaType.VIDEO
    default_language: Language = Language.ZH
    bot_names: tuple[str, ...] = ("imabot",)
    max_concurrent_jobs: int = 200
    # Parsing costs ~5 ms per 1,000 characters: longer texts are parsed in a worker thread.
    parse_inline_chars: int = 1_000
    # Job leases (core.pipeline.leases): this process's name, how long a lease lasts, and whether other
    # replicas share the store (then leases are renewed and other replicas' expired jobs taken over).
    replica_id: str = "local"
    lease_s: float = 30.0
    takeover: bool = False


class GenerationService:
    def __init__(self, deps: RunnerDeps, config: ServiceConfig | None = None, runner: JobSteps | None = None
                 ) -> None:
        self._d = deps
        self._config = config or ServiceConfig()
        self._preferences = PreferenceBook(deps.preferences, deps.catalog, deps.messages, deps.clock)
        self._runner: JobSteps = runner or JobRunner(deps, self._preferences)
        self._tasks = JobTasks(lambda job: self._runner.run(job), self._config.max_concurrent_jobs,
                               deps.telemetry)
        self._running: dict[str, asyncio.Task[Any]] = {}  # intake and cancels in progress, by key
        self._acking: dict[str, bool] = {}  # job id -> cancel requested, while its ack is being posted
        self._seq = itertools.count(1)
        self._leases = LeaseKeeper(deps.jobs, deps.clock, self._config.replica_id, self._config.lease_s, self)
        self._spend = SpendDesk(self, deps.spend, deps) if deps.spend is not None else None

    @property
    def spend(self) -> SpendDesk | None:
        """Usage, own keys, confirmations and admin commands (None when no spend rules are wired)."""
        return self._spend

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Reconcile: claim and resume the unfinished jobs nobody holds whose platform can show events;
        with ``takeover``, keep doing so (and keep this replica's leases alive) until ``aclose``."""
        if self._spend is not None:
            await self._spend.expire_due()
        await self._d.jobs.release(self._config.replica_id)  # what this replica held before a restart
        await self._leases.claim()
        if self._config.takeover:
            self._leases.start()

    async def aclose(self) -> None:
        self._tasks.close()
        await self._leases.aclose()
        held = await self._tasks.stop_all()
        await self._d.jobs.release(self._config.replica_id, held)  # clean stop: others may resume them

    # ------------------------------------------------------------ core.pipeline.leases.LeaseHolder
    def running_job_ids(self) -> Collection[str]:
        return self._tasks.job_ids()

    def free_capacity(self) -> int:  # alone on its store (no takeover), a process resumes all it finds
        free = self._config.max_concurrent_jobs - len(self._tasks) if self._config.takeover else _ALL
        return 0 if self._tasks.closed else max(0, free)

    def platforms(self) -> Collection[str]:
        return tuple(p.value for p in self._d.sinks)

    def drop(self, job_id: str) -> None:
        self._tasks.drop(job_id)

    def cancel_requested(self, job_id: str) -> None:
        """A cancel another replica recorded for a job held here: carry it out in the background (a
        create call in flight is waited for; the heartbeat is not held up)."""
        if not self._tasks.closed:
            self._start_once(f"cancel:{job_id}", lambda: self._cancel_requested(job_id))

    async def _cancel_requested(self, job_id: str) -> ActionReply | None:
        try:
            job = await self._d.jobs.get(job_id)
            return await self._cancel(job) if job is not None else None
        except Exception as exc:  # the request stays recorded: the next heartbeat tries again
            log.warning("job %s: requested cancel failed: %s", job_id, type(exc).__name__)
            return None

    async def wait_idle(self) -> None:
        """Wait until no job task is running (CLI and tests)."""
        await self._tasks.wait_idle()

    async def wait_for(self, job_id: str) -> Job | None:
        """Wait until ``job_id``'s task (if running here) ends; returns the stored job."""
        await self._tasks.wait_for(job_id)
        return await self._d.jobs.get(job_id)

    @property
    def active_jobs(self) -> int:
        return len(self._tasks)

    async def job(self, job_id: str) -> Job | None:
        return await self._d.jobs.get(job_id)

    # ------------------------------------------------------------ intake
    async def handle_message(self, conversation: Conversation, text: str,
                             attachments: Sequence[Attachment] = (),
                             overrides: RequestOverrides | None = None,
                             understood: Understanding | None = None) -> str | None:
        """``understood``: the conversation layer already screened this message and understood this
        very text and these attachments; it is not done twice."""
        # Every platform cleans at intake; done again here because the store cannot hold what it removes.
        text = clean_text(text)
        attachments = [replace(a, name=clean_name(a.name)) for a in attachments]
        key = f"{conversation.platform.value}:{conversation.message_id}"
        # A platform may deliver the same message twice at once: the second joins the first's intake
        # (the store's UNIQUE key alone would still let both show preference notices).
        return await self._once(f"intake:{key}",
                                lambda: self._take_in(key, conversation, text, attachments, overrides,
                                                      understood))

    async def _once(self, key: str, work: Callable[[], Coroutine[object, object, R]]) -> R:
        """Callers asking for ``key`` while it runs share that one run and its result."""
        result: R = await asyncio.shield(self._start_once(key, work))
        return result

    def _start_once(self, key: str, work: Callable[[], Coroutine[object, object, R]]) -> asyncio.Future[R]:
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(work())
            self._running[key] = running
            running.add_done_callback(lambda _done: self._running.pop(key, None))
        return running

    async def _take_in(self, key: str, conversation: Conversation, text: str,
                       attachments: Sequence[Attachment], overrides: RequestOverrides | None,
                       understood: Understanding | None) -> str | None:
        if understood is None:  # else the conversation layer looked the key up and screened it just now
            existing = await self._d.jobs.by_key(key)
            if existing is not None:
                self._d.telemetry.dedupe_hit(conversation.platform)
                return None if existing.notice_only else existing.job_id
            if await self.screen(conversation, text):
                return None
        understanding = understood or await self._understand(text, tuple(attachments))
        request = apply_overrides(understanding.parsed, overrides, self._d.catalog)
        if self._spend is not None and (refusal := self._spend.moderation(request)) is not None:
            await self._notice_once(key, conversation, request, refusal)
            return None
        notice = await self._apply_preference(conversation, request)
        # A structured command (overrides) is an order; free text is one only when it is understood as a
        # new, self-contained generation. Everything else is answered, never charged (issue #11); the
        # conversation layer routes those intents to their real answers.
        ordered = overrides is not None or (
            understanding.intent is IntentKind.GENERATE and understanding.follow_up is None
        )
        if request.missing_prompt or not ordered:
            text_out = notice or self._d.messages.text("service.missing_prompt", request.language)
            await self._notice_once(key, conversation, request, text_out)
            return None
        if notice:  # said in the job's own status message (one generation = at most 3 new messages)
            request = replace(request, notices=(notice, *request.notices))
        return await self.submit(key, conversation, request)

    async def screen(self, conversation: Conversation, text: str) -> bool:
        """Spend rules that act before a message is understood: disallowed places, paused chats, a key
        in the text, "remove my key", admin words in a DM, answers to a pending confirmation. True when
        the message was handled (any reply already shown once)."""
        if self._spend is None:
            return False
        language = detect_language(KEY_PATTERN.sub("", text), self._config.default_language)
        handled, reply = await self._spend.screen(conversation, text, language)
        if handled and reply:
            key = f"{conversation.platform.value}:{conversation.message_id}"
            await self._notice_once(key, conversation, self._placeholder(language), reply)
        return handled

    def _placeholder(self, language: Language) -> GenerationRequest:
        """The request recorded with a notice that was answered before parsing (it holds no user text)."""
        task = next(t for t in TaskType if t.media_type is self._config.default_media)
        return GenerationRequest(media_type=self._config.default_media, task_type=task, prompt="",
                                 language=language)

    async def _understand(self, text: str, attachments: tuple[Attachment, ...]) -> Understanding:
        c = self._config
        parse_text = partial(understand, text, attachments, catalog=self._d.catalog,
                             default_media=c.default_media, default_language=c.default_language,
                             bot_names=c.bot_names, messages=self._d.messages)
        if len(text) <= c.parse_inline_chars:
            return parse_text()
        return await asyncio.to_thread(parse_text)  # pure and deterministic: same result, loop stays free

    async def submit(self, key: str, conversation: Conversation, request: GenerationRequest,
                     parent_job_id: str | None = None) -> str | None:
        """Write the job row, acknowledge (Step 0) and run the rest in the background."""
        job = self._new_job(key, conversation, request, parent_job_id=parent_job_id)
        job, inserted = await self._d.jobs.insert(job)
        if not inserted:
            return None if job.notice_only else job.job_id
        if self._spend is not None and (refusal := await self._spend.admit(job)) is not None:
            await self._emit_notice(conversation, request.language, refusal, job.job_id)
            refused = replace(job, notice_only=True).advance(JobState.DONE, self._d.clock.now())
            await self._d.jobs.save(refused)
            return None
        self._acking[job.job_id] = False
        try:
            with about_job(job):
                ack = await self._runner.acknowledge(job)
        finally:
            cancelled = self._acking.pop(job.job_id)
        if cancelled:  # its cancel button was used before the platform call even returned
            await self._runner.cancel(ack)
            return job.job_id
        job = ack.advance(JobState.ACKNOWLEDGED, self._d.clock.now())
        await self._d.jobs.save(job)
        self._tasks.spawn(job)
        return job.job_id

    def _new_job(self, key: str, conversation: Conversation, request: GenerationRequest, *,
                 notice_only: bool = False, parent_job_id: str | None = None) -> Job:
        now = self._d.clock.now()
        job_id = f"j{int(now)}{next(self._seq):04d}{secrets.token_hex(3)}"
        return Job(job_id=job_id, idempotency_key=key, conversation=conversation, request=request,
                   state=JobState.RECEIVED, created_at=now, updated_at=now, notice_only=notice_only,
                   parent_job_id=parent_job_id, lease_owner=self._config.replica_id,
                   lease_until=self._leases.until())

    async def _notice_once(self, key: str, conversation: Conversation, request: GenerationRequest,
                           text: str) -> None:
        job = self._new_job(key, conversation, request, notice_only=True)
        job, inserted = await self._d.jobs.insert(job)
        if not inserted:
            return
        await self._emit_notice(conversation, request.language, text, job.job_id)
        await self._d.jobs.save(job.advance(JobState.DONE, self._d.clock.now()))

    async def _emit_notice(self, conversation: Conversation, language: Language, text: str,
                           job_id: str = "") -> None:
        await self._runner.notify(conversation, language, text, job_id)

    async def _apply_preference(self, conversation: Conversation, request: GenerationRequest) -> str | None:
        """Clear on an explicit intent at once; a save needs the live list (the runner's, or here when
        the message names a model and nothing else). Returns the confirmation text."""
        if request.preference is PreferenceIntent.CLEAR:
            return await self._preferences.record(conversation, request, None)
        if request.preference is not PreferenceIntent.SAVE or not request.missing_prompt:
            return None
        confirmation = await self._preferences.record(conversation, request, await self._selection(request))
        return confirmation or self._d.messages.text("service.pref.unknown_model", request.language)

    async def _selection(self, request: GenerationRequest) -> Selection | None:
        d = self._d
        if not request.model_id:
            return None
        try:
            leaves = await d.gateway.list_products(request.task_type)
            return select_model(request, leaves, catalog=d.catalog, preference=None, profile=d.profile,
                                messages=d.messages)
        except ImabotError:
            return None

    def resume(self, job: Job) -> None:
        """Run a job again from its stored state (a confirmed job, for example)."""
        self._tasks.spawn(job)

    async def take_parked(self, job_id: str) -> Job | None:
        """Lease a job parked for its user's answer to this replica, which then acts on the answer."""
        return await self._d.jobs.take_parked(job_id, self._config.replica_id, self._leases.until())

    async def cancel_job(self, job: Job) -> ActionReply:
        """Stop a job as its cancel button would (admin commands, expired confirmations)."""
        return await self._once(f"cancel:{job.job_id}", lambda: self._cancel(job))

    async def notice(self, conversation: Conversation, language: Language, text: str,
                     job_id: str = "") -> None:
        await self._emit_notice(conversation, language, text, job_id)

    # ------------------------------------------------------------ actions
    async def handle_action(self, conversation: Conversation, job_id: str, action: ActionKind) -> ActionReply:
        job = await self._d.jobs.get(job_id)
        lang = job.language if job else self._config.default_language
        m = self._d.messages
        if job is None:
            return ActionReply(ActionOutcome.NOT_FOUND, m.text("service.action.not_found", lang))
        owner = job.conversation
        if (conversation.platform, conversation.user_id) != (owner.platform, owner.user_id):
            key = "spend.confirm.not_owner" if action in (ActionKind.CONFIRM, ActionKind.DECLINE) else \
                "service.action.not_owner"
            return ActionReply(ActionOutcome.NOT_OWNER, m.text(key, lang))
        if action is ActionKind.CANCEL:  # a double click joins the cancel already under way
            return await self._once(f"cancel:{job.job_id}", lambda: self._cancel(job))
        if action in (ActionKind.CONFIRM, ActionKind.DECLINE):
            if self._spend is None:
                return ActionReply(ActionOutcome.NOT_FOUND, m.text("service.action.not_found", lang))
            return await self._spend.answer(conversation, job_id, action is ActionKind.CONFIRM)
        request = button_request(job, action, self._d.catalog)
        if isinstance(request, str):
            return ActionReply(ActionOutcome.NOT_ALLOWED, m.text(request, lang))
        key = f"{conversation.platform.value}:action:{conversation.message_id}:{job_id}:{action.value}"
        new_id = await self.submit(key, conversation, request, parent_job_id=job.job_id)
        return ActionReply(ActionOutcome.STARTED, m.text("service.action.started", lang), new_job_id=new_id)

    async def _cancel(self, job: Job) -> ActionReply:
        m, lang = self._d.messages, job.language
        if job.state.terminal or job.state is JobState.DELIVERING:
            return ActionReply(ActionOutcome.NOT_ALLOWED, m.text("service.action.finished", lang))
        if job.job_id in self._acking:  # the intake is still posting the ack: it stops the job after
            self._acking[job.job_id] = True
            return ActionReply(ActionOutcome.CANCELLED, cancelled_text(m, job))  # nothing sent yet
        # Only the lease holder writes a job: record the request, taking the lease unless another
        # replica holds it live; that replica then stops the job and its own message says so.
        me = self._config.replica_id
        held = await self._d.jobs.request_cancel(job.job_id, me, self._d.clock.now(), self._leases.until())
        if held is None or held.state in UNCANCELLABLE_STATES:
            return ActionReply(ActionOutcome.NOT_ALLOWED, m.text("service.action.finished", lang))
        if held.lease_owner != me:
            self.drop(job.job_id)  # if it was running here, this replica lost its lease to the holder
            return ActionReply(ActionOutcome.CANCELLING, m.text("service.action.cancelling", lang))
        was_running = await self._tasks.stop(job.job_id)
        latest = await self._d.jobs.get(job.job_id) or held
        if latest.state in UNCANCELLABLE_STATES:
            if was_running:
                self._tasks.spawn(latest)  # it finished meanwhile: let delivery complete
            return ActionReply(ActionOutcome.NOT_ALLOWED, m.text("service.action.finished", lang))
        # A create already sent was waited for above: ``latest`` has its task id, or is still SUBMITTING
        # when the answer never came (then nobody can tell whether IMA holds a task).
        cancelled = await self._runner.cancel(latest)  # fenced: refused unless the lease is still this one's
        return ActionReply(ActionOutcome.CANCELLED, cancelled_text(m, cancelled))

    # ------------------------------------------------------------ lookups
    async def models_for(self, task_type: TaskType) -> Sequence[ProductLeaf]:
        return await self._d.gateway.list_products(task_type)

    async def describe_preferences(self, platform: Platform, user_id: str, language: Language) -> str:
        return await self._preferences.describe(platform, user_id, language)

    async def clear_preferences(self, platform: Platform, user_id: str, language: Language) -> str:
        return await self._preferences.clear_all(platform, user_id, language)

    def help_text(self, language: Language) -> str:
        return self._d.messages.text("service.help", language)
