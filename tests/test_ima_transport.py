"""The IMA client's HTTP stack over real loopback sockets: by default polls over aiohttp's connector, each
create on a new connection of its own and every other call over httpx's pool; a bounded request gate with
a poll lane (nothing ever waits in a pool), a poll on a connection the server closed sent again and a
create never (and by default never sent on a kept connection at all), the aiohttp transport's error
mapping (a create that reached IMA is never reported as "never connected"), and no import retried per
request (httpcore's per-request ``import sniffio``)."""

from __future__ import annotations

import asyncio
import importlib.abc
import json
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import aiohttp
import httpx
import pytest

from adapters.ima.client import ImaClient, ImaClientConfig
from adapters.ima.transport import RequestGate, _AiohttpTransport, ima_transport
from core.clock import FakeClock
from core.errors import ErrorKind, ImaApiError
from core.ops.telemetry import NoTelemetry, Telemetry
from core.ports import TaskProgress, TaskSpec
from core.types import TaskType
from tests import ima_catalog_data as data

KEY = "ima_transport_test_key_0123456789"


@dataclass
class Loopback:
    """What the server saw: each request as (connection number, path), and the connections open now."""

    url: str = ""
    requests: list[tuple[int, str]] = field(default_factory=list)
    open: int = 0
    held: int = 0
    most_held: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def until(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(10), self.changed:  # a guard against a hang, not a pause
            await self.changed.wait_for(done)


@asynccontextmanager
async def loopback(reply: Mapping[str, bytes] | bytes | None, *, answers_per_connection: int = 0,
                   hold: asyncio.Event | None = None) -> AsyncIterator[Loopback]:
    """An HTTP/1.1 server on 127.0.0.1 answering each request with ``reply`` (per path, or the same for
    all; None: hang up after reading the request, as a server that crashed mid-request would).
    ``answers_per_connection``: after that many answers, a connection's next request is met by hanging
    up (a server closing a kept connection just as a request arrives). ``hold``: answers wait for it."""
    seen = Loopback()
    numbers = iter(range(1000))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number, answered = next(numbers), 0
        seen.open += 1
        await seen.notify()
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                path = head.split(b" ")[1].split(b"?")[0].decode()
                seen.requests.append((number, path))
                answer = reply.get(path) if isinstance(reply, Mapping) else reply
                if answer is None or answered == answers_per_connection > 0:
                    break
                if hold is not None:
                    seen.held += 1
                    seen.most_held = max(seen.most_held, seen.held)
                    await seen.notify()
                    await hold.wait()
                    seen.held -= 1
                writer.write(answer)
                await writer.drain()
                answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()
        seen.open -= 1
        await seen.notify()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    seen.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield seen


def _ok(body: bytes) -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body)


def _envelope(data: object) -> bytes:
    return _ok(json.dumps({"code": 0, "message": "success", "data": data}).encode())


LIST, CREATE, DETAIL = "/open/v1/product/list", "/open/v1/tasks/create", "/open/v1/tasks/detail"
IMA = {LIST: _envelope([data.wan_t2v()]), CREATE: _envelope({"id": "t1"}),
       DETAIL: _envelope({"id": "t1", "resource_status": 0, "status": "processing",
                          "medias": [{"resource_status": 0, "status": "processing"}]}),
       "/open/v1/assets/verify": _envelope({"result": {"status": "active"}})}
