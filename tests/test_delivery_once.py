"""Exactly-once delivery through crashes (issue #13 item 1): a crash injected between every pair of
delivery steps — intent recorded | platform send | outcome recorded — for each result part, on the fake
Discord (real discord.py; Create Message with ``nonce`` + ``enforce_nonce``) and the fake Feishu
(real lark-oapi; send/reply with ``uuid``); both fakes deduplicate like the real platforms. After the
restart every part is visible exactly once and nothing is created twice at IMA.

``MATRIX`` at the bottom of this module is the closing note's crash-injection matrix."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.sqlite.db import Database
from adapters.sqlite.deliveries import SqliteDeliveryLog
from adapters.sqlite.jobs import SqliteJobStore
from core.clock import FakeClock
from core.jobs import JobState
from core.pipeline.delivery import DeliveryLog, DeliveryRecord, delivery_token
from core.platform import EventSink, UxEvent
from core.types import Conversation, Language, Platform
from core.ux.renderer import SUCCESS_PARTS
from tests.discord_fake.fixtures import fake  # noqa: F401
from tests.discord_fake.harness import running_adapter
from tests.discord_fake.server import FakeDiscord
from tests.discord_fake.transport_download import SIM_ORIGINS, TransportDownloader
from tests.feishu_fake.fixtures import running_fake
from tests.feishu_fake.server import FakeFeishu
from tests.support.ima import SimHarness
from tests.support.service import running_service

POINTS = [f"{step}:{part}" for part in SUCCESS_PARTS for step in ("intent", "sent", "recorded")]
PROMPT = "画一只可爱的橘猫"


class SimulatedCrash(BaseException):
    """kill -9 at this point: nothing after it runs in this process."""


class CrashingLog:
    def __init__(self, inner: DeliveryLog, point: str) -> None:
        self._inner, self._point = inner, point

    async def records(self, job_id: str) -> Mapping[str, DeliveryRecord]:
        return await self._inner.records(job_id)

    async def intend(self, job_id: str, part: str, token: str, now: float) -> DeliveryRecord:
        record = await self._inner.intend(job_id, part, token, now)
        if self._point == f"intent:{part}":
            raise SimulatedCrash(self._point)
        return record

    async def sent(self, job_id: str, part: str, ref: str | None, now: float) -> None:
        await self._inner.sent(job_id, part, ref, now)
        if self._point == f"recorded:{part}":
            raise SimulatedCrash(self._point)


class CrashingSink:
    """The platform call goes through; the process dies before the caller hears back."""

    def __init__(self, inner: EventSink, point: str) -> None:
        self._inner, self._point = inner, point

    async def emit(self, event: UxEvent) -> str | None:
        ref = await self._inner.emit(event)
        for part in SUCCESS_PARTS:
            if self._point == f"sent:{part}" and event.token == delivery_token(event.job_id, part):
                raise SimulatedCrash(self._point)
        return ref


@dataclass
class ChatUnderTest:
    name: Platform
    sink: EventSink
    conversation: Conversation
    visible: Callable[[str], Counter[str]]  # job id -> part -> messages the user can see


@asynccontextmanager
async def discord_platform(fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock  # noqa: F811
                           ) -> AsyncIterator[ChatUnderTest]:
    downloader = TransportDownloader(sim.transport)
    sinks: dict[Platform, EventSink] = {}
    async with running_service(sim, db, clock, sinks, default_language=Language.ZH) as intake, \
            running_adapter(fake, intake, clock, downloader=downloader) as adapter:
        conversation = Conversation(Platform.DISCORD, fake.channel.id, fake.alice.id, "900000000000000001",
                                    is_direct=False)

        def visible(job_id: str) -> Counter[str]:
            tokens = {delivery_token(job_id, part): part for part in SUCCESS_PARTS}
            return Counter(tokens[m["nonce"]] for m in fake.channel.messages.values()
                           if m.get("nonce") in tokens)

        yield ChatUnderTest(Platform.DISCORD, adapter.sink, conversation, visible)
    await downloader.aclose()


@asynccontextmanager
async def feishu_platform(sim: SimHarness, db: Database, clock: FakeClock, tmp: Path
                          ) -> AsyncIterator[ChatUnderTest]:
    from adapters.dedupe_store import SqlDedupeStore
    from adapters.feishu.adapter import FeishuAdapter, FeishuConfig

    async with running_fake() as fake_feishu:
        fake_feishu.now = clock.now
        config = FeishuConfig(app_id=fake_feishu.app_id, app_secret="secret", domain=fake_feishu.base_url,
                              temp_dir=tmp,
                              media_origins=SIM_ORIGINS)
        sinks: dict[Platform, EventSink] = {}
        async with running_service(sim, db, clock, sinks) as intake:
            adapter = FeishuAdapter(config, intake, SqlDedupeStore(db, clock), clock,
                                    media_transport=sim.transport)
            async with adapter:
                conversation = Conversation(Platform.FEISHU, "oc_group", "ou_alice", "om_user_1",
                                            is_direct=False)

                def visible(job_id: str) -> Counter[str]:
                    return _feishu_visible(fake_feishu, job_id)

                yield ChatUnderTest(Platform.FEISHU, adapter.sink, conversation, visible)


def _feishu_visible(fake_feishu: FakeFeishu, job_id: str) -> Counter[str]:
    tokens = {delivery_token(job_id, part): part for part in SUCCESS_PARTS}
    seen: Counter[str] = Counter()
    for message in fake_feishu.messages:
        token = (message.uuid or "").split(":", 1)[0]
        if token in tokens:
            seen[tokens[token]] += 1
    return seen


async def _deliver_with_crash(platform: ChatUnderTest, point: str | None, sim: SimHarness, db: Database,
                              clock: FakeClock) -> tuple[str, Counter[str]]:
    sink: EventSink = platform.sink if point is None else CrashingSink(platform.sink, point)
    log: DeliveryLog = SqliteDeliveryLog(db)
    if point is not None:
        log = CrashingLog(log, point)
    async with running_service(sim, db, clock, {platform.name: sink}, deliveries=log) as first:
        job_id = await first.handle_message(platform.conversation, PROMPT)
        assert job_id is not None
        await first.wait_idle()
    if point is not None:  # the restart: a new process on the same database
        async with running_service(sim, db, clock, {platform.name: platform.sink},
                                   deliveries=SqliteDeliveryLog(db)) as second:
            await second.wait_idle()
    job = await SqliteJobStore(db).get(job_id)
    assert job is not None and job.state is JobState.DONE, job
    return job_id, platform.visible(job_id)


@pytest.mark.parametrize("point", [None, *POINTS])
async def test_discord_parts_are_visible_exactly_once_after_a_crash(
        point: str | None, fake: FakeDiscord, sim: SimHarness, db: Database,  # noqa: F811
        clock: FakeClock) -> None:
    async with discord_platform(fake, sim, db, clock) as platform:
        _, visible = await _deliver_with_crash(platform, point, sim, db, clock)
    assert visible == Counter({part: 1 for part in SUCCESS_PARTS}), (point, visible)
    assert len(await sim.tasks()) == 1


@pytest.mark.parametrize("point", [None, *POINTS])
async def test_feishu_parts_are_visible_exactly_once_after_a_crash(
        point: str | None, sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    async with feishu_platform(sim, db, clock, tmp_path) as platform:
        _, visible = await _deliver_with_crash(platform, point, sim, db, clock)
    assert visible == Counter({part: 1 for part in SUCCESS_PARTS}), (point, visible)
    assert len(await sim.tasks()) == 1


def test_the_matrix_covers_every_pair_of_steps() -> None:
    assert len(POINTS) == 3 * len(SUCCESS_PARTS)
    assert {(p, point) for p in ("discord", "feishu") for point in POINTS} == MATRIX


MATRIX: set[tuple[str, Any]] = {(p, point) for p in ("discord", "feishu") for point in POINTS}
