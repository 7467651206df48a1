"""Question memory and thread memory, through their Protocols, on SQLite and PostgreSQL (part of the store
suite; durable across a restart)."""

from __future__ import annotations

from bot.storage import Stores
from core.clock import FakeClock
from core.conversation.desk import QuestionDesk
from core.conversation.questions import Question, QuestionAnswer, QuestionKind, QuestionState
from core.conversation.thread import ThreadEntry, ThreadStore
from core.messages import Messages
from core.platform import ActionOutcome, ActionReply
from core.types import Conversation, Language, Platform
from tests.support.backends import Backend
from tests.support.conversations import conversation


class Recorder:
    def __init__(self) -> None:
        self.answers: list[tuple[str, QuestionAnswer]] = []

    async def on_answer(self, question: Question, answer: QuestionAnswer, conversation: Conversation
                        ) -> ActionReply:
        self.answers.append((question.question_id, answer))
        return ActionReply(ActionOutcome.STARTED, "ok")


def desk(stores: Stores, clock: FakeClock) -> QuestionDesk:
    return QuestionDesk(stores.questions, clock, Messages.from_package(), ttl_s=600)


async def test_a_question_survives_a_restart_and_is_answered_once(backend: Backend, clock: FakeClock) -> None:
    alice = conversation(Platform.DISCORD, user_id="alice", chat_id="c1")
    async with backend.open(clock) as stores:
        asked = await desk(stores, clock).ask(alice, QuestionKind.CONFIRMATION, Language.EN,
                                              subject_id="job-1", payload={"points": 120})
    async with backend.open(clock) as stores:  # the process restarted
        d = desk(stores, clock)
        recorder = Recorder()
        d.handle(QuestionKind.CONFIRMATION, recorder)
        pending = await d.pending(alice)
        assert pending is not None and pending.question_id == asked.question_id
        assert pending.payload == {"points": 120} and pending.subject_id == "job-1"
        first = await d.answer(pending, QuestionAnswer(yes=True), alice)
        second = await d.answer(pending, QuestionAnswer(yes=True), alice)  # a double click
    assert first.outcome is ActionOutcome.STARTED
    assert second.outcome is ActionOutcome.NOT_ALLOWED and "already been answered" in second.text
    assert len(recorder.answers) == 1


async def test_only_the_asker_in_that_chat_can_answer(backend: Backend, clock: FakeClock) -> None:
    async with backend.open(clock) as stores:
        await _check_only_the_asker_in_that_chat_can_answer(desk(stores, clock), clock)


async def _check_only_the_asker_in_that_chat_can_answer(d: QuestionDesk, clock: FakeClock) -> None:
    recorder = Recorder()
    d.handle(QuestionKind.RETRY_OFFER, recorder)
    alice = conversation(Platform.FEISHU, user_id="alice", chat_id="group")
    bob = conversation(Platform.FEISHU, user_id="bob", chat_id="group")
    alice_elsewhere = conversation(Platform.FEISHU, user_id="alice", chat_id="dm")
    question = await d.ask(alice, QuestionKind.RETRY_OFFER, Language.ZH, subject_id="job-9")
    assert await d.pending(bob) is None and await d.pending(alice_elsewhere) is None
    reply = await d.answer(question, QuestionAnswer(yes=True), bob)  # bob clicked alice's button
    assert reply.outcome is ActionOutcome.NOT_OWNER and recorder.answers == []
    assert (await d.answer(question, QuestionAnswer(yes=True), alice)).outcome is ActionOutcome.STARTED


async def test_an_expired_question_says_so_and_does_nothing(backend: Backend, clock: FakeClock) -> None:
    async with backend.open(clock) as stores:
        await _check_an_expired_question_says_so_and_does_nothing(desk(stores, clock), clock)


async def _check_an_expired_question_says_so_and_does_nothing(d: QuestionDesk, clock: FakeClock) -> None:
    recorder = Recorder()
    d.handle(QuestionKind.CONFIRMATION, recorder)
    alice = conversation(user_id="alice")
    question = await d.ask(alice, QuestionKind.CONFIRMATION, Language.EN)
    clock.advance(601)
    reply = await d.answer(question, QuestionAnswer(yes=True), alice)
    assert reply.outcome is ActionOutcome.NOT_ALLOWED and "expired" in reply.text
    assert recorder.answers == []
    assert await d.pending(alice) is None  # settled as withdrawn: words no longer reach it


async def test_a_new_question_of_the_same_kind_replaces_the_old(backend: Backend, clock: FakeClock) -> None:
    async with backend.open(clock) as stores:
        await _check_a_new_question_replaces_the_old_one(desk(stores, clock), clock)


async def _check_a_new_question_replaces_the_old_one(d: QuestionDesk, clock: FakeClock) -> None:
    alice = conversation(user_id="alice")
    old = await d.ask(alice, QuestionKind.CANCEL_PICK, Language.EN, options=("a", "b"))
    clock.advance(1)
    new = await d.ask(alice, QuestionKind.CANCEL_PICK, Language.EN, options=("c", "d"))
    pending = await d.pending(alice)
    assert pending is not None and pending.question_id == new.question_id and pending.options == ("c", "d")
    stored_old = await d.get(old.question_id)
    assert stored_old is not None and stored_old.state is QuestionState.WITHDRAWN


async def test_thread_keeps_the_newest_entries_per_user_and_chat(backend: Backend, clock: FakeClock) -> None:
    async with backend.open(clock, thread_keep=3) as stores:
        await _thread_keeps_the_newest(stores.threads)


async def _thread_keeps_the_newest(store: ThreadStore) -> None:
    for i in range(5):
        await store.remember(ThreadEntry(Platform.CONSOLE, "c", "alice", f"a{i}", 100.0 + i))
    await store.remember(ThreadEntry(Platform.CONSOLE, "c", "bob", "b0", 50.0))
    await store.remember(ThreadEntry(Platform.CONSOLE, "other", "alice", "x0", 200.0))
    await store.remember(ThreadEntry(Platform.CONSOLE, "c", "alice", "a4", 999.0))  # same job: no-op
    mine = await store.recent(Platform.CONSOLE, "c", "alice", 10)
    assert [e.job_id for e in mine] == ["a4", "a3", "a2"]
    everyone = await store.recent(Platform.CONSOLE, "c", None, 10)
    assert [e.job_id for e in everyone] == ["a4", "a3", "a2", "b0"]
    assert [e.job_id for e in await store.recent_for_user(Platform.CONSOLE, "alice", 2)] == ["x0", "a4"]
