"""The composition root: build the whole app from ``Settings`` (database, IMA client, catalog, stores,
input preparer, service) with one async lifecycle.

``build_app`` does not start the service: callers register their platform sinks/fetchers on the
returned ``AppContext`` first and then ``await app.start()``, so that reconciliation on start-up can
resume jobs of every platform that is running.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from adapters.console.fetcher import LocalFileFetcher
from adapters.ima.client import ImaClient, ImaClientConfig
from adapters.media.lastframe import PyAvLastFrame
from adapters.media.probe import PyAvProbe
from adapters.media.remote import SafeRemoteFetcher
from bot.app_context import AppContext, PlatformContext
from bot.settings import Settings, ima_api_key
from bot.spend_wiring import build_spend, connect_question_memory
from bot.storage import Stores, open_stores, replica_id
from core.catalog.models import ModelCatalog
from core.clock import Clock, SystemClock
from core.conversation.observe import ObservedSinks
from core.conversation.service import ConversationConfig, ConversationDeps, ConversationService
from core.media.inputs import AttachmentPreparer
from core.media.ports import RemoteFetcher
from core.media.preflight import MediaLimits
from core.messages import Messages
from core.ops.observed import ObservedJobStore
from core.ops.telemetry import NoTelemetry, Telemetry
from core.pipeline.deps import RunnerDeps
from core.pipeline.service import GenerationService, ServiceConfig
from core.platform import AttachmentFetcher, EventSink
from core.ports import ImaGateway
from core.selection import ModelProfile
from core.spend.hooks import SettlingJobStore
from core.timing.durations import DurationBook
from core.types import Language, MediaType, Platform


@dataclass
class App:
    context: AppContext
    service: GenerationService  # the pipeline (jobs, waiting, shutdown)
    gateway: ImaGateway
    conversation: ConversationService  # what every platform talks to (``context.service``)

    async def start(self) -> None:
        """Start the service: resumes unfinished jobs of every platform with a registered sink."""
        await self.service.start()


def ima_config(settings: Settings) -> ImaClientConfig:
    key = ima_api_key(settings)
    ima = settings.ima
    return ImaClientConfig(base_url=ima.base_url, upload_base_url=ima.upload_base_url,
                           api_key=key, language=ima.language, app_source=ima.app_source,
                           request_timeout_s=ima.request_timeout_s, verify_timeout_s=ima.verify_timeout_s,
                           upload_timeout_s=ima.upload_timeout_s, product_cache_ttl_s=ima.product_cache_ttl_s,
                           max_upload_bytes=ima.max_upload_bytes, poll_connections=ima.poll_connections,
                           call_connections=ima.call_connections, transport=ima.transport)


@asynccontextmanager
async def build_app(settings: Settings, *, clock: Clock | None = None, gateway: ImaGateway | None = None,
                    remote: RemoteFetcher | None = None, simulator_url: str | None = None,
                    telemetry: Telemetry | None = None, platforms: PlatformContext | None = None
                    ) -> AsyncIterator[App]:
    """Everything the bot needs, closed in reverse order on exit (job tasks are parked, not lost).
    ``telemetry`` observes jobs, IMA calls and (through the context) platform calls. ``platforms``: the
    context of platforms connected before the app was built; the app uses its sinks, fetchers and
    connection probes."""
    clock = clock or SystemClock()
    telemetry = telemetry or NoTelemetry()
    messages = Messages.from_package()
    client_config = ima_config(settings) if gateway is None else None  # fail before touching any file
    async with AsyncExitStack() as stack:
        stores = await stack.enter_async_context(open_stores(settings, clock))
        if gateway is None:
            assert client_config is not None
            client = ImaClient(client_config, clock=clock, telemetry=telemetry)
            await client.start()
            stack.push_async_callback(client.aclose)
            gateway = client
        if remote is None:
            # demo / --sim: results (which users may send back) live on the loopback simulator, which
            # is the configured IMA origin and trusted as such; every other URL gets the full checks.
            trusted = settings.ima.origins | ({simulator_url} if simulator_url else set())
            safe = SafeRemoteFetcher(timeout_s=settings.media.fetch_timeout_s,
                                     trusted_origins=frozenset(trusted))
            stack.push_async_callback(safe.aclose)
            remote = safe
        media = settings.media
        preparer = AttachmentPreparer(
            gateway, PyAvProbe(timeout_s=media.probe_timeout_s), remote,
            MediaLimits.load_default(max_video_pixels=media.max_video_pixels),
            temp_dir=settings.storage.data_dir / "tmp", verify_concurrency=media.verify_concurrency,
            clock=clock)
        bot = settings.bot
        sinks: dict[Platform, EventSink] = platforms.sinks if platforms else {}
        observed = ObservedSinks(sinks)  # the conversation layer sees failures that offer a retry
        fetchers: dict[Platform, AttachmentFetcher] = platforms.fetchers if platforms else {}
        fetchers.update({Platform.CONSOLE: LocalFileFetcher(), Platform.CLI: LocalFileFetcher()})
        spend = build_spend(settings, stores.spend, clock, messages, gateway)
        durations = DurationBook(stores.durations)  # learned generation times
        await durations.load()
        deps = RunnerDeps(
            gateway=gateway,
            jobs=SettlingJobStore(ObservedJobStore(stores.jobs, telemetry), spend.gate),
            preferences=stores.preferences, spend=spend,
            catalog=ModelCatalog.load_default(settings.catalog.estimated_seconds), messages=messages,
            clock=clock, sinks=observed, fetchers=fetchers,
            preparer=preparer, profile=ModelProfile.from_settings(bot.model_profile, bot.allowed_models),
            eta_overrides=dict(settings.catalog.estimated_seconds), telemetry=telemetry,
            deliveries=stores.deliveries, durations=durations)
        parsing = ServiceConfig(
            default_media=MediaType(bot.default_media_type), default_language=Language(bot.default_language),
            max_concurrent_jobs=bot.max_concurrent_jobs, replica_id=replica_id(settings),
            lease_s=settings.storage.lease_s, takeover=stores.backend == "postgresql")
        service = GenerationService(deps, parsing)
        stack.push_async_callback(service.aclose)
        conversation = build_conversation(settings, service, deps, parsing, stores, remote, gateway)
        conversation.usage = service.spend  # the usage intent answers with the spend ledger
        connect_question_memory(service, conversation.desk)
        observed.observe(conversation.on_event)
        context = AppContext(settings=settings, service=conversation, stores=stores, clock=clock, sinks=sinks,
                             fetchers=fetchers, telemetry=telemetry,
                             connections=platforms.connections if platforms else {})
        yield App(context=context, service=service, gateway=gateway, conversation=conversation)


def build_conversation(settings: Settings, pipeline: GenerationService, deps: RunnerDeps,
                       parsing: ServiceConfig, stores: Stores, remote: RemoteFetcher,
                       gateway: ImaGateway) -> ConversationService:
    """The layer every platform talks to: questions, thread memory and follow-ups over the pipeline."""
    c = settings.conversation
    frames = PyAvLastFrame(remote, gateway, settings.storage.data_dir / "tmp",
                           timeout_s=settings.media.probe_timeout_s * 2)
    return ConversationService(
        ConversationDeps(pipeline=pipeline, jobs=deps.jobs, questions=stores.questions, thread=stores.threads,
                         dedupe=stores.dedupe,
                         catalog=deps.catalog, messages=deps.messages, clock=deps.clock, sinks=deps.sinks,
                         parsing=parsing, frames=frames),
        ConversationConfig(question_ttl_s=c.question_ttl_s))
