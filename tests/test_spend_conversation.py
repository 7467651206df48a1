"""Issue #12 behind the conversation layer (what every platform talks to): confirmations answered in
words through its question memory or with the status buttons, the usage intent, keys and access
screened before anything is understood or remembered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from bot.spend_wiring import connect_question_memory
from core.clock import FakeClock
from core.conversation.service import ConversationService
from core.jobs import JobState
from core.platform import ActionKind, ActionOutcome
from core.spend.hooks import SettlingJobStore
from core.spend.policy import (
    AccessPolicy,
    BillingMode,
    ConfirmPolicy,
    DisallowedReply,
    PlaceRules,
    SpendPolicy,
)
from core.types import Platform
from tests.support.conversation import running_conversation
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.sinks import RecordingSink
from tests.support.spend import make_spend

CAT = "用Seedream生成一只猫的图片"


@asynccontextmanager
async def front(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink, work: Path, policy: SpendPolicy
) -> AsyncIterator[ConversationService]:
    async with sim.client() as base:
        own = base if policy.billing is not BillingMode.OPERATOR else None
        spend = make_spend(db, clock, policy, own_keys=own)
        jobs = SettlingJobStore(SqliteJobStore(db), spend.gate)
        async with running_conversation(
            sim, db, clock, {Platform.CONSOLE: sink}, work, jobs=jobs, spend=spend
        ) as service:
            service.usage = service.pipeline.spend
            connect_question_memory(service.pipeline, service.desk)
            yield service


def chat(user: str = "u1", message_id: str | None = None):
    return conversation(user_id=user, chat_id="c1", is_direct=False, message_id=message_id)


async def test_yes_in_words_goes_through_the_question_memory(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink, tmp_path: Path
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5))
    async with front(sim, db, clock, sink, tmp_path, policy) as service:
        job_id = await service.handle_message(chat(), CAT) or ""
        await service.pipeline.wait_for(job_id)
        assert await sim.tasks() == []
        await service.handle_message(chat(user="u2"), "好的")  # not the asker's: no effect on the job
        assert (await service.pipeline.job(job_id)).state is JobState.AWAITING_CONFIRMATION  # type: ignore[union-attr]
        await service.handle_message(chat(), "好的")
        await service.pipeline.wait_idle()
        job = await service.pipeline.job(job_id)
    assert job is not None and job.state is JobState.DONE and len(await sim.tasks()) == 1


async def test_status_buttons_name_the_job_and_still_work(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink, tmp_path: Path
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5))
    async with front(sim, db, clock, sink, tmp_path, policy) as service:
        job_id = await service.handle_message(chat(), CAT) or ""
        await service.pipeline.wait_for(job_id)
        reply = await service.handle_action(chat(), job_id, ActionKind.CONFIRM)
        await service.pipeline.wait_idle()
        later = await service.handle_message(chat(), "yes")  # the question was settled with the button
        await service.pipeline.wait_idle()
    assert reply.outcome is ActionOutcome.STARTED
    assert later is None and len(await sim.tasks()) == 1


async def test_usage_intent_answers_from_the_ledger(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink, tmp_path: Path
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(enabled=False))
    async with front(sim, db, clock, sink, tmp_path, policy) as service:
        job_id = await service.handle_message(chat(), CAT) or ""
        await service.pipeline.wait_for(job_id)
        await service.handle_message(chat(), "我今天用了多少积分？")
    assert "今天：5 积分" in sink.all_text() and "本月：5 积分" in sink.all_text()


async def test_keys_and_access_are_screened_before_anything_is_understood_or_remembered(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink, tmp_path: Path
) -> None:
    key = "ima_dave_secret_key_1234abcd"
    access = AccessPolicy(
        feishu_chats=PlaceRules(deny=frozenset({"c-blocked"})), disallowed_reply=DisallowedReply.IGNORE
    )
    policy = SpendPolicy(confirm=ConfirmPolicy(enabled=False), billing=BillingMode.USER_KEY, access=access)
    async with front(sim, db, clock, sink, tmp_path, policy) as service:
        await service.handle_message(chat(user="dave"), f"key {key}")  # in a group: refused
        dm = replace(conversation(user_id="dave", chat_id="dm-dave", is_direct=True))
        await service.handle_message(dm, f"绑定密钥 {key}")
        blocked = replace(conversation(Platform.FEISHU, user_id="eve", chat_id="c-blocked", is_direct=False))
        assert await service.handle_message(blocked, "帮助") is None
    text = sink.all_text()
    assert "don't post keys in a group" in text and "ima_…abcd" in text and key not in text
    assert not [e for e in sink.events if e.conversation.chat_id == "c-blocked"]  # silently ignored
    assert key not in await every_stored_value(db)  # not in jobs, thread memory, questions... (encrypted)


async def every_stored_value(db: Database) -> str:
    async with db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
        tables = [row[0] for row in await cursor.fetchall()]
    values = []
    for table in tables:
        async with db.conn.execute(f"SELECT * FROM {table}") as cursor:
            values.extend(repr(tuple(row)) for row in await cursor.fetchall())
    return "\n".join(values)


async def test_reusing_a_result_with_another_model_asks_first(sim: SimHarness, db: Database, clock: FakeClock,
                                                              sink: RecordingSink, tmp_path: Path) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=1000))  # only the follow-up rule can ask
    async with front(sim, db, clock, sink, tmp_path, policy) as service:
        image_id = await service.handle_message(chat(), CAT) or ""
        image = await service.pipeline.wait_for(image_id)
        assert image is not None and image.state is JobState.DONE
        reply = await service.handle_action(chat(message_id="click-1"), image_id, ActionKind.FIRST_FRAME)
        await service.pipeline.wait_idle()
        video = await service.pipeline.job(reply.new_job_id or "")
    assert video is not None and video.state is JobState.AWAITING_CONFIRMATION
    assert video.model_id != image.model_id and video.parent_job_id == image_id
    assert "换了一个模型" in sink.for_job(video.job_id)[-1].text
    assert len(await sim.tasks()) == 1  # only the image was created
