"""The service's spend desk: what users and admins do with the spend rules (issue #12) - answers to a
confirmation (buttons and words), intake screening, queue admission, usage, own keys, admin commands.

``GenerationService.spend`` exposes it to platforms and to the conversation layer (``describe_usage``,
``answer_pending``, ``link_key``, ``admin``...)."""

from __future__ import annotations

import logging
from typing import Protocol

from core.errors import ErrorKind
from core.jobs import Job, JobState, JobStore
from core.messages import Messages
from core.pipeline.deps import RunnerDeps
from core.pipeline.runner import JobRunner
from core.pipeline.spending import SpendSteps
from core.platform import ActionOutcome, ActionReply
from core.request import GenerationRequest
from core.spend import admin as admin_words
from core.spend.access import is_admin
from core.spend.admin import AdminCommand, AdminInputError
from core.spend.gate import Entry, SpendGate
from core.spend.hooks import Spend
from core.spend.keys import find_key
from core.spend.operators import run_admin
from core.spend.ports import AnsweredQuestion, Confirmation, ConfirmState, YesNo
from core.spend.usage import describe_usage
from core.spend.words import Answer, answer_words, normalize
from core.types import Conversation, Language

log = logging.getLogger(__name__)
_REMOVE_KEY = frozenset({"删除密钥", "解绑密钥", "remove key", "unlink key", "key remove", "delete key"})
_ANSWER_TEXT = {
    ConfirmState.CONFIRMED: "spend.confirm.already_confirmed",
    ConfirmState.DECLINED: "spend.confirm.already_declined",
}


class ServiceControl(Protocol):
    def resume(self, job: Job) -> None: ...

    async def take_parked(self, job_id: str) -> Job | None: ...

    async def cancel_job(self, job: Job) -> ActionReply: ...