SPEC = TaskSpec(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v", "a fox in the snow")


def config(url: str, **values: Any) -> ImaClientConfig:
    return ImaClientConfig(base_url=url, upload_base_url=url, api_key=KEY, request_timeout_s=10.0, **values)


def client_of(server: Loopback, kind: str | None, telemetry: Telemetry | None = None, **values: Any
              ) -> ImaClient:
    if kind is not None:
        values["transport"] = kind
    return ImaClient(config(server.url, **values), clock=FakeClock(), telemetry=telemetry)


def pool(transport: httpx.AsyncBaseTransport) -> tuple[str, int]:
    """Whose pool a transport is (httpx's or aiohttp's) and how many connections it holds."""
    if isinstance(transport, httpx.AsyncHTTPTransport):
        return "httpx", len(transport._pool.connections)
    assert isinstance(transport, _AiohttpTransport)
    session = transport._session
    assert isinstance(session, aiohttp.ClientSession)
    assert session.connector is not None
    return "aiohttp", sum(map(len, session.connector._conns.values()))


class Waits(NoTelemetry):
    def __init__(self) -> None:
        self.waits: list[str] = []

    def ima_queue_wait(self, lane: str, seconds: float) -> None:
        self.waits.append(lane)


async def test_a_burst_of_slow_calls_never_holds_up_a_poll_and_waits_are_counted() -> None:
    telemetry = Waits()
    gate = RequestGate(polls=1, calls=2, on_wait=telemetry.ima_queue_wait)
    release = asyncio.Event()
    entered: list[str] = []

    async def call(name: str) -> None:
        async with gate.slot("call"):
            entered.append(name)
            await release.wait()

    calls = [asyncio.create_task(call(f"create{i}")) for i in range(3)]
    await asyncio.sleep(0)
    async with gate.slot("poll"):  # two creates hold every "call" connection; the poll goes straight in
        entered.append("poll")
    assert entered == ["create0", "create1", "poll"]
    release.set()
    await asyncio.gather(*calls)
    assert entered[-1] == "create2"
    assert telemetry.waits == ["call"]  # the third create queued in the gate (never in the pool)
    assert gate.connections == 3


KINDS = ["split", "httpx", "aiohttp"]


@pytest.mark.parametrize(("kind", "poll_pool", "create_pool", "call_pool"), [
    (None, "aiohttp", "aiohttp", "httpx"), ("httpx", "httpx", "httpx", "httpx"),
    ("aiohttp", "aiohttp", "aiohttp", "aiohttp")])
async def test_polls_creates_and_other_calls_each_go_over_the_pool_their_setting_names(
        kind: str | None, poll_pool: str, create_pool: str, call_pool: str) -> None:
    async with loopback(IMA) as server:
        async with client_of(server, kind) as client:  # None: the default ("split")
            lanes = client._lanes.open()
            await client.create_task(SPEC)
            assert pool(lanes["call"]) == (call_pool, 1)  # the product list's connection, kept
            assert pool(lanes["create"])[0] == create_pool
            await client.get_task("t1")
            assert pool(lanes["poll"]) == (poll_pool, 1)
            assert pool(lanes["call"]) == (call_pool, 1)  # split: the poll opened nothing in httpx's pool
        await server.until(lambda: server.open == 0)  # closing the client closed every connection
    # Split: the product list, the create and the poll each on a connection of their own; otherwise one.
    split = kind is None
    assert server.requests == [(0, LIST), (1 if split else 0, CREATE), (2 if split else 0, DETAIL)]


async def test_split_sends_each_create_on_a_new_connection_closed_after_its_reply() -> None:
    async with loopback(IMA) as server, client_of(server, None) as client:
        for _ in range(3):
            await client.create_task(SPEC)
        await server.until(lambda: server.open == 1)  # only the product list's connection is kept
        assert pool(client._lanes.open()["create"]) == ("aiohttp", 0)
    assert server.requests == [(0, LIST), (1, CREATE), (2, CREATE), (3, CREATE)]


async def test_a_client_for_another_key_shares_the_connections_and_closing_it_keeps_them() -> None:
    async with loopback(IMA) as server, client_of(server, None) as client:
        await client.get_task("t1")
        async with client.with_key("ima_someone_elses_key_0123456789") as theirs:
            await theirs.get_task("t1")
        await client.get_task("t1")
        assert server.open == 1
    assert server.requests == [(0, DETAIL)] * 3


@pytest.mark.parametrize("kind", KINDS)
async def test_a_poll_sent_on_a_connection_the_server_was_closing_is_sent_again(kind: str) -> None:
    async with loopback(IMA, answers_per_connection=1) as server, client_of(server, kind) as client:
        await client.get_task("t1")
        snapshot = await client.get_task("t1")  # goes out on the kept connection; the server hangs up
    assert snapshot.progress is TaskProgress.RUNNING
    assert server.requests == [(0, DETAIL), (0, DETAIL), (1, DETAIL)]


@pytest.mark.parametrize("kind", ["httpx", "aiohttp"])
async def test_a_create_sent_on_a_connection_the_server_was_closing_is_never_sent_again(kind: str) -> None:
    async with loopback(IMA, answers_per_connection=1) as server, client_of(server, kind) as client:
        with pytest.raises(ImaApiError) as caught:
            await client.create_task(SPEC)  # the product list is answered; the create is not
    assert caught.value.kind is ErrorKind.CREATE_UNCONFIRMED  # it may exist: never "not created"
    assert server.requests == [(0, LIST), (0, CREATE)]


async def test_split_never_sends_a_create_on_a_connection_the_server_may_be_closing() -> None:
    # The server hangs up on every kept connection's second request: the create, on its own, is answered.
    async with loopback(IMA, answers_per_connection=1) as server, client_of(server, None) as client:
        created = await client.create_task(SPEC)
    assert created.task_id == "t1"
    assert server.requests == [(0, LIST), (1, CREATE)]


@pytest.mark.parametrize("kind", KINDS)
async def test_requests_beyond_the_connections_queue_in_the_client_never_in_a_pool(kind: str) -> None:
    telemetry, release = Waits(), asyncio.Event()
    async with (loopback(IMA, hold=release) as server,
                client_of(server, kind, telemetry, poll_connections=2, call_connections=1) as client):
        polls = [asyncio.create_task(client.get_task("t1")) for _ in range(20)]
        checks = [asyncio.create_task(client.verify_asset(f"{server.url}/a.png", "a")) for _ in range(5)]
        await server.until(lambda: server.held == 3)
        release.set()
        snapshots = await asyncio.gather(*polls)
        verified = await asyncio.gather(*checks)
    assert server.most_held == 3  # two polls and one check in flight at a time, never more
    assert {snap.progress for snap in snapshots} == {TaskProgress.RUNNING}
    assert all(result.passed for result in verified)  # none failed (no PoolTimeout, no error at all)
    assert sorted(telemetry.waits) == ["call"] * 4 + ["poll"] * 18  # every one beyond them waited here


@pytest.mark.parametrize("kind", ["aiohttp", "httpx"])
async def test_server_hanging_up_after_a_create_is_lost_not_a_connect_failure(kind: str) -> None:
    async with loopback(None) as server:
        transport = ima_transport(4, kind=kind)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport) as http:
            with pytest.raises(httpx.HTTPError) as caught:
                await http.post(f"{server.url}/open/v1/tasks/create", content=b"{}")
    assert not isinstance(caught.value, httpx.ConnectError | httpx.ConnectTimeout)


