"""Feishu intake records a message before acknowledging it: a replica that dies between that one insert
and the job row loses nothing. The crash is injected right after the acknowledgement-side write (the
service raises a ``BaseException``, as a killed process would stop, so the item stays unfinished);
a restarted replica on the same store (SQLite or PostgreSQL) resumes it once its hold runs out, and a
redelivery of the same event creates nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from adapters.feishu.adapter import FeishuAdapter, FeishuConfig
from adapters.sqlite.db import Database
from bot.storage import Stores
from core.clock import FakeClock
from core.pipeline.service import GenerationService
from core.platform import BotService, EventSink
from core.request import RequestOverrides
from core.types import Attachment, Conversation, Platform
from tests.discord_fake.transport_download import SIM_ORIGINS
from tests.feishu_fake.events import message_event
from tests.feishu_fake.fixtures import running_fake
from tests.feishu_fake.server import FakeFeishu
from tests.support.backends import Backend
from tests.support.ima import SimHarness
from tests.support.service import running_service

HOLD_S = 30.0


class Crash(BaseException):
    """The process stops here: nothing after it runs, nothing catches it."""


class _CrashOnIntake:
    """The real service, except that a message's intake stops dead before anything is stored."""

    def __init__(self, inner: GenerationService) -> None:
        self._inner = inner
        self.crashed: list[str] = []

    async def handle_message(self, conversation: Conversation, text: str,
                             attachments: Sequence[Attachment] = (),
                             overrides: RequestOverrides | None = None) -> str | None:
        self.crashed.append(conversation.message_id)
        raise Crash

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


@asynccontextmanager
async def replica(fake: FakeFeishu, sim: SimHarness, stores: Stores, prefs_db: Database, clock: FakeClock,
                  tmp: Path, *, crash: bool = False) -> AsyncIterator[tuple[FeishuAdapter, BotService]]:
    sinks: dict[Platform, EventSink] = {}
    config = FeishuConfig(app_id=fake.app_id, app_secret="secret", domain=fake.base_url, temp_dir=tmp,
                          media_origins=SIM_ORIGINS, inbox_hold_s=HOLD_S,
                          inbox_recover_every_s=100 * HOLD_S)  # recovery is driven by the test
    async with running_service(sim, prefs_db, clock, sinks, jobs=stores.jobs,
                               deliveries=stores.deliveries) as service:
        front: BotService = _CrashOnIntake(service) if crash else service  # type: ignore[assignment]
        adapter = FeishuAdapter(config, front, stores.dedupe, clock, media_transport=sim.transport,
                                inbox=stores.inbox)
        sinks[Platform.FEISHU] = adapter.sink
        async with adapter:
            await fake.wait_connected()
            yield adapter, front
            await adapter.router.drain()
            await service.wait_idle()


async def test_a_message_acknowledged_then_crashed_is_resumed_after_restart_as_one_task(
        backend: Backend, sim: SimHarness, clock: FakeClock, tmp_path: Path) -> None:
    payload = message_event(text="画一只可爱的橘猫", chat_type="p2p", mention_bot=False,
                            message_id="om_in_crash")
    clock.auto = False  # time stands still until the test lets the hold run out
    async with running_fake() as fake, Database(tmp_path / "prefs.db") as prefs:
        fake.now = clock.now
        async with backend.open(clock) as stores:
            async with replica(fake, sim, stores, prefs, clock, tmp_path, crash=True) as (adapter, front):
                ack = await fake.push_event(payload)
                assert ack.code == 200 and ack.elapsed_s < 3.0  # Feishu was told "received"
                await adapter.router.drain()
                assert isinstance(front, _CrashOnIntake) and front.crashed == ["om_in_crash"]
            assert await stores.jobs.by_key("feishu:om_in_crash") is None  # the crash came first
            assert (await sim.calls()).get("tasks/create", 0) == 0

        async with backend.open(clock) as stores, \
                replica(fake, sim, stores, prefs, clock, tmp_path) as (adapter, service):
            again = await fake.push_event(payload)  # a redelivery is recognised, even before resuming
            assert again.code == 200
            await adapter.router.drain()
            assert await adapter.router.recover() == 0  # still held by the replica that died
            assert (await sim.calls()).get("tasks/create", 0) == 0
            clock.advance(HOLD_S)
            clock.auto = True
            # Taken over now, by this call or by the replica's own recovery loop if its timer fired
            # first (a busy machine decides which): either way once, as the asserts below show.
            await adapter.router.recover()
            await adapter.router.drain()
            assert await adapter.router.recover() == 0  # finished: nobody takes it again
            job = await stores.jobs.by_key("feishu:om_in_crash")
            assert job is not None
            assert isinstance(service, GenerationService)
            await service.wait_idle()
            done = await stores.jobs.get(job.job_id)
            assert done is not None and done.task_id is not None
    assert (await sim.calls())["tasks/create"] == 1  # (tasks age out of the simulator in virtual time)
    replies = [m for m in fake.messages if m.reply_to == "om_in_crash"]
    assert replies, "the resumed message is answered in the chat"


async def test_a_message_the_store_could_not_record_is_not_acknowledged(
        backend: Backend, sim: SimHarness, clock: FakeClock, tmp_path: Path) -> None:
    payload = message_event(text="画一只可爱的橘猫", chat_type="p2p", mention_bot=False,
                            message_id="om_in_unrecorded")
    async with running_fake() as fake, Database(tmp_path / "prefs.db") as prefs, \
            backend.open(clock) as stores, \
            replica(fake, sim, stores, prefs, clock, tmp_path) as (adapter, service):
        assert isinstance(service, GenerationService)
        inbox = stores.inbox
        assert inbox is not None

        async def store_down(key: str, payload: str, ttl_s: float, hold_s: float) -> bool:
            raise OSError("database unreachable")

        real_accept = inbox.accept
        inbox.accept = store_down  # type: ignore[method-assign]
        refused = await fake.push_event(payload)
        assert refused.code != 200  # not "received": Feishu delivers it again
        inbox.accept = real_accept  # type: ignore[method-assign]
        redelivered = await fake.push_event(payload)
        assert redelivered.code == 200
        await adapter.router.drain()
        await service.wait_idle()
    assert (await sim.calls())["tasks/create"] == 1
