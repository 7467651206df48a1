"""The HTTP transport under the IMA client, and the gate that bounds how many requests use it at once.

httpx keeps its API for the client. Under it runs httpx's own pool (at most 20 idle connections: its
bookkeeping grows with them) or, with ``kind="aiohttp"``, aiohttp's connector (``httpx-aiohttp``).
Measured (``bench/http_transport.py``, ``docs/performance.md``): aiohttp costs ~10 % less CPU per poll,
but at 10,000 jobs in flight against an overloaded server it sent requests on connections the server
was closing, and 55 creates came back "unconfirmed" (LOST to the user). httpcore checks a kept
connection before reusing it, so httpx is the default.

``RequestGate`` bounds the requests in flight below the connection limit, so a request never waits
inside the transport's pool (where httpx would raise ``PoolTimeout`` into a job): it queues here,
without a deadline, and every wait is reported. Status polls have their own lane, so a burst of
creates, uploads or slow asset checks can never starve them (and a burst of polls never delays a
create).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Literal

import httpx

TransportKind = Literal["aiohttp", "httpx"]


def ima_transport(max_connections: int, *, kind: TransportKind = "httpx",
                  keepalive_s: float = 4.0) -> httpx.AsyncBaseTransport:
    """An idle connection is dropped after ``keepalive_s``: shorter than the servers' own idle timeouts
    (uvicorn 5 s, proxies more), so a poll never goes out on a connection the server is closing (which
    fails as "server disconnected")."""
    if kind == "httpx":
        # httpcore's bookkeeping grows with the idle connections it keeps: keep at most 20 (its default).
        idle = min(20, max_connections)
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=idle,
                              keepalive_expiry=keepalive_s)
        return httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    return _AiohttpTransport(httpx.Limits(max_connections=max_connections, keepalive_expiry=keepalive_s,
                                          max_keepalive_connections=max_connections))


class _AiohttpTransport(httpx.AsyncBaseTransport):
    """``httpx_aiohttp.AiohttpTransport`` with one correction: it reports every aiohttp connection error
    as ``httpx.ConnectTimeout``, also a server that hung up after it got the request. The IMA client
    must know the difference (a create that may have reached IMA is never repeated), so only a failure
    to connect stays a connect error; anything later becomes ``httpx.ReadError``."""

    def __init__(self, limits: httpx.Limits) -> None:
        from httpx_aiohttp import AiohttpTransport  # aiohttp loads with the IMA client, not before

        self._inner = AiohttpTransport(limits=limits, trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import aiohttp

        try:
            return await self._inner.handle_async_request(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            cause = exc.__cause__
            never_connected = aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError
            if cause is None or isinstance(cause, never_connected):
                raise
            raise httpx.ReadError(f"{type(cause).__name__}: {cause}", request=request) from cause

    async def aclose(self) -> None:
        await self._inner.aclose()


class RequestGate:
    """At most ``polls`` status polls and ``calls`` other requests in flight; the rest queue (FIFO)."""

    def __init__(self, polls: int, calls: int, on_wait: Callable[[str, float], None]) -> None:
        polls, calls = max(1, polls), max(1, calls)
        self._lanes = {"poll": asyncio.Semaphore(polls), "call": asyncio.Semaphore(calls)}
        self._on_wait = on_wait
        self.connections = polls + calls
        """The connection limit the transport needs so that nothing ever queues inside it."""

    @asynccontextmanager
    async def slot(self, lane: Literal["poll", "call"]) -> AsyncIterator[None]:
        semaphore = self._lanes[lane]
        if semaphore.locked():
            started = time.perf_counter()
            await semaphore.acquire()
            self._on_wait(lane, time.perf_counter() - started)
        else:
            await semaphore.acquire()
        try:
            yield
        finally:
            semaphore.release()
