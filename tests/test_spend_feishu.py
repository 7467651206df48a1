"""Issue #12 on Feishu: lark-oapi's real client against the fake Feishu, the real service with the spend
rules on SQLite and the in-process simulator: confirmation by card button and by words, budget refusal,
own key only in a DM (with the recall reminder), admin words in a DM."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from adapters.dedupe_store import SqlDedupeStore
from adapters.feishu.adapter import FeishuAdapter, FeishuConfig
from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.pipeline.service import GenerationService
from core.platform import EventSink
from core.spend.policy import AccessPolicy, BillingMode, ConfirmPolicy, QuotaPolicy, SpendPolicy
from core.types import Platform
from tests.feishu_fake.events import card_action_event, message_event
from tests.feishu_fake.fixtures import running_fake
from tests.feishu_fake.server import FakeFeishu
from tests.support.ima import SimHarness
from tests.support.spend import GatewayTap, spend_service

CAT = "用Seedream生成一只猫的图片"
USER_KEY = "ima_feishu_own_key_c0ffee42"


@dataclass
class Stack:
    service: GenerationService
    adapter: FeishuAdapter


@asynccontextmanager
async def stack(
    fake: FakeFeishu, sim: SimHarness, db: Database, clock: FakeClock, tmp: Path, policy: SpendPolicy,
    **service_kwargs: Any,
) -> AsyncIterator[Stack]:
    sinks: dict[Platform, EventSink] = {}
    config = FeishuConfig(app_id=fake.app_id, app_secret="secret", domain=fake.base_url, temp_dir=tmp)
    async with spend_service(sim, db, clock, sinks, policy, **service_kwargs) as (service, _):
        adapter = FeishuAdapter(
            config, service, SqlDedupeStore(db, clock), clock, media_transport=sim.transport
        )
        sinks[Platform.FEISHU] = adapter.sink
        async with adapter:
            await fake.wait_connected()
            yield Stack(service, adapter)
            await adapter.router.drain()
            await service.wait_idle()


async def say(fake: FakeFeishu, s: Stack, text: str, **kw: object) -> None:
    ack = await fake.push_event(message_event(text=text, **kw))  # type: ignore[arg-type]
    assert ack.code == 200 and ack.elapsed_s < 3.0
    await s.adapter.router.drain()


def everything(fake: FakeFeishu) -> str:
    return " ".join(m.card_text for m in fake.messages) + " ".join(
        json.dumps(p.content, ensure_ascii=False) for p in fake.patches
    )


def confirm_job(fake: FakeFeishu) -> str:
    """The job id behind a Confirm button on any card sent or patched so far."""
    for text in [m.card_text for m in fake.messages] + [json.dumps(p.content) for p in fake.patches]:
        if '"imabot:confirm:' in text:
            return text.split('"imabot:confirm:')[1].split('"')[0]
    return ""


async def test_confirmation_by_card_button_only_for_the_requester(
    sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5))
    async with running_fake() as fake:
        fake.now = clock.now
        async with stack(fake, sim, db, clock, tmp_path, policy) as s:
            await say(fake, s, CAT)
            await fake.wait_until(lambda f: bool(confirm_job(f)))  # the status card asks, with buttons
            job_id = confirm_job(fake)
            assert await sim.tasks() == []
            stranger = await fake.push_event(
                card_action_event(action="confirm", job_id=job_id, user="ou_mallory")
            )
            assert stranger.data is not None and stranger.data["toast"]["type"] == "warning"
            owner = await fake.push_event(card_action_event(action="confirm", job_id=job_id))
            assert owner.data is not None and owner.data["toast"]["type"] == "success"
            await s.service.wait_idle()
            await s.adapter.router.drain()
            await s.service.wait_idle()
        assert len(await sim.tasks()) == 1


async def test_confirmation_by_words_in_a_group(
    sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5))
    async with running_fake() as fake:
        fake.now = clock.now
        async with stack(fake, sim, db, clock, tmp_path, policy) as s:
            await say(fake, s, CAT)
            await fake.wait_until(lambda f: bool(confirm_job(f)))
            await say(fake, s, "不用", user="ou_mallory")  # someone else's "no" is just a new message
            await say(fake, s, "好的")
            await s.service.wait_idle()
        assert len(await sim.tasks()) == 1
        assert "已确认" in everything(fake)


async def test_budget_refusal_in_a_feishu_group(
    sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    policy = SpendPolicy(quota=QuotaPolicy(chat_day_points=7), confirm=ConfirmPolicy(enabled=False))
    async with running_fake() as fake:
        fake.now = clock.now
        async with stack(fake, sim, db, clock, tmp_path, policy) as s:
            await say(fake, s, CAT)
            await s.service.wait_idle()
            await say(fake, s, CAT, user="ou_bob")
            await s.service.wait_idle()
        assert len(await sim.tasks()) == 1
        assert "本聊天今天的额度：已用 5 / 7，还剩 2" in everything(fake)


async def test_own_key_only_in_a_dm_with_a_recall_reminder_and_never_logged(
    sim: SimHarness,
    db: Database,
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    policy = SpendPolicy(confirm=ConfirmPolicy(enabled=False), billing=BillingMode.USER_KEY_REQUIRED)
    async with running_fake() as fake:
        fake.now = clock.now
        async with stack(fake, sim, db, clock, tmp_path, policy) as s:
            await say(fake, s, CAT)  # no key yet: refused before anything is created
            await s.service.wait_idle()
            await say(fake, s, f"绑定密钥 {USER_KEY}")  # in the group: refused, not stored
            await say(fake, s, f"绑定密钥 {USER_KEY}", chat_type="p2p", chat_id="oc_dm", mention_bot=False)
            await say(fake, s, CAT)
            await s.service.wait_idle()
            await say(fake, s, "删除密钥", chat_type="p2p", chat_id="oc_dm", mention_bot=False)
        text = everything(fake)
        assert "要求使用你自己的 IMA 密钥" in text and "请不要在群里发送密钥" in text
        assert "ima_…ee42" in text and "撤回" in text and "已删除" in text
        (task,) = await sim.tasks()
        assert task["key"].startswith("ima_fe")  # the user's own account paid
    assert USER_KEY not in text
    assert USER_KEY not in caplog.text + capsys.readouterr().err


async def test_admin_words_in_a_dm_report_and_pause(
    sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    policy = SpendPolicy(
        confirm=ConfirmPolicy(enabled=False), access=AccessPolicy(admins=frozenset({"feishu:ou_admin"}))
    )
    dm = {"chat_type": "p2p", "chat_id": "oc_admin_dm", "mention_bot": False, "user": "ou_admin"}
    async with running_fake() as fake:
        fake.now = clock.now
        async with stack(fake, sim, db, clock, tmp_path, policy) as s:
            await say(fake, s, CAT)
            await s.service.wait_idle()
            await say(fake, s, "管理 用量", **dm)
            await say(fake, s, "管理 暂停 oc_group", **dm)
            await say(
                fake, s, "管理 暂停 oc_group", chat_type="p2p", chat_id="oc_alice_dm", mention_bot=False
            )
            await say(fake, s, CAT)
            await say(fake, s, "管理 恢复 oc_group", **dm)
            await say(fake, s, CAT)
            await s.service.wait_idle()
        text = everything(fake)
        assert "1 个任务，5 积分" in text and "ou_alice" in text
        assert "已暂停 feishu:oc_group" in text and "只有管理员可以使用" in text
        assert "管理员已暂停本聊天中的生成" in text and "已恢复 feishu:oc_group" in text
        assert len(await sim.tasks()) == 2


def card_versions(fake: FakeFeishu, message_id: str) -> list[str]:
    """A card's text as first sent, then as every patch left it."""
    patched = [json.dumps(p.content, ensure_ascii=False) for p in fake.patches if p.message_id == message_id]
    return [fake.message(message_id).card_text, *patched]


