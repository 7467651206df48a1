"""The HTTP stack under the IMA client: three lanes (status polls, creates, every other call), bounded by
``RequestGate``, each with its own transport under httpx's API (``docs/performance.md``, "The poll path").

``[ima] transport``:
- ``"split"`` (default): polls over aiohttp's connector with kept connections; each create over a
  connection of its own that is closed after the reply; uploads, product lists and asset checks over
  httpx's own pool. At 10,000 jobs in flight httpcore's pool cost twice the CPU of aiohttp's connector
  and queued 100x more polls (it scans every connection it holds on every request); a create through it
  cost ~1.8 ms of CPU against ~0.4 ms through aiohttp. But aiohttp learns that the server closed a kept
  connection only when the event loop gets to it, late under load, so it sends some requests on
  connections that are already closing. A poll is an idempotent read and is sent once more when that
  happens; a create is never sent twice (it may have reached IMA), so a create never goes out on a kept
  connection: a new one costs a connect (and over TLS a handshake), paid once per generation.
- ``"httpx"`` / ``"aiohttp"``: every lane shares one pool of that kind (``"aiohttp"`` sends creates on
  kept connections too).

``ImaLanes`` hands each ``httpx.Request`` straight to its transport. ``httpx.AsyncClient`` would merge
URLs, headers, cookies and parameters, run an auth flow and a redirect loop, extract cookies from every
reply and log every request: nothing the IMA client uses, and about 90 µs of CPU per request.

``RequestGate`` bounds the requests in flight to each lane's connections, so a request never waits
inside a transport's pool (where httpx would raise ``PoolTimeout`` into a job): it queues here, without
a deadline, and every wait is reported. Polls have their own bound (creates and other calls share
theirs), so a burst of creates, uploads or slow asset checks can never starve polls (and a burst of polls
never delays a create).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Literal

import httpx

if TYPE_CHECKING:
    import aiohttp

TransportKind = Literal["split", "httpx", "aiohttp"]
Lane = Literal["poll", "create", "call"]
BeforeSend = Callable[[], Awaitable[None]]

log = logging.getLogger("imabot.ima")

# The connection broke before a whole reply arrived (a server closing a kept connection shows as one of
# these); a timeout is not among them.
CONNECTION_LOST = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


def ima_transport(max_connections: int, *, kind: Literal["httpx", "aiohttp"], keepalive_s: float = 4.0,
                  tls: ssl.SSLContext | None = None, fresh: bool = False) -> httpx.AsyncBaseTransport:
    """An idle connection is dropped after ``keepalive_s``: shorter than the servers' own idle timeouts
    (uvicorn 5 s, proxies more), so few requests go out on a connection the server is closing. ``tls``:
    a context to share (building one loads the CA bundle: tens of ms). ``fresh`` (aiohttp): every request
    on a new connection, closed after its reply."""
    tls = tls or httpx.create_ssl_context(trust_env=False)
    if kind == "aiohttp":
        return _AiohttpTransport(max_connections, keepalive_s, tls, fresh=fresh)
    # httpcore's bookkeeping grows with the idle connections it keeps: keep at most 20 (its default).
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=min(20, max_connections),
                          keepalive_expiry=keepalive_s)
    return httpx.AsyncHTTPTransport(verify=tls, limits=limits, trust_env=False)


class _AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx's transport interface over aiohttp's connector; the reply is read whole. Every aiohttp error
    becomes httpx's, so that a create that may have reached IMA is told apart from one that never
    connected: only a failure to connect is a connect error; a server that hung up after it got the
    request is a read error. (``httpx-aiohttp``, used before, reported both as ``ConnectTimeout`` and let
    an unparsable reply escape as an aiohttp error; this is also up to ~10 % cheaper per poll.) The
    session keeps no cookies: IMA sets none."""

    def __init__(self, max_connections: int, keepalive_s: float, tls: ssl.SSLContext, *,
                 fresh: bool = False) -> None:
        self._limit, self._keepalive_s, self._tls, self._fresh = max_connections, keepalive_s, tls, fresh
        self._session: aiohttp.ClientSession | None = None
        self._extra_headers = [("Connection", "close")] if fresh else []
        # aiohttp takes ~150 ms to import: with the client's start, not in the middle of the first poll
        importlib.import_module("aiohttp")

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self._limit, ssl=self._tls, force_close=self._fresh,
                                         keepalive_timeout=None if self._fresh else self._keepalive_s)
        self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                              auto_decompress=False)  # httpx decodes, as with its own pool
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        timeout = request.extensions.get("timeout", {})
        headers = [(key.decode("latin-1"), value.decode("latin-1")) for key, value in request.headers.raw
                   if key.lower() != b"transfer-encoding"]  # aiohttp frames a streamed body itself
        headers += self._extra_headers
        try:
            body: bytes | httpx.AsyncByteStream | None = request.content or None
        except httpx.RequestNotRead:
            assert isinstance(request.stream, httpx.AsyncByteStream)
            body = request.stream
        try:
            async with session.request(
                    request.method, str(request.url), headers=headers, data=body, allow_redirects=False,
                    timeout=_aiohttp_timeout(timeout)) as reply:
                content = await reply.read()
                return httpx.Response(reply.status, headers=reply.raw_headers, content=content,
                                      request=request)
        except Exception as exc:
            error = _as_httpx_error(exc, request)
            if error is None:
                raise
            raise error from exc

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _aiohttp_timeout(timeout: dict[str, float | None]) -> aiohttp.ClientTimeout:
    import aiohttp

    # aiohttp's "connect" covers the wait for a pooled connection and the connect itself.
    return aiohttp.ClientTimeout(sock_connect=timeout.get("connect"), sock_read=timeout.get("read"),
                                 connect=timeout.get("pool"))


