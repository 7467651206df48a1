"""Assemble the ops side of ``imabot run`` from settings: metrics and live view (as the app's telemetry),
readiness, the status page and the server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.ops.live import LiveView
from bot.ops.metrics import PrometheusTelemetry
from bot.settings import Settings, SettingsError
from core.clock import Clock
from core.messages import Messages
from core.ops.telemetry import FanOut, Telemetry
from core.types import Language, MediaType, TaskType

if TYPE_CHECKING:  # the server (starlette, uvicorn) loads when it starts, after the first platforms connect
    from bot.ops.server import OpsServer
    from bot.wiring import App

_TEXT_TASK = {MediaType.VIDEO: TaskType.TEXT_TO_VIDEO, MediaType.IMAGE: TaskType.TEXT_TO_IMAGE,
              MediaType.MUSIC: TaskType.TEXT_TO_MUSIC, MediaType.SPEECH: TaskType.TEXT_TO_SPEECH}


@dataclass(frozen=True, slots=True)
class OpsParts:
    metrics: PrometheusTelemetry
    live: LiveView

    @classmethod
    def create(cls, settings: Settings, clock: Clock) -> OpsParts:
        if settings.ops.status_page and settings.secrets.ops_status_token is None:
            raise SettingsError("ops.status_page = true needs OPS_STATUS_TOKEN in the environment (the page "
                                "shows users' prompts); set it or turn the page off")
        return cls(PrometheusTelemetry(clock), LiveView(clock))

    @property
    def telemetry(self) -> Telemetry:
        return FanOut([self.metrics, self.live])

    @asynccontextmanager
    async def serving(self, settings: Settings, app: App) -> AsyncIterator[OpsServer]:
        """The ops server runs while the block does; a taken port is a setup problem."""
        from bot.ops.readiness import ReadinessProbe
        from bot.ops.server import OpsEndpoints, OpsPortBusyError, OpsServer
        from bot.ops.status import StatusPage

        ctx, ops = app.context, settings.ops
        self.live.connections = ctx.connections  # the platform starters fill it in
        history = ctx.stores.history
        task_type = _TEXT_TASK[MediaType(settings.bot.default_media_type)]

        async def ping() -> object:
            return await ctx.stores.schema_version()

        async def products() -> object:
            return await app.gateway.list_products(task_type)

        readiness = ReadinessProbe(
            live=self.live, clock=ctx.clock, store_ping=ping, fetch_products=products,
            max_product_age_s=max(ops.ready_product_age_s, settings.ima.product_cache_ttl_s + 60),
            timeout_s=ops.ready_timeout_s)
        language = Language(settings.bot.default_language)
        status = (StatusPage(history, ctx.stores.spend.ledger, self.live, Messages.from_package(), language,
                             ctx.clock) if ops.status_page else None)
        token = settings.secrets.ops_status_token
        endpoints = OpsEndpoints(readiness, self.metrics, history, status,
                                 token.get_secret_value() if token is not None else "")
        server = OpsServer(endpoints, ops.host, ops.port)
        try:
            await server.start()
        except OpsPortBusyError as exc:
            raise SettingsError(f"{exc}; set [ops] port (0 = any free port) or stop what uses it") from exc
        try:
            yield server
        finally:
            await server.aclose()