def status_card(fake: FakeFeishu, reply_to: str) -> str | None:
    cards = (m for m in fake.messages if m.msg_type == "interactive" and m.reply_to == reply_to)
    return next((m.message_id for m in cards), None)


async def test_third_job_waits_in_line_and_its_card_moves_when_a_running_job_finishes(
    sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    release = asyncio.Event()  # running jobs are held at their first poll until released
    policy = SpendPolicy(confirm=ConfirmPolicy(enabled=False), quota=QuotaPolicy(running_per_user=2))
    async with running_fake() as fake:
        fake.now = clock.now
        async with stack(fake, sim, db, clock, tmp_path, policy,
                         wrap_gateway=partial(GatewayTap, before_poll=release.wait)) as s:
            for n in range(1, 4):
                await say(fake, s, CAT, message_id=f"om_queue_{n}")

            def third_queued(f: FakeFeishu) -> bool:
                card = status_card(f, "om_queue_3")
                return card is not None and any("排队中，" in t for t in card_versions(f, card))

            await fake.wait_until(third_queued)
            assert len(await sim.tasks()) == 2  # nothing is created for the third while it waits
            release.set()
            await s.service.wait_idle()
            await s.adapter.sink.aclose()
        card = status_card(fake, "om_queue_3")
        assert card is not None
        versions = card_versions(fake, card)
        assert "排队中" not in versions[-1] and "✅" in versions[-1]  # the same card moved on and finished
    assert len(await sim.tasks()) == 3


async def test_confirm_button_after_expiry_answers_expired_and_creates_nothing(
    sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5, expiry_s=600))
    async with running_fake() as fake:
        fake.now = clock.now
        async with stack(fake, sim, db, clock, tmp_path, policy) as s:
            await say(fake, s, CAT)
            await fake.wait_until(lambda f: bool(confirm_job(f)))
            clock.advance(601)
            late = await fake.push_event(card_action_event(action="confirm", job_id=confirm_job(fake)))
            await s.service.wait_idle()
        assert late.data is not None
        answer = late.data["toast"]
        assert answer["type"] == "warning" and len(answer["content"]) < 200
        assert "已过期" in answer["content"] and "没有创建任务" in answer["content"]
        assert "已确认" not in everything(fake)
    assert await sim.tasks() == []