def _as_httpx_error(exc: Exception, request: httpx.Request) -> httpx.TransportError | None:
    import aiohttp

    message = f"{type(exc).__name__}: {exc}"
    error: type[httpx.TransportError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        error = httpx.ConnectTimeout
    elif isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerFingerprintMismatch):
        error = httpx.ConnectError
    elif isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        error = httpx.ReadTimeout
    elif isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        error = httpx.UnsupportedProtocol
    elif isinstance(exc, aiohttp.ClientResponseError):
        error = httpx.RemoteProtocolError  # a reply aiohttp could not parse
    elif isinstance(exc, aiohttp.ClientError | OSError):
        error = httpx.ReadError  # connected, then the connection broke (server hung up, reset, cut body)
    else:
        return None
    return error(message, request=request)


class RequestGate:
    """At most ``polls`` status polls and ``calls`` other requests in flight; the rest queue (FIFO)."""

    def __init__(self, polls: int, calls: int, on_wait: Callable[[str, float], None]) -> None:
        self.polls, self.calls = max(1, polls), max(1, calls)
        shared = asyncio.Semaphore(self.calls)  # creates count among the calls
        self._lanes = {"poll": asyncio.Semaphore(self.polls), "create": shared, "call": shared}
        self._on_wait = on_wait
        self.connections = self.polls + self.calls
        """The connection limit a transport shared by both lanes needs so that nothing queues inside it."""

    @asynccontextmanager
    async def slot(self, lane: Lane) -> AsyncIterator[None]:
        semaphore = self._lanes[lane]
        if semaphore.locked():
            started = time.perf_counter()
            await semaphore.acquire()
            self._on_wait("poll" if lane == "poll" else "call", time.perf_counter() - started)
        else:
            await semaphore.acquire()
        try:
            yield
        finally:
            semaphore.release()


class ImaLanes:
    """Sends each request in its lane: a gate slot, then the lane's transport; the reply is read whole.

    ``transport`` (tests) serves every lane; otherwise the transports of ``kind`` open with the client."""

    def __init__(self, gate: RequestGate, kind: TransportKind, *,
                 transport: httpx.AsyncBaseTransport | None = None, keepalive_s: float = 4.0) -> None:
        self.gate = gate
        self._kind, self._given, self._keepalive_s = kind, transport, keepalive_s
        self._transports: dict[Lane, httpx.AsyncBaseTransport] | None = None

    def open(self) -> dict[Lane, httpx.AsyncBaseTransport]:
        if self._transports is None:
            self._transports = self._build()
        return self._transports

    def _build(self) -> dict[Lane, httpx.AsyncBaseTransport]:
        if self._given is not None:
            return {"poll": self._given, "create": self._given, "call": self._given}
        keepalive_s, tls = self._keepalive_s, httpx.create_ssl_context(trust_env=False)
        if self._kind == "split":
            return {"poll": ima_transport(self.gate.polls, kind="aiohttp", keepalive_s=keepalive_s, tls=tls),
                    "create": ima_transport(self.gate.calls, kind="aiohttp", tls=tls, fresh=True),
                    "call": ima_transport(self.gate.calls, kind="httpx", keepalive_s=keepalive_s, tls=tls)}
        shared = ima_transport(self.gate.connections, kind=self._kind, keepalive_s=keepalive_s, tls=tls)
        return {"poll": shared, "create": shared, "call": shared}

    async def send(self, lane: Lane, request: httpx.Request, before_send: BeforeSend | None = None
                   ) -> httpx.Response:
        """``before_send`` is awaited once the request holds its slot, right before it is sent."""
        transport = self.open()[lane]
        async with self.gate.slot(lane):
            if before_send is not None:
                await before_send()
            try:
                return await _exchange(transport, request)
            except CONNECTION_LOST as exc:
                if lane != "poll":
                    raise  # a create may have reached IMA: never sent twice
                # A status poll is an idempotent read: most likely it went out on a kept connection the
                # server was closing. Once more, on another connection.
                log.debug("poll connection lost (%s); sending it again", type(exc).__name__)
                return await _exchange(transport, request)

    async def aclose(self) -> None:
        transports, self._transports = self._transports, None
        if transports is not None:
            for transport in {id(t): t for t in transports.values()}.values():
                await transport.aclose()


async def _exchange(transport: httpx.AsyncBaseTransport, request: httpx.Request) -> httpx.Response:
    response = await transport.handle_async_request(request)
    response.request = request
    try:
        await response.aread()
    except BaseException:
        await response.aclose()
        raise
    return response
