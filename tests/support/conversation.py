"""The conversation layer on the in-process simulator: ``ConversationService`` over a real pipeline, with
SQLite stores, a preparer and a last-frame source that read the simulator's own media."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from adapters.conversation_stores import SqlQuestionStore, SqlThreadStore
from adapters.dedupe_store import SqlDedupeStore
from adapters.media.lastframe import PyAvLastFrame
from adapters.media.probe import PyAvProbe
from adapters.media.remote import SafeRemoteFetcher
from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from core.catalog.models import ModelCatalog
from core.clock import Clock, FakeClock
from core.conversation.observe import ObservedSinks
from core.conversation.service import ConversationDeps, ConversationService
from core.media.inputs import AttachmentPreparer
from core.media.preflight import MediaLimits
from core.messages import Messages
from core.pipeline.service import ServiceConfig
from core.platform import EventSink
from core.types import Language, MediaType, Platform
from tests.support.ima import SIM_BASE_URL, SimHarness, simulator
from tests.support.service import running_service


async def _no_dns(host: str, port: int) -> list[str]:
    raise OSError("no DNS in tests")


@asynccontextmanager
async def running_conversation(sim: SimHarness, db: Database, clock: Clock,
                               sinks: Mapping[Platform, EventSink], work: Path, *,
                               default_language: Language = Language.ZH,
                               **kwargs: Any) -> AsyncIterator[ConversationService]:
    """A started ``ConversationService``. Results of earlier jobs (simulator media) can be used as inputs."""
    observed = ObservedSinks(sinks)
    async with AsyncExitStack() as stack:
        uploader = await stack.enter_async_context(sim.client())
        # the simulator's own media (results sent back as inputs) is trusted by origin; nothing else resolves
        sim_media = SafeRemoteFetcher(transport=sim.transport, resolver=_no_dns,
                                      trusted_origins=frozenset({SIM_BASE_URL}))
        stack.push_async_callback(sim_media.aclose)
        preparer = AttachmentPreparer(uploader, PyAvProbe(), sim_media, MediaLimits.load_default(),
                                      temp_dir=work / "inputs")
        pipeline = await stack.enter_async_context(running_service(
            sim, db, clock, observed, preparer=preparer, default_language=default_language, **kwargs))
        parsing = ServiceConfig(default_media=MediaType.VIDEO, default_language=default_language)
        deps = ConversationDeps(
            pipeline=pipeline, jobs=SqliteJobStore(db), questions=SqlQuestionStore(db),
            thread=SqlThreadStore(db), dedupe=SqlDedupeStore(db, clock),
            catalog=ModelCatalog.load_default(), messages=Messages.from_package(), clock=clock,
            sinks=observed, parsing=parsing,
            frames=PyAvLastFrame(sim_media, uploader, work / "frames"))
        service = ConversationService(deps)
        observed.observe(service.on_event)
        yield service


class BriefSleepsClock(FakeClock):
    """Manual virtual time in which only brief sleeps pass by themselves: platform pacing and edit
    throttles (a few seconds) go on, while job polling and progress (longer) wait. A job that is
    running stays running, so a cancel test never races it to its end."""

    def __init__(self, brief_s: float = 5.0) -> None:
        super().__init__(auto=False)
        self._brief_s = brief_s

    async def sleep(self, seconds: float) -> None:
        if 0 < seconds <= self._brief_s:
            self.advance(seconds)  # wakes whatever was due by then
            await asyncio.sleep(0)
            return
        await super().sleep(seconds)


@asynccontextmanager
async def still_time() -> AsyncIterator[tuple[FakeClock, SimHarness]]:
    """A ``BriefSleepsClock`` and a simulator on it."""
    clock = BriefSleepsClock()
    async with simulator(clock) as sim:
        yield clock, sim


async def until_created(sim: SimHarness, count: int, bound_s: float = 120.0) -> None:
    """Let the loop run (no virtual time passes) until the simulator holds ``count`` tasks.

    Intake waits on worker threads (SQLite, media probes), so a count of loop turns is not enough on a
    busy machine; ``bound_s`` of real time only ends a stuck test, it schedules nothing."""
    give_up = time.monotonic() + bound_s
    while time.monotonic() < give_up:
        if len(await sim.tasks()) >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"the simulator never reached {count} tasks")
