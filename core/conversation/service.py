"""``ConversationService``: the ``core.platform.BotService`` every platform talks to.

It understands a message before anything can be charged (``core.intent.understand``), then, in order:
answers the bot's own pending question (retry offer, spend confirmation, cancel pick), follows a reply
to an earlier result or status message, and dispatches the intent. Only ``generate`` reaches the
pipeline (``core.pipeline.service.GenerationService``), which owns jobs, idempotency and delivery.
Every other answer is a notice, sent once per platform message (a durable dedupe key).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

from core.catalog.models import ModelCatalog
from core.catalog.products import ProductLeaf
from core.clock import Clock
from core.conversation.answers import Answers
from core.conversation.cancel import Canceller, joined, said_in_chat
from core.conversation.desk import QuestionDesk
from core.conversation.follow import Follower, FollowPlan
from core.conversation.ports import LastFrameSource, UsageAnswer
from core.conversation.questions import (
    DEFAULT_TTL_S,
    Question,
    QuestionAnswer,
    QuestionKind,
    QuestionStore,
)
from core.conversation.thread import ThreadEntry, ThreadStore
from core.conversation.wording import ALL, answer_for
from core.errors import ImabotError
from core.intent import IntentKind, PrefsAction, Understanding, understand
from core.intent.hygiene import clean_name, clean_text
from core.jobs import JobStore
from core.messages import Messages
from core.pipeline.service import GenerationService, ServiceConfig
from core.platform import ActionKind, ActionOutcome, ActionReply, Choice, EventSink, Slot, Step, UxEvent
from core.ports import DedupeStore
from core.request import GenerationRequest, RequestOverrides
from core.types import Attachment, Conversation, Language, MediaType, Platform, TaskType

log = logging.getLogger(__name__)
_FRESH_START = frozenset({QuestionKind.RETRY_OFFER, QuestionKind.CANCEL_PICK})


@dataclass(frozen=True, slots=True)
class ConversationConfig:
    dedupe_ttl_s: float = 12 * 3600.0  # platforms redeliver for hours (Feishu ~7.1 h)
    question_ttl_s: float = DEFAULT_TTL_S


@dataclass(frozen=True, slots=True)
class ConversationDeps:
    pipeline: GenerationService
    jobs: JobStore
    questions: QuestionStore
    thread: ThreadStore
    dedupe: DedupeStore
    catalog: ModelCatalog
    messages: Messages
    clock: Clock
    sinks: Mapping[Platform, EventSink]
    parsing: ServiceConfig = field(default_factory=ServiceConfig)  # defaults for understanding
    frames: LastFrameSource | None = None


class ConversationService:
    def __init__(self, deps: ConversationDeps, config: ConversationConfig | None = None, *,
                 usage: UsageAnswer | None = None) -> None:
        self._d = deps
        self._pipeline = deps.pipeline
        self._sc = deps.parsing
        self._thread = deps.thread
        self._dedupe = deps.dedupe
        self._config = config or ConversationConfig()
        self.usage = usage  # spend's describe_usage, once it is wired
        self._m = deps.messages
        self.desk = QuestionDesk(deps.questions, deps.clock, deps.messages,
                                 ttl_s=self._config.question_ttl_s)
        self._answers = Answers(deps.messages, deps.catalog)
        self._follower = Follower(deps.jobs, deps.thread, deps.catalog, deps.messages, self._reread,
                                  deps.frames)
        self._cancel = Canceller(deps.pipeline, deps.jobs, deps.thread, self.desk, self._answers,
                                 deps.messages, deps.clock)
        self.desk.handle(QuestionKind.RETRY_OFFER, _RetryHandler(self))
        self.desk.handle(QuestionKind.CANCEL_PICK, _PickHandler(self))

    @property
    def pipeline(self) -> GenerationService:
        return self._pipeline

    async def start(self) -> None:
        await self._pipeline.start()

    async def aclose(self) -> None:
        await self._pipeline.aclose()

    # ------------------------------------------------------------ understanding
    def _reread(self, text: str, attachments: Sequence[Attachment]) -> Understanding:
        c = self._sc
        return understand(text, attachments, catalog=self._d.catalog, default_media=c.default_media,
                          default_language=c.default_language, bot_names=c.bot_names, messages=self._m)

    async def _understand(self, text: str, attachments: Sequence[Attachment]) -> Understanding:
        work = partial(self._reread, text, tuple(attachments))
        if len(text) <= self._sc.parse_inline_chars:
            return work()
        return await asyncio.to_thread(work)  # pure: the loop stays free for long texts

    # ------------------------------------------------------------ intake
    async def handle_message(self, conversation: Conversation, text: str,
                             attachments: Sequence[Attachment] = (),
                             overrides: RequestOverrides | None = None) -> str | None:
        text = clean_text(text) if isinstance(text, str) else ""  # platforms clean it too; the store needs it
        attachments = [replace(a, name=clean_name(a.name)) for a in attachments]
        if overrides is not None:  # a structured command is an order
            return await self._remember(conversation, await self._pipeline.handle_message(
                conversation, text, attachments, overrides))
        key = _key(conversation)
        existing = await self._d.jobs.by_key(key)
        if existing is not None:
            return None if existing.notice_only else existing.job_id
        if await self._pipeline.screen(conversation, text):  # spend: access, pause, keys, admin words
            return None
        u = await self._understand(text, attachments)
        pending = await self.desk.pending(conversation)
        if pending is not None:
            answer = answer_for(pending, u, text)
            if answer is not None:
                return await self._answer_in_words(conversation, pending, answer)
        replied = await self._follower.replied_job(conversation)
        if replied is not None:
            if u.intent is IntentKind.CANCEL:
                return await self._say_once(conversation, u.language,
                                            await self._cancel.cancel(conversation, replied))
            if u.intent in (IntentKind.GENERATE, IntentKind.UNCLEAR) and (text.strip() or attachments):
                plan = await self._follower.from_result(replied, text, attachments, u)
                if plan.request is not None or plan.problem is not None:
                    return await self._carry_out(conversation, plan, u.language)
        return await self._dispatch(conversation, text, attachments, u, asked=pending is not None)

    async def _dispatch(self, conversation: Conversation, text: str, attachments: Sequence[Attachment],
                        u: Understanding, *, asked: bool) -> str | None:
        lang = u.language
        match u.intent:
            case IntentKind.GENERATE:
                return await self._generate(conversation, text, attachments, u, asked=asked)
            case IntentKind.CANCEL:
                selector = u.cancel
                reply, choices = await self._cancel.by_words(
                    conversation, lang, selector.index if selector else None, bool(selector and selector.all))
                return await self._say_once(conversation, lang, reply, choices)
            case IntentKind.STATUS:
                running = await self._cancel.running(conversation)
                return await self._say_once(conversation, lang,
                                            self._answers.status(running, self._d.clock.now(), lang))
            case IntentKind.PREFS:
                return await self._prefs(conversation, text, attachments, u)
            case IntentKind.MODELS:
                return await self._say_once(conversation, lang, await self._models(u))
            case IntentKind.USAGE:
                return await self._say_once(conversation, lang, await self._usage(conversation, lang))
            case IntentKind.HELP:
                help_text = self._answers.help(conversation.platform, lang)
                return await self._say_once(conversation, lang, help_text)
            case IntentKind.SMALLTALK:
                return await self._say_once(conversation, lang, self._answers.smalltalk(text, lang))
            case _:
                return await self._say_once(conversation, lang, self._answers.unclear(text, lang))

    async def _generate(self, conversation: Conversation, text: str, attachments: Sequence[Attachment],
                        u: Understanding, *, asked: bool) -> str | None:
        """``asked``: an open question to this user was found at intake (else there is none to end)."""
        plan: FollowPlan | None
        if u.follow_up is not None and not attachments:
            plan = await self._follower.follow(conversation, u)
        else:
            plan = await self._follower.consistent(conversation, text, u)
        if asked:
            await self.desk.withdraw(conversation, _FRESH_START)  # a new request ends an open offer or pick
        if plan is None:
            job_id = await self._pipeline.handle_message(conversation, text, attachments, understood=u)
            return await self._remember(conversation, job_id)
        return await self._carry_out(conversation, plan, u.language)

    async def _carry_out(self, conversation: Conversation, plan: FollowPlan, language: Language
                         ) -> str | None:
        if plan.request is None:
            problem = plan.problem or "conversation.unclear"
            return await self._say_once(conversation, language, self._m.text(problem, language))
        parent = plan.based_on.job_id if plan.based_on is not None else None
        return await self.submit(_key(conversation), conversation, plan.request, parent)

    async def submit(self, key: str, conversation: Conversation, request: GenerationRequest,
                     parent_job_id: str | None = None) -> str | None:
        """Start a generation the conversation decided (follow-up, retry, reuse) and remember it."""
        job_id = await self._pipeline.submit(key, conversation, request, parent_job_id=parent_job_id)
        return await self._remember(conversation, job_id)

    async def _remember(self, conversation: Conversation, job_id: str | None) -> str | None:
        if job_id is not None:
            await self._thread.remember(ThreadEntry.of(conversation, job_id, self._d.clock.now()))
        return job_id

    # ------------------------------------------------------------ answers to the bot's questions
    async def _answer_in_words(self, conversation: Conversation, question: Question,
                               answer: QuestionAnswer) -> str | None:
        if not await self._claim(conversation):
            return None
        reply = await self.desk.answer(question, answer, conversation)
        declined = question.kind is QuestionKind.CONFIRMATION and reply.outcome is ActionOutcome.CANCELLED
        if reply.outcome is not ActionOutcome.STARTED and reply.text and not declined:
            await self._show(conversation, question.language, reply.text)
        return reply.new_job_id

    async def retry(self, conversation: Conversation, question: Question, model_id: str | None
                    ) -> ActionReply:
        lang = question.language
        job = await self._d.jobs.get(question.subject_id)
        if job is None:
            return ActionReply(ActionOutcome.NOT_FOUND, self._m.text("service.action.not_found", lang))
        request = job.request
        if model_id:
            resolved = self._d.catalog.for_task(model_id, request.task_type) or model_id
            request = replace(request, model_id=resolved, tier=None)
        request = replace(request, preference=None, notices=())
        key = f"{conversation.platform.value}:answer:{question.question_id}"
        new_id = await self.submit(key, conversation, request, job.job_id)
        started = self._m.text("service.action.started", lang)
        return ActionReply(ActionOutcome.STARTED, started, new_job_id=new_id)

    async def pick(self, conversation: Conversation, question: Question, choice: str) -> ActionReply:
        lang = question.language
        if choice == ALL:
            texts = []
            for job_id in question.options:
                job = await self._d.jobs.get(job_id)
                if job is not None:
                    texts.append(await self._cancel.cancel(conversation, job))
            return ActionReply(ActionOutcome.CANCELLED, joined(texts))
        index = int(choice) if choice.isdigit() else 0
        if not 1 <= index <= len(question.options):
            return ActionReply(ActionOutcome.NOT_FOUND, self._m.text(
                "conversation.cancel.no_such", lang, index=choice, count=len(question.options)))
        job = await self._d.jobs.get(question.options[index - 1])
        if job is None:
            return ActionReply(ActionOutcome.NOT_FOUND, self._m.text("service.action.not_found", lang))
        return said_in_chat(await self._cancel.cancel_reply(conversation, job))

    async def on_event(self, event: UxEvent) -> None:
        """Observer of what the runner showed: a failure that offers other models asks a question."""
        if event.step is Step.FAILURE and event.alternatives and ActionKind.RETRY in event.actions:
            await self.desk.ask(event.conversation, QuestionKind.RETRY_OFFER, event.language,
                                subject_id=event.job_id, options=[a.model_id for a in event.alternatives])

    # ------------------------------------------------------------ buttons
    async def handle_action(self, conversation: Conversation, job_id: str, action: ActionKind) -> ActionReply:
        if action in (ActionKind.CONFIRM, ActionKind.DECLINE):
            question = await self.desk.get(job_id)
            if question is None:  # a spend confirmation's own buttons name the job
                return await self._pipeline.handle_action(conversation, job_id, action)
            answer = QuestionAnswer(yes=action is ActionKind.CONFIRM)
            return await self.desk.answer(question, answer, conversation)
        if action is ActionKind.CANCEL:
            job = await self._d.jobs.get(job_id)
            if job is not None:
                return await self._cancel.cancel_reply(conversation, job)
        if action is ActionKind.RETRY:
            pending = await self.desk.pending(conversation)
            offered = pending is not None and pending.kind is QuestionKind.RETRY_OFFER
            if pending is not None and offered and pending.subject_id == job_id:
                return await self.desk.answer(pending, QuestionAnswer(yes=True), conversation)
        reply = await self._pipeline.handle_action(conversation, job_id, action)
        await self._remember(conversation, reply.new_job_id)
        return reply

    # ------------------------------------------------------------ other intents
    async def _prefs(self, conversation: Conversation, text: str, attachments: Sequence[Attachment],
                     u: Understanding) -> str | None:
        platform, user, lang = conversation.platform, conversation.user_id, u.language
        if u.prefs is PrefsAction.SHOW:
            return await self._say_once(conversation, lang,
                                        await self._pipeline.describe_preferences(platform, user, lang))
        if u.prefs is PrefsAction.CLEAR:
            if not await self._claim(conversation):
                return None
            await self._show(conversation, lang, await self._pipeline.clear_preferences(platform, user, lang))
            return None
        return await self._pipeline.handle_message(conversation, text, attachments)  # saves and says so

    async def _models(self, u: Understanding) -> str:
        lang = u.language
        query = u.models_query
        if query is not None and (len(query.model_ids) >= 2 or (query.topic and not query.model_ids)):
            compared = self._answers.comparison(query, lang)
            if compared is not None:
                return compared
        lists: list[tuple[MediaType, Sequence[ProductLeaf]]] = []
        try:
            for media, task in Answers.listed_tasks(query):
                lists.append((media, await self._pipeline.models_for(task)))
        except ImabotError:
            return self._m.text("conversation.models.unavailable", lang)
        return self._answers.model_list(lists, lang)

    async def _usage(self, conversation: Conversation, language: Language) -> str:
        if self.usage is not None:
            return await self.usage.describe_usage(conversation, language)
        return self._m.text("conversation.usage.off", language)  # no spend ledger wired: nothing to count

    # ------------------------------------------------------------ replies
    async def _claim(self, conversation: Conversation) -> bool:
        """True the first time this platform message is answered (redeliveries are answered once)."""
        return await self._dedupe.first_seen(f"conversation:{_key(conversation)}", self._config.dedupe_ttl_s)

    async def _say_once(self, conversation: Conversation, language: Language, text: str,
                        choices: tuple[Choice, ...] = ()) -> str | None:
        """Answer with a notice (no job: returns None, as ``handle_message`` does for notices)."""
        if await self._claim(conversation) and text:  # "": already said by the job's own message
            await self._show(conversation, language, text, choices)
        return None

    async def _show(self, conversation: Conversation, language: Language, text: str,
                    choices: tuple[Choice, ...] = ()) -> None:
        sink = self._d.sinks.get(conversation.platform)
        if sink is None:
            log.warning("no sink for %s; reply dropped", conversation.platform)
            return
        await sink.emit(UxEvent(job_id="", conversation=conversation, step=Step.NOTICE, slot=Slot.NOTICE,
                                text=text, language=language, choices=choices))

    # ------------------------------------------------------------ lookups (BotService)
    async def models_for(self, task_type: TaskType) -> Sequence[ProductLeaf]:
        return await self._pipeline.models_for(task_type)

    async def describe_preferences(self, platform: Platform, user_id: str, language: Language) -> str:
        return await self._pipeline.describe_preferences(platform, user_id, language)

    async def clear_preferences(self, platform: Platform, user_id: str, language: Language) -> str:
        return await self._pipeline.clear_preferences(platform, user_id, language)

    def help_text(self, language: Language) -> str:
        return self._answers.help(None, language)  # the caller's platform is not known here


def _key(conversation: Conversation) -> str:
    return f"{conversation.platform.value}:{conversation.message_id}"


class _RetryHandler:
    def __init__(self, service: ConversationService) -> None:
        self._s = service

    async def on_answer(self, question: Question, answer: QuestionAnswer, conversation: Conversation
                        ) -> ActionReply:
        if not answer.yes:
            return ActionReply(ActionOutcome.CANCELLED,
                               self._s._m.text("conversation.retry.dropped", question.language))
        model = answer.choice or (question.options[0] if question.options else None)
        return await self._s.retry(conversation, question, model)


class _PickHandler:
    def __init__(self, service: ConversationService) -> None:
        self._s = service

    async def on_answer(self, question: Question, answer: QuestionAnswer, conversation: Conversation
                        ) -> ActionReply:
        if answer.choice is None:
            return ActionReply(ActionOutcome.CANCELLED,
                               self._s._m.text("conversation.pick.dropped", question.language))
        return await self._s.pick(conversation, question, answer.choice)
