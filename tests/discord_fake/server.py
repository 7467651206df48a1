"""An in-process fake Discord (REST + gateway) on 127.0.0.1 for driving the real discord.py client.

It records every REST request, lets tests inject gateway events (INTERACTION_CREATE, MESSAGE_CREATE),
serves attachment / media bytes from ``/cdn/...``, and can answer with faults (429 with retry-after,
403 missing permissions, 401 expired interaction token).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.discord_fake.inject import Injector
from tests.discord_fake.payloads import (
    APP_ID,
    BOT_ID,
    GUILD_ID,
    FakeChannel,
    FakeUser,
    Snowflakes,
    attachment_payload,
    guild_payload,
    message_payload,
)
from tests.discord_fake.routes import add_rest_routes


@dataclass
class RecordedFile:
    field: str
    filename: str
    size: int
    content_type: str | None


@dataclass
class RecordedRequest:
    seq: int
    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    files: list[RecordedFile] = field(default_factory=list)
    status: int = 200

    @property
    def content(self) -> str | None:
        return self.body.get("content") if isinstance(self.body, dict) else None

    @property
    def custom_ids(self) -> list[str]:
        rows = self.body.get("components") or [] if isinstance(self.body, dict) else []
        return [c.get("custom_id", "") for row in rows for c in row.get("components", [])]


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    remaining: int = 1


@dataclass
class Blob:
    size: int
    content_type: str
    data: bytes | None = None  # None: stream `size` zero bytes


class FakeDiscord(Injector):
    def __init__(self, *, premium_tier: int = 0) -> None:
        self.ids = Snowflakes()
        # (channel id, nonce) -> (message id, when): Create Message's enforce_nonce deduplication
        self.nonces: dict[tuple[str, str], tuple[str, float]] = {}
        self.now: Callable[[], float] = time.monotonic
        self.bot = FakeUser(BOT_ID, "imabot", bot=True)
        self.alice = FakeUser("1400000000000000001", "alice")
        self.bob = FakeUser("1400000000000000002", "bob")
        self.channel = FakeChannel("1500000000000000001", "general", GUILD_ID)
        self.dm_channels: dict[str, FakeChannel] = {}
        self.premium_tier = premium_tier
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.expired_tokens: set[str] = set()
        self.bot_token: str | None = None  # when set, GET /users/@me answers 401 to any other token
        self.commands: list[dict[str, Any]] = []  # the application commands last synced
        self.json_charset = False  # answer "application/json; charset=utf-8" like Express / aiohttp servers
        self.callback_without_body = False  # answer callbacks 204 like some proxies / other fakes
        self.blobs: dict[str, Blob] = {}
        self.downloads: list[str] = []
        self.originals: dict[str, tuple[FakeChannel, str]] = {}  # interaction token -> message
        self.interactions: dict[str, dict[str, Any]] = {}
        self.identified = asyncio.Event()
        self.identifies = 0
        self.resumes = 0
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> None:
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/cdn/{name}", self._cdn)
        add_rest_routes(app, self)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def aclose(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ channels, blobs, faults
    def channel_by_id(self, channel_id: str) -> FakeChannel | None:
        if channel_id == self.channel.id:
            return self.channel
        return self.dm_channels.get(channel_id)

    def dm_channel_for(self, user: FakeUser) -> FakeChannel:
        for ch in self.dm_channels.values():
            if ch.recipient == user:
                return ch
        ch = FakeChannel(self.ids.next(), "dm", None, recipient=user)
        self.dm_channels[ch.id] = ch
        return ch

    def add_blob(
        self,
        name: str,
        *,
        size: int | None = None,
        data: bytes | None = None,
        content_type: str = "application/octet-stream",
    ) -> str:
        self.blobs[name] = Blob(len(data) if data is not None else (size or 0), content_type, data)
        return self.url(f"/cdn/{name}")

    def add_fault(
        self,
        method: str,
        path_pattern: str,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        self.faults.append(Fault(method, re.compile(path_pattern), status, body, headers or {}, times))

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.method == method and fault.path.search(path):
                fault.remaining -= 1
                return fault
        return None

    # ------------------------------------------------------------------ request log
    async def record(self, request: RecordedRequest) -> None:
        async with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def find(self, method: str, path_contains: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and path_contains in r.path]

    async def wait_for(
        self, predicate: Callable[[list[RecordedRequest]], bool], within: float = 10.0
    ) -> list[RecordedRequest]:
        """Wait (a safety timeout, not a sleep) until the request log satisfies ``predicate``."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: predicate(self.requests))
        return self.requests

    async def wait_for_request(
        self, method: str, path_contains: str, count: int = 1, within: float = 10.0
    ) -> list[RecordedRequest]:
        await self.wait_for(lambda _: len(self.find(method, path_contains)) >= count, within)
        return self.find(method, path_contains)

    # ------------------------------------------------------------------ gateway
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for msg in ws:
            frame = json.loads(msg.data)
            if frame["op"] == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif frame["op"] == 2:
                self.identifies += 1
                await self._ready(ws)
            elif frame["op"] == 6:
                self.resumes += 1
                await self._send(ws, "RESUMED", {})
                self.identified.set()
        if ws in self._sockets:
            self._sockets.remove(ws)
        return ws

    async def ask_to_reconnect(self) -> None:
        """Gateway op 7 RECONNECT, as Discord sends before moving a session."""
        self.identified.clear()
        for ws in list(self._sockets):
            await ws.send_str(json.dumps({"op": 7, "d": None}))

    async def _ready(self, ws: web.WebSocketResponse) -> None:
        ready = {
            "v": 10,
            "user": self.bot.payload(),
            "guilds": [{"id": GUILD_ID, "unavailable": True}],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": APP_ID, "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await self._send(ws, "READY", ready)
        await self._send(
            ws,
            "GUILD_CREATE",
            guild_payload(GUILD_ID, "Test Guild", [self.channel], self.bot, self.premium_tier),
        )
        self.identified.set()

    async def _send(self, ws: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self.next_seq(), "d": data}))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        for ws in self._sockets:
            await self._send(ws, event, data)

    # ------------------------------------------------------------------ CDN
    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        blob = self.blobs.get(name)
        if blob is None:
            return web.Response(status=404)
        self.downloads.append(name)
        resp = web.StreamResponse(
            headers={"Content-Type": blob.content_type, "Content-Length": str(blob.size)}
        )
        await resp.prepare(request)
        try:
            if blob.data is not None:
                await resp.write(blob.data)
            else:
                chunk = b"\0" * 65536
                left = blob.size
                while left > 0:
                    await resp.write(chunk[: min(left, len(chunk))])
                    left -= len(chunk)
        except (ConnectionResetError, ConnectionError):  # the client stopped reading: the file was too big
            return resp
        await resp.write_eof()
        return resp


def new_message(
    fake: FakeDiscord,
    channel: FakeChannel,
    body: dict[str, Any],
    files: list[RecordedFile],
    interaction_id: str | None = None,
) -> dict[str, Any]:
    """Store a message the bot created and return its payload."""
    message_id = fake.ids.next()
    attachments = [
        attachment_payload(
            fake.ids.next(), f.filename, f.size, fake.url(f"/cdn/{f.filename}"), f.content_type
        )
        for f in files
    ]
    data = message_payload(
        message_id,
        channel,
        fake.bot,
        body.get("content") or "",
        attachments=attachments,
        components=body.get("components") or [],
        reference=body.get("message_reference"),
        interaction_id=interaction_id,
    )
    channel.messages[message_id] = data
    return data