def result_links(fake: FakeFeishu) -> list[str]:
    """The result's link messages (the simulator's media are not fetched from an untrusted origin)."""
    return [m.card_text for m in fake.messages if "原始链接" in m.card_text and "sim-task-" in m.card_text]


async def test_pending_confirmation_survives_a_bot_restart_and_the_word_yes_starts_it(
    sim: SimHarness, db_path: Path, clock: FakeClock, tmp_path: Path
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5))
    async with running_fake() as fake:
        fake.now = clock.now
        async with Database(db_path) as db, stack(fake, sim, db, clock, tmp_path, policy) as s:
            await say(fake, s, CAT)
            await fake.wait_until(lambda f: bool(confirm_job(f)))
        assert await sim.tasks() == []
        # a new process on the same database file
        async with Database(db_path) as db, stack(fake, sim, db, clock, tmp_path, policy) as s:
            await say(fake, s, "好的")
            await fake.wait_until(lambda f: bool(result_links(f)))
            await s.service.wait_idle()
        assert "已确认" in everything(fake)
        assert len(result_links(fake)) == 1  # delivered once
    assert len(await sim.tasks()) == 1  # created once


async def test_create_refused_with_429_once_says_busy_then_creates_once_and_delivers(
    sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await sim.set_faults(["create:http=429:retry_after=20:once"])
    policy = SpendPolicy(confirm=ConfirmPolicy(enabled=False))
    async with running_fake() as fake:
        fake.now = clock.now
        async with stack(fake, sim, db, clock, tmp_path, policy) as s:
            await say(fake, s, CAT)
            await fake.wait_until(lambda f: bool(result_links(f)))
            await s.service.wait_idle()
        assert "服务繁忙，正在重试" in everything(fake)
    assert (await sim.calls()).get("tasks/create") == 2  # the refused one and the one that created
    assert len(await sim.tasks()) == 1 and len(result_links(fake)) == 1
