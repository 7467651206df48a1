"""Build a ``GenerationService`` on the in-process simulator (also after a simulated restart)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from adapters.console.fetcher import LocalFileFetcher
from adapters.media.probe import PyAvProbe
from adapters.media.remote import SafeRemoteFetcher
from adapters.sqlite.db import Database
from adapters.sqlite.deliveries import SqliteDeliveryLog
from adapters.sqlite.jobs import SqliteJobStore
from adapters.sqlite.preferences import SqlitePreferenceStore
from core.catalog.models import ModelCatalog
from core.clock import Clock
from core.jobs import JobStore
from core.media.inputs import AttachmentPreparer
from core.media.preflight import MediaLimits
from core.messages import Messages
from core.pipeline.deps import RunnerDeps
from core.pipeline.service import GenerationService, ServiceConfig
from core.platform import AttachmentFetcher, EventSink
from core.ports import ImaGateway, InputPreparer
from core.types import Language, MediaType, Platform
from tests.support.ima import TEST_API_KEY, SimHarness


@asynccontextmanager
async def running_service(
    sim: SimHarness, db: Database, clock: Clock, sinks: Mapping[Platform, EventSink], *,
    jobs: JobStore | None = None, preparer: InputPreparer | None = None,
    fetchers: Mapping[Platform, AttachmentFetcher] | None = None, max_concurrent_jobs: int = 200,
    parse_inline_chars: int = 1_000,
    default_language: Language = Language.ZH, default_media: MediaType = MediaType.VIDEO,
    media_dir: Path | None = None, api_key: str = TEST_API_KEY,
    wrap_gateway: Callable[[ImaGateway], ImaGateway] | None = None, **deps: Any,
) -> AsyncIterator[GenerationService]:
    """A started service with SQLite stores on ``db``; on exit it is closed like a process shutdown
    (job rows stay as they are, so a second ``running_service`` on the same file resumes them).

    With ``media_dir`` the real ``AttachmentPreparer`` (PyAV probe, uploads to the simulator) handles
    attachments; console-style local paths are fetched by ``LocalFileFetcher``; remote URLs are refused.
    ``wrap_gateway`` puts a test double around the IMA client the runner uses."""
    async with sim.client(api_key) as client:
        if media_dir is not None and preparer is None:
            remote = SafeRemoteFetcher(transport=httpx.MockTransport(lambda r: httpx.Response(404)),
                                       resolver=_no_dns)
            preparer = AttachmentPreparer(client, PyAvProbe(), remote, MediaLimits.load_default(),
                                          temp_dir=media_dir)
            fetchers = fetchers if fetchers is not None else {Platform.CONSOLE: LocalFileFetcher()}
        gateway = wrap_gateway(client) if wrap_gateway else client
        deps.setdefault("deliveries", SqliteDeliveryLog(db))  # exactly-once records, as in production
        runner_deps = RunnerDeps(
            gateway=gateway, jobs=jobs or SqliteJobStore(db), preferences=SqlitePreferenceStore(db),
            catalog=ModelCatalog.load_default(), messages=Messages.from_package(), clock=clock, sinks=sinks,
            fetchers=fetchers if fetchers is not None else {}, preparer=preparer, **deps)
        config = ServiceConfig(default_media=default_media, default_language=default_language,
                               max_concurrent_jobs=max_concurrent_jobs, parse_inline_chars=parse_inline_chars)
        service = GenerationService(runner_deps, config)
        await service.start()
        try:
            yield service
        finally:
            await service.aclose()


async def _no_dns(host: str, port: int) -> list[str]:
    raise OSError("no DNS in tests")
