"""Build a ``GenerationService`` on the in-process simulator (also after a simulated restart)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from core.clock import Clock
from core.job_runner import ModelSelector, RunnerDeps
from core.jobs import JobStore
from core.messages import Messages
from core.model_catalog import ModelCatalog
from core.ports import AttachmentFetcher, InputPreparer, PreferenceStore
from core.service import GenerationService, ServiceConfig
from core.types import Language, MediaType, Platform
from core.ux_events import EventSink
from tests.support.fakes import MemoryPreferenceStore, simple_select
from tests.support.ima import SimHarness


def default_selector() -> ModelSelector:
    try:
        from core.selection import select_model
    except ImportError:  # the selection module has not landed yet
        return simple_select
    return select_model  # type: ignore[no-any-return]


@asynccontextmanager
async def running_service(
    sim: SimHarness, db: Database, clock: Clock, sinks: Mapping[Platform, EventSink], *,
    jobs: JobStore | None = None, preferences: PreferenceStore | None = None,
    preparer: InputPreparer | None = None,
    fetchers: Mapping[Platform, AttachmentFetcher] | None = None, select: ModelSelector | None = None,
    max_concurrent_jobs: int = 200, default_language: Language = Language.ZH,
    default_media: MediaType = MediaType.VIDEO, **deps: Any,
) -> AsyncIterator[GenerationService]:
    """A started service; on exit it is closed like a process shutdown (job rows stay as they are)."""
    async with sim.client() as client:
        runner_deps = RunnerDeps(
            gateway=client, jobs=jobs or SqliteJobStore(db),
            preferences=preferences or MemoryPreferenceStore(),
            catalog=ModelCatalog.load_default(), messages=Messages.from_package(), clock=clock,
            select=select or default_selector(), sinks=sinks, fetchers=fetchers or {}, preparer=preparer,
            **deps)
        config = ServiceConfig(default_media=default_media, default_language=default_language,
                               max_concurrent_jobs=max_concurrent_jobs)
        service = GenerationService(runner_deps, config)
        await service.start()
        try:
            yield service
        finally:
            await service.aclose()