class SpendDesk:
    def __init__(self, service: ServiceControl, spend: Spend, deps: RunnerDeps) -> None:
        self._service = service
        self._spend = spend
        self._gate = spend.gate
        self._jobs: JobStore = deps.jobs
        self._m: Messages = deps.messages
        self._clock = deps.clock
        self._steps = SpendSteps(JobRunner(deps), spend, deps.jobs, deps.gateway, deps.clock, deps.messages)

    @property
    def gate(self) -> SpendGate:
        return self._gate

    # ------------------------------------------------------------ intake
    async def screen(
        self, conversation: Conversation, text: str, language: Language
    ) -> tuple[bool, str | None]:
        """Before parsing: (handled, reply). Disallowed places, paused chats, messages carrying a key,
        "remove my key", and yes / no / "don't ask me again" answers never reach the parser."""
        verdict = await self._gate.intake(conversation, language)
        if verdict.entry is not Entry.GO:
            return True, verdict.text or None
        key = find_key(text)
        if key is not None:  # never parsed, stored or logged as a prompt
            if not conversation.is_direct:
                return True, self._m.text("spend.key.group_refused", language)
            reply = await self.link_key(conversation, key, language)
            return True, reply + "\n" + self._m.text("spend.key.linked_dm", language)
        if normalize(text) in _REMOVE_KEY:
            return True, await self.remove_key(conversation, language)
        admin_reply = await self.admin_text(conversation, text, language) if conversation.is_direct else None
        if admin_reply is not None:
            return True, admin_reply
        answer = answer_words().classify(text)
        if answer is Answer.SKIP_CONFIRM or answer is Answer.ASK_AGAIN:
            skip = answer is Answer.SKIP_CONFIRM
            await self._gate.set_skip_confirm(conversation, skip)
            reply = self._m.text(
                "spend.confirm.skip_saved" if skip else "spend.confirm.skip_cleared", language
            )
            confirmed = await self.answer_pending(conversation, True) if skip else None
            return True, f"{reply}\n{confirmed}" if confirmed else reply
        if (answer is Answer.YES or answer is Answer.NO) and self._gate.questions is None:
            # with the conversation layer in front, its question memory routes yes / no to on_answer
            replied = await self.answer_pending(conversation, answer is Answer.YES)
            if replied is not None:
                return True, replied
        return False, None

    def moderation(self, request: GenerationRequest) -> str | None:
        return self._gate.moderation_refusal(request.prompt, request.language) if request.prompt else None

    async def admit(self, job: Job) -> str | None:
        await self.expire_due()  # expired questions free their places first
        return await self._gate.admit(job.job_id, job.conversation, job.language)

    # ------------------------------------------------------------ confirmation
    async def answer_pending(self, conversation: Conversation, yes: bool) -> str | None:
        """A yes / no said in chat: answers the user's latest pending confirmation there (None: nothing
        pending, the words mean something else)."""
        c = conversation
        pending = await self._gate.confirmations.latest_pending(c.platform.value, c.user_id, c.chat_id)
        if pending is None:
            return None
        return (await self.answer(conversation, pending.job_id, yes)).text

    async def answer(self, conversation: Conversation, job_id: str, yes: bool) -> ActionReply:
        """Confirm or decline ``job_id``: only its requester, only once, only before it expires."""
        confirmations, now = self._gate.confirmations, self._clock.now()
        confirmation = await confirmations.get(job_id)
        job = await self._jobs.get(job_id)
        if confirmation is None or job is None:
            return ActionReply(ActionOutcome.NOT_FOUND, self._m.text("spend.confirm.none", _lang(job)))
        lang = job.language
        if (conversation.platform.value, conversation.user_id) != (
            confirmation.owner.platform,
            confirmation.owner.user_id,
        ):
            return ActionReply(ActionOutcome.NOT_OWNER, self._m.text("spend.confirm.not_owner", lang))
        if confirmation.state is ConfirmState.PENDING and confirmation.expires_at <= now:
            await self._expire(confirmation)
            confirmation = await confirmations.get(job_id) or confirmation
        if confirmation.state is not ConfirmState.PENDING or job.state is not JobState.AWAITING_CONFIRMATION:
            return self._answered(confirmation, lang)
        state = ConfirmState.CONFIRMED if yes else ConfirmState.DECLINED
        if not await confirmations.answer(job_id, state):  # answered twice at once: the other one won
            return self._answered(await confirmations.get(job_id) or confirmation, lang)
        if self._gate.questions is not None:  # answered here: the conversation's copy is settled too
            await self._gate.questions.settle(conversation)
        # The replica that answers acts: it takes the parked job's lease from whichever replica asked.
        taken = await self._service.take_parked(job_id)
        if taken is None:  # cancelled (or cancelling) meanwhile
            return ActionReply(ActionOutcome.NOT_ALLOWED, self._m.text("service.action.finished", lang))
        if not yes:
            await self._steps.refuse(taken, self._m.text("spend.confirm.declined", lang), ErrorKind.CANCELLED)
            return ActionReply(ActionOutcome.CANCELLED, self._m.text("spend.confirm.declined", lang))
        job = taken.advance(JobState.ACKNOWLEDGED, now)
        await self._jobs.save(job)
        self._service.resume(job)
        return ActionReply(
            ActionOutcome.STARTED, self._m.text("spend.confirm.confirmed", lang), new_job_id=job_id
        )

    async def on_answer(self, question: AnsweredQuestion, answer: YesNo, conversation: Conversation
                        ) -> ActionReply:
        """The conversation layer's ``AnswerHandler`` for spend confirmations (its question's subject is
        the job id): words answered there act here, with the same checks."""
        return await self.answer(conversation, question.subject_id, bool(answer.yes))

    def _answered(self, confirmation: Confirmation, lang: Language) -> ActionReply:
        if confirmation.state is ConfirmState.EXPIRED:
            return ActionReply(ActionOutcome.NOT_ALLOWED, self._expired_text(lang))
        key = _ANSWER_TEXT.get(confirmation.state, "spend.confirm.none")
        return ActionReply(ActionOutcome.NOT_ALLOWED, self._m.text(key, lang))

    def _expired_text(self, lang: Language) -> str:
        minutes = max(1, round(self._gate.policy.confirm.expiry_s / 60))
        return self._m.text("spend.confirm.expired", lang, minutes=minutes)

    async def expire_due(self) -> None:
        for confirmation in await self._gate.confirmations.expired(self._clock.now()):
            await self._expire(confirmation)

    async def _expire(self, confirmation: Confirmation) -> None:
        if not await self._gate.confirmations.answer(confirmation.job_id, ConfirmState.EXPIRED):
            return
        job = await self._service.take_parked(confirmation.job_id)
        if job is not None:
            await self._steps.refuse(job, self._expired_text(job.language), ErrorKind.CANCELLED)

    # ------------------------------------------------------------ usage and keys
    async def describe_usage(self, conversation: Conversation, language: Language) -> str:
        keys = self._spend.keys
        key_line = await keys.describe(conversation, language) if keys is not None else None
        return await describe_usage(self._gate, conversation, language, key_line)

    async def link_key(self, conversation: Conversation, key: str, language: Language) -> str:
        keys = self._spend.keys
        if keys is None:
            return self._m.text("spend.key.off", language)
        return await keys.link(conversation, key, language)

    async def remove_key(self, conversation: Conversation, language: Language) -> str:
        keys = self._spend.keys
        if keys is None:
            return self._m.text("spend.key.none", language)
        return await keys.remove(conversation, language)

    # ------------------------------------------------------------ admin
    def is_admin(self, conversation: Conversation) -> bool:
        return is_admin(self._gate.policy.access, conversation)

    async def admin_text(self, conversation: Conversation, text: str, language: Language) -> str | None:
        """An admin command in words (``admin usage`` / ``管理 暂停``); None when the text is not one."""
        try:
            command = admin_words.parse_admin(text)
        except AdminInputError:
            return (
                self._m.text("spend.admin.bad", language) + "\n" + self._m.text("spend.admin.help", language)
            )
        if command is None:
            return None
        return await self.admin(conversation, command, language)

    async def admin(self, conversation: Conversation, command: AdminCommand, language: Language) -> str:
        if not self.is_admin(conversation):
            return self._m.text("spend.admin.not_admin", language)

        async def cancel(job: Job) -> bool:
            outcome = (await self._service.cancel_job(job)).outcome
            return outcome in (ActionOutcome.CANCELLED, ActionOutcome.CANCELLING)

        return await run_admin(
            command,
            gate=self._gate,
            jobs=self._jobs,
            messages=self._m,
            language=language,
            platform=conversation.platform.value,
            chat_id=conversation.chat_id,
            cancel=cancel,
        )


def _lang(job: Job | None) -> Language:
    return job.language if job is not None else Language.EN
