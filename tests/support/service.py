"""Build a ``GenerationService`` on the in-process simulator (also after a simulated restart)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from adapters.sqlite.preferences import SqlitePreferenceStore
from core.clock import Clock
from core.job_runner import RunnerDeps
from core.jobs import JobStore
from core.messages import Messages
from core.model_catalog import ModelCatalog
from core.ports import AttachmentFetcher, InputPreparer
from core.service import GenerationService, ServiceConfig
from core.types import Language, MediaType, Platform
from core.ux_events import EventSink
from tests.support.ima import SimHarness


@asynccontextmanager
async def running_service(
    sim: SimHarness, db: Database, clock: Clock, sinks: Mapping[Platform, EventSink], *,
    jobs: JobStore | None = None, preparer: InputPreparer | None = None,
    fetchers: Mapping[Platform, AttachmentFetcher] | None = None, max_concurrent_jobs: int = 200,
    default_language: Language = Language.ZH, default_media: MediaType = MediaType.VIDEO, **deps: Any,
) -> AsyncIterator[GenerationService]:
    """A started service with SQLite stores on ``db``; on exit it is closed like a process shutdown
    (job rows stay as they are, so a second ``running_service`` on the same file resumes them)."""
    async with sim.client() as client:
        runner_deps = RunnerDeps(
            gateway=client, jobs=jobs or SqliteJobStore(db), preferences=SqlitePreferenceStore(db),
            catalog=ModelCatalog.load_default(), messages=Messages.from_package(), clock=clock, sinks=sinks,
            fetchers=fetchers or {}, preparer=preparer, **deps)
        config = ServiceConfig(default_media=default_media, default_language=default_language,
                               max_concurrent_jobs=max_concurrent_jobs)
        service = GenerationService(runner_deps, config)
        await service.start()
        try:
            yield service
        finally:
            await service.aclose()
