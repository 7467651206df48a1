"""The IMA client's HTTP stack: a bounded request gate with a poll lane, the aiohttp transport's error
mapping (a create that reached IMA is never reported as "never connected"), and no import retried per
request (httpcore's per-request ``import sniffio``)."""

from __future__ import annotations

import asyncio
import importlib.abc
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from types import ModuleType

import httpx
import pytest

from adapters.ima.client import ImaClient, ImaClientConfig
from adapters.ima.transport import RequestGate, ima_transport
from core.clock import FakeClock
from core.ops.telemetry import NoTelemetry

KEY = "ima_transport_test_key_0123456789"


@asynccontextmanager
async def loopback(reply: bytes | None) -> AsyncIterator[str]:
    """An HTTP/1.1 server on 127.0.0.1 answering every request with ``reply`` (None: hang up after reading
    the request, as a server that crashed mid-request would)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


def _ok(body: bytes) -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body)


DETAIL_OK = _ok(b'{"code":0,"message":"success","data":{"id":"t1","resource_status":0,"status":"processing",'
                b'"medias":[{"resource_status":0,"status":"processing"}]}}')


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


async def test_many_more_polls_than_connections_all_succeed_without_pool_timeouts() -> None:
    telemetry = Waits()
    async with loopback(DETAIL_OK) as url:
        config = ImaClientConfig(base_url=url, upload_base_url=url, api_key=KEY, poll_connections=2,
                                 call_connections=1, request_timeout_s=5.0)
        async with ImaClient(config, clock=FakeClock(), telemetry=telemetry) as client:
            snaps = await asyncio.gather(*(client.get_task("t1") for _ in range(60)))
    assert {snap.progress.value for snap in snaps} == {"running"}
    assert telemetry.waits and set(telemetry.waits) == {"poll"}


@pytest.mark.parametrize("kind", ["aiohttp", "httpx"])
async def test_server_hanging_up_after_a_create_is_lost_not_a_connect_failure(kind: str) -> None:
    async with loopback(None) as url:
        transport = ima_transport(4, kind=kind)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport) as http:
            with pytest.raises(httpx.HTTPError) as caught:
                await http.post(f"{url}/open/v1/tasks/create", content=b"{}")
    assert not isinstance(caught.value, httpx.ConnectError | httpx.ConnectTimeout)


@pytest.mark.parametrize("kind", ["aiohttp", "httpx"])
async def test_refused_connection_is_a_connect_error(kind: str) -> None:
    async with loopback(None) as url:
        pass  # closed: nothing listens on that port any more
    async with httpx.AsyncClient(transport=ima_transport(4, kind=kind)) as http:  # type: ignore[arg-type]
        with pytest.raises((httpx.ConnectError, httpx.ConnectTimeout)):
            await http.post(f"{url}/open/v1/tasks/detail", content=b"{}")


class _ImportSpy(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.looked_up: list[str] = []

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> None:
        self.looked_up.append(fullname)
        return None


@pytest.mark.parametrize("kind", ["aiohttp", "httpx"])
async def test_no_module_is_looked_up_per_request(kind: str) -> None:
    async with loopback(DETAIL_OK) as url:
        config = ImaClientConfig(base_url=url, upload_base_url=url, api_key=KEY,
                                 transport=kind)  # type: ignore[arg-type]
        async with ImaClient(config, clock=FakeClock()) as client:
            await client.get_task("t1")  # first request: imports that happen once are fine
            spy = _ImportSpy()
            sys.meta_path.insert(0, spy)
            try:
                for _ in range(20):
                    await client.get_task("t1")
            finally:
                sys.meta_path.remove(spy)
    assert spy.looked_up == []