@pytest.mark.parametrize("kind", ["aiohttp", "httpx"])
async def test_a_reply_that_is_not_http_is_a_protocol_error(kind: str) -> None:
    async with loopback(b"SSH-2.0-OpenSSH_9.6\r\n\r\n") as server:
        transport = ima_transport(4, kind=kind)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport) as http:
            with pytest.raises(httpx.RemoteProtocolError):
                await http.post(f"{server.url}/open/v1/tasks/create", content=b"{}")


@pytest.mark.parametrize("kind", ["aiohttp", "httpx"])
async def test_refused_connection_is_a_connect_error(kind: str) -> None:
    async with loopback(None) as server:
        pass  # closed: nothing listens on that port any more
    async with httpx.AsyncClient(transport=ima_transport(4, kind=kind)) as http:  # type: ignore[arg-type]
        with pytest.raises((httpx.ConnectError, httpx.ConnectTimeout)):
            await http.post(f"{server.url}/open/v1/tasks/detail", content=b"{}")


class _ImportSpy(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.looked_up: list[str] = []

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> None:
        self.looked_up.append(fullname)
        return None


@pytest.mark.parametrize("kind", KINDS)
async def test_no_module_is_looked_up_per_request(kind: str) -> None:
    async with loopback(IMA) as server, client_of(server, kind) as client:
        await client.create_task(SPEC)
        await client.get_task("t1")  # first requests: imports that happen once are fine
        spy = _ImportSpy()
        sys.meta_path.insert(0, spy)
        try:
            for _ in range(20):
                await client.get_task("t1")
            await client.create_task(SPEC)
        finally:
            sys.meta_path.remove(spy)
    assert spy.looked_up == []
