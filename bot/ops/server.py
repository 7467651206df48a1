"""The ops HTTP server inside ``imabot run`` (starlette on uvicorn, on the bot's event loop):
``/healthz`` (the process answers), ``/readyz`` (200 or 503 with every check), ``/metrics`` (Prometheus
text) and, when enabled with a token, ``/status`` (HTML) and ``/status/live`` (its live part)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from adapters.embedded_http import EmbeddedServer, listen_socket, url_of, wait_started
from bot.ops.metrics import CONTENT_TYPE, PrometheusTelemetry
from bot.ops.readiness import ReadinessProbe
from bot.ops.status import StatusPage
from core.ops.history import JobHistory

log = logging.getLogger("imabot.ops")


class OpsPortBusyError(OSError):
    """The configured ops port is taken."""


@dataclass(frozen=True, slots=True)
class OpsEndpoints:
    readiness: ReadinessProbe
    metrics: PrometheusTelemetry
    history: JobHistory
    status: StatusPage | None  # None: the status page is off
    status_token: str = ""

    def app(self) -> Starlette:
        routes = [Route("/healthz", self.healthz), Route("/readyz", self.readyz),
                  Route("/metrics", self.scrape)]
        if self.status is not None:
            routes += [Route("/status", self._guarded(self._page)),
                       Route("/status/live", self._guarded(self._live))]
        return Starlette(routes=routes)

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        checks = await self.readiness.checks()
        ready = all(c.ok for c in checks)
        body = {"ready": ready, "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks]}
        return JSONResponse(body, status_code=200 if ready else 503)

    async def scrape(self, request: Request) -> Response:
        unfinished = await self.history.unfinished_counts()
        text = self.metrics.scrape(unfinished, self.readiness.live.connected())
        return Response(text, media_type=CONTENT_TYPE)

    def _guarded(self, handler: Callable[[], Awaitable[str]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
            given = request.query_params.get("token") or bearer
            if not self.status_token or not hmac.compare_digest(given.encode(), self.status_token.encode()):
                return PlainTextResponse("status page: token required (?token=...)", status_code=401)
            return HTMLResponse(await handler(), headers={"Cache-Control": "no-store"})
        return endpoint

    async def _page(self) -> str:
        assert self.status is not None
        return await self.status.page()

    async def _live(self) -> str:
        assert self.status is not None
        return await self.status.live_part()


class OpsServer:
    """Bound in ``start`` (a taken port is an ``OpsPortBusyError``); ``url`` says where it listens."""

    def __init__(self, endpoints: OpsEndpoints, host: str, port: int) -> None:
        self._endpoints = endpoints
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.url = ""

    async def start(self) -> None:
        try:
            sock = listen_socket(self._host, self._port)
        except OSError as exc:
            where = f"{self._host}:{self._port}"
            raise OpsPortBusyError(f"ops port {where} is not free ({exc.strerror})") from exc
        config = uvicorn.Config(self._endpoints.app(), lifespan="off", log_level="warning", access_log=False,
                                timeout_graceful_shutdown=2)
        self._server = EmbeddedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="ops-server")
        self._task.add_done_callback(lambda _t: sock.close())
        await wait_started(self._server, self._task)
        self.url = url_of(sock)
        log.info("ops server listening on %s", self.url)

    async def aclose(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._server = self._task = None
