"""Cancel that works: find the job the user means, stop it, and say truthfully what happened.

One running job -> cancel it; several -> list them (prompt excerpt, model, progress) and ask which one
(buttons, or a number in words); a reply to a job's status message -> that job. Whether credits were
spent (a task already created at IMA is charged) is said once: by the job's own cancellation message
when cancelled by words, in the button's toast when cancelled by a button.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.clock import Clock
from core.conversation.answers import Answers
from core.conversation.desk import QuestionDesk
from core.conversation.questions import QuestionKind
from core.conversation.thread import ThreadStore
from core.jobs import Job, JobState, JobStore
from core.messages import Messages
from core.pipeline.service import GenerationService
from core.platform import ActionKind, ActionOutcome, ActionReply, Choice
from core.types import Conversation, Language
from core.ux.renderer import excerpt

RUNNING_LOOKBACK = 30  # this user's newest generations searched for running ones
MAX_LISTED = 10


class Canceller:
    def __init__(self, pipeline: GenerationService, jobs: JobStore, thread: ThreadStore, desk: QuestionDesk,
                 answers: Answers, messages: Messages, clock: Clock) -> None:
        self._pipeline = pipeline
        self._jobs = jobs
        self._thread = thread
        self._desk = desk
        self._answers = answers
        self._m = messages
        self._clock = clock

    async def running(self, conversation: Conversation) -> list[Job]:
        """This user's unfinished jobs on this platform, oldest first (the order they are listed in)."""
        entries = await self._thread.recent_for_user(conversation.platform, conversation.user_id,
                                                     RUNNING_LOOKBACK)
        found = [await self._jobs.get(e.job_id) for e in entries]
        jobs = [j for j in found if j is not None and not j.notice_only and not j.state.terminal]
        return sorted(jobs, key=lambda j: (j.created_at, j.job_id))[:MAX_LISTED]

    async def by_words(self, conversation: Conversation, language: Language, index: int | None,
                       everything: bool) -> tuple[str, tuple[Choice, ...]]:
        """"取消" / "取消第2个" / "全部取消": the reply text and, when asking which, its buttons."""
        running = await self.running(conversation)
        if not running:
            return self._m.text("conversation.cancel.none", language), ()
        if everything:
            return joined([await self.cancel(conversation, job) for job in running]), ()
        if index is not None:
            if not 1 <= index <= len(running):
                text = self._m.text("conversation.cancel.no_such", language, index=index, count=len(running))
                return text, ()
            return await self.cancel(conversation, running[index - 1]), ()
        if len(running) == 1:
            return await self.cancel(conversation, running[0]), ()
        return await self.ask_which(conversation, running, language)

    async def ask_which(self, conversation: Conversation, running: Sequence[Job], language: Language
                        ) -> tuple[str, tuple[Choice, ...]]:
        await self._desk.ask(conversation, QuestionKind.CANCEL_PICK, language,
                             options=[job.job_id for job in running])
        now = self._clock.now()
        lines = [self._m.text("conversation.cancel.pick", language, count=len(running))]
        lines.extend(self._answers.job_line(i, job, now, language) for i, job in enumerate(running, 1))
        choices = tuple(Choice(ActionKind.CANCEL, job.job_id,
                               self._m.text("conversation.cancel.button", language, index=i))
                        for i, job in enumerate(running, 1))
        return "\n".join(lines), choices

    async def cancel(self, conversation: Conversation, job: Job) -> str:
        """Cancel ``job`` by words: what is left to say, "" once it is cancelled."""
        return said_in_chat(await self.cancel_reply(conversation, job)).text

    async def cancel_reply(self, conversation: Conversation, job: Job) -> ActionReply:
        before = job.state
        if before.terminal or before is JobState.DELIVERING:
            return ActionReply(ActionOutcome.NOT_ALLOWED, self._ended(job))
        reply = await self._pipeline.handle_action(conversation, job.job_id, ActionKind.CANCEL)
        if reply.outcome is not ActionOutcome.CANCELLED:
            if reply.outcome in (ActionOutcome.NOT_OWNER, ActionOutcome.CANCELLING):
                return reply
            latest = await self._jobs.get(job.job_id) or job
            return ActionReply(reply.outcome, self._ended(latest))
        return reply  # what it cost, said by the pipeline from the job as it ended (created / can't tell)

    def _ended(self, job: Job) -> str:
        key = {JobState.CANCELLED: "conversation.cancel.already_cancelled",
               JobState.DONE: "conversation.cancel.already_done",
               JobState.DELIVERING: "conversation.cancel.delivering"}.get(
            job.state, "conversation.cancel.already_failed")
        return self._m.text(key, job.language, prompt=excerpt(job.request.prompt))


def said_in_chat(reply: ActionReply) -> ActionReply:
    """A cancel asked for in words, as the chat should see it: a cancelled job posts its own
    cancellation message (one of its generation's messages, saying what was charged), so the
    conversation adds nothing; saying it again would state the charge twice. A button's answer is a
    toast or an ephemeral note, not a chat message, and keeps the full text."""
    return ActionReply(reply.outcome, "") if reply.outcome is ActionOutcome.CANCELLED else reply


def joined(texts: Sequence[str]) -> str:
    return "\n".join(text for text in texts if text)
