"""The in-process IMA simulator behind a real ``ImaClient`` (httpx.ASGITransport; no sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.ima.client import ImaClient, ImaClientConfig
from core.clock import Clock
from core.ports import CreateWatch
from sim.app import create_app
from sim.config import SimConfig
from sim.faults import FaultSpec

SIM_BASE_URL = "http://ima.sim"
SIM_UPLOAD_URL = "http://upload.sim"
TEST_API_KEY = "ima_test_key_0123456789"


@dataclass
class SimHarness:
    app: Starlette
    transport: httpx.ASGITransport
    clock: Clock

    def client(self, api_key: str = TEST_API_KEY, language: str = "en") -> ImaClient:
        """A fresh ImaClient on the shared simulator (a restarted bot builds a new one)."""
        config = ImaClientConfig(base_url=SIM_BASE_URL, upload_base_url=SIM_UPLOAD_URL, api_key=api_key,
                                 language=language)
        return ImaClient(config, transport=self.transport, clock=self.clock)

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        async with httpx.AsyncClient(transport=self.transport, base_url=SIM_BASE_URL) as http:
            response = await http.request(method, path, json=body)
            response.raise_for_status()
            return response.json()

    async def tasks(self) -> list[dict[str, Any]]:
        """Every task the simulator created (use ``len`` to count creates)."""
        data = await self.admin("GET", "/_sim/tasks")
        return list(data["tasks"])

    async def calls(self) -> dict[str, int]:
        data = await self.admin("GET", "/_sim/tasks")
        return dict(data["calls"])

    async def set_faults(self, specs: Iterable[str], mode: str = "replace") -> None:
        await self.admin("POST", "/_sim/faults", {"faults": list(specs), "mode": mode})

    async def set_account(self, key: str = TEST_API_KEY, *, balance: int | None = None,
                          subscription: bool | None = None) -> None:
        body: dict[str, Any] = {}
        if balance is not None:
            body["balance"] = balance
        if subscription is not None:
            body["subscription"] = subscription
        await self.admin("POST", f"/_sim/keys/{key}", body)


Hook = Callable[[], Awaitable[None]]


class WatchTap:
    """A ``CreateWatch`` around the runner's, with hooks at the create's moments: ``before_sending``
    (after the client's queue, before SUBMITTING is recorded), ``after_sending`` (recorded; the request
    leaves next) and ``after_refused`` (IMA refused it; recorded as not created)."""

    def __init__(self, inner: CreateWatch, *, before_sending: Hook | None = None,
                 after_sending: Hook | None = None, after_refused: Hook | None = None) -> None:
        self._inner = inner
        self._before_sending, self._after_sending = before_sending, after_sending
        self._after_refused = after_refused

    async def sending(self) -> None:
        if self._before_sending is not None:
            await self._before_sending()
        await self._inner.sending()
        if self._after_sending is not None:
            await self._after_sending()

    async def refused(self) -> None:
        await self._inner.refused()
        if self._after_refused is not None:
            await self._after_refused()


@asynccontextmanager
async def simulator(clock: Clock, *, faults: Iterable[str] = (), speed: float = 1.0,
                    seed: int = 0) -> AsyncIterator[SimHarness]:
    config = SimConfig(public_base_url=SIM_BASE_URL, upload_base_url=SIM_UPLOAD_URL, speed=speed, seed=seed,
                       faults=tuple(FaultSpec.parse(f) for f in faults))
    app = create_app(config, clock=clock)
    transport = httpx.ASGITransport(app=app)
    try:
        yield SimHarness(app=app, transport=transport, clock=clock)
    finally:
        await transport.aclose()


@asynccontextmanager
async def sim_client(clock: Clock, **kwargs: Any) -> AsyncIterator[tuple[SimHarness, ImaClient]]:
    """The simulator plus a started ``ImaClient`` talking to it."""
    async with simulator(clock, **kwargs) as sim:
        client = sim.client()
        async with client:
            yield sim, client
