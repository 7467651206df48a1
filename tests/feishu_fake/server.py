"""A fake Feishu open platform on loopback, good enough for the real lark-oapi client.

REST: tenant token, bot info, message create / reply / patch (with uuid idempotency and the card
``update_multi`` rule), image and file uploads (10 MB / 30 MB caps), message resources. Long connection:
``/callback/ws/endpoint`` plus a WebSocket speaking the SDK's own protobuf frames; ``push_event`` sends an
event and returns the client's ACK. Everything is recorded for assertions; errors can be injected.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from lark_oapi.ws.pb.pbbp2_pb2 import Frame

IMAGE_LIMIT = 10 * 1024 * 1024
FILE_LIMIT = 30 * 1024 * 1024
SERVICE_ID = 7

UUID_WINDOW_S = 3600.0  # a send with a uuid seen within the hour returns that message (Feishu docs)


@dataclass
class SentMessage:
    message_id: str
    chat_id: str
    msg_type: str
    content: dict[str, Any]
    uuid: str | None
    reply_to: str | None = None
    in_thread: bool = False
    at: float = 0.0

    @property
    def card_text(self) -> str:
        """All plain text of a card (title and elements), for assertions."""
        return json.dumps(self.content, ensure_ascii=False)


@dataclass
class Patch:
    message_id: str
    content: dict[str, Any]
    at: float


@dataclass
class Upload:
    key: str
    kind: str  # "image" | "file"
    data: bytes
    fields: dict[str, str]


@dataclass
class Ack:
    code: int
    data: dict[str, Any] | None
    elapsed_s: float


@dataclass
class FakeFeishu:
    app_id: str = "cli_test"
    bot_open_id: str = "ou_bot"
    now: Callable[[], float] = time.monotonic
    messages: list[SentMessage] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)
    uploads: dict[str, Upload] = field(default_factory=dict)
    resources: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    token_requests: int = 0
    # operation ("send" | "reply" | "patch" | "image" | "file" | "resource") -> queued error codes
    failures: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    media_files: dict[str, bytes] = field(default_factory=dict)
    inbound_chats: dict[str, str] = field(default_factory=dict)  # user message id -> chat id

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._by_uuid: dict[str, SentMessage] = {}
        self._by_id: dict[str, SentMessage] = {}
        self._ws: web.WebSocketResponse | None = None
        self._connected = asyncio.Event()
        self._acks: dict[str, asyncio.Future[Ack]] = {}
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()
        self.base_url = ""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/open-apis/auth/v3/tenant_access_token/internal", self._token)
        app.router.add_get("/open-apis/bot/v3/info", self._bot_info)
        app.router.add_post("/callback/ws/endpoint", self._ws_endpoint)
        app.router.add_get("/ws", self._ws_handler)
        app.router.add_post("/open-apis/im/v1/messages", self._create)
        app.router.add_post("/open-apis/im/v1/messages/{mid}/reply", self._reply)
        app.router.add_patch("/open-apis/im/v1/messages/{mid}", self._patch)
        app.router.add_post("/open-apis/im/v1/images", self._upload_image)
        app.router.add_post("/open-apis/im/v1/files", self._upload_file)
        app.router.add_get("/open-apis/im/v1/messages/{mid}/resources/{key}", self._resource)
        app.router.add_get("/media/{name}", self._media)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def aclose(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ test controls

    def fail_next(self, operation: str, code: int, times: int = 1) -> None:
        self.failures[operation].extend([code] * times)

    def add_resource(self, message_id: str, key: str, data: bytes, filename: str) -> None:
        self.resources[(message_id, key)] = (data, filename)

    def media_url(self, name: str, data: bytes) -> str:
        """Serve ``data`` as a downloadable result file (stands in for IMA's CDN)."""
        self.media_files[name] = data
        return f"{self.base_url}/media/{name}"

    async def wait_connected(self, within_s: float = 10.0) -> None:
        await asyncio.wait_for(self._connected.wait(), within_s)

    async def drop_connection(self) -> None:
        if self._ws is not None:
            self._connected.clear()
            await self._ws.close()
            self._ws = None

    async def push_event(self, payload: dict[str, Any], within_s: float = 10.0) -> Ack:
        """Deliver one event over the long connection and wait for the client's ACK frame."""
        message = payload.get("event", {}).get("message", {})
        if message.get("message_id"):
            self.inbound_chats[message["message_id"]] = message.get("chat_id", "")
        await self.wait_connected(within_s)
        assert self._ws is not None
        frame_id = f"frame_{next(self._ids)}"
        frame = Frame()
        frame.SeqID = 1
        frame.LogID = 1
        frame.service = SERVICE_ID
        frame.method = 1
        for key, value in (("type", "event"), ("message_id", frame_id), ("trace_id", "t" + frame_id),
                           ("sum", "1"), ("seq", "0")):
            header = frame.headers.add()
            header.key = key
            header.value = value
        frame.payload = json.dumps(payload, ensure_ascii=False).encode()
        fut: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._acks[frame_id] = fut
        started = time.monotonic()
        await self._ws.send_bytes(frame.SerializeToString())
        ack = await asyncio.wait_for(fut, within_s)
        ack.elapsed_s = time.monotonic() - started
        return ack

    async def wait_until(self, predicate: Callable[[FakeFeishu], bool], within_s: float = 30.0) -> None:
        """Wait (event-driven, no polling) until ``predicate(self)`` holds after some message or patch."""
        async with asyncio.timeout(within_s), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def chat_messages(self, chat_id: str) -> list[SentMessage]:
        return [m for m in self.messages if m.chat_id == chat_id]

    def message(self, message_id: str) -> SentMessage:
        return self._by_id[message_id]

    # ------------------------------------------------------------------ REST handlers

    async def _token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.token_requests += 1
        if body.get("app_id") != self.app_id:
            return web.json_response({"code": 10003, "msg": "invalid app_id"})
        return web.json_response({"code": 0, "msg": "ok", "tenant_access_token": "t-fake", "expire": 7200})

    async def _bot_info(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        return web.json_response({"code": 0, "msg": "ok", "bot": {"open_id": self.bot_open_id,
                                                                    "app_name": "IMA Bot"}})

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        response = self._store("send", request, chat_id=body.get("receive_id", ""), body=body, reply_to=None)
        await self._notify()
        return response

    async def _reply(self, request: web.Request) -> web.Response:
        body = await request.json()
        target = self._by_id.get(request.match_info["mid"])
        mid = request.match_info["mid"]
        chat_id = target.chat_id if target else self.inbound_chats.get(mid, f"unknown:{mid}")
        response = self._store("reply", request, chat_id=chat_id, body=body, reply_to=mid)
        await self._notify()
        return response

    def _store(self, operation: str, request: web.Request, *, chat_id: str, body: dict[str, Any],
               reply_to: str | None) -> web.Response:
        self.requests.append((operation, request.path))
        if (denied := self._auth(request)) is not None:
            return denied
        if (failure := self._failure(operation)) is not None:
            return failure
        uuid = body.get("uuid")
        known = self._by_uuid.get(uuid) if uuid else None
        if known is not None and self.now() - known.at < UUID_WINDOW_S:  # Feishu: at most once per hour
            return _ok({"message_id": known.message_id})
        content = json.loads(body["content"])
        if body["msg_type"] in ("interactive", "post") and len(body["content"].encode()) > 30 * 1024:
            return web.json_response({"code": 230025, "msg": "message content too long"})
        message = SentMessage(message_id=f"om_bot_{next(self._ids)}", chat_id=chat_id,
                              msg_type=body["msg_type"], content=content, uuid=uuid, reply_to=reply_to,
                              in_thread=bool(body.get("reply_in_thread")), at=self.now())
        self.messages.append(message)
        self._by_id[message.message_id] = message
        if uuid:
            self._by_uuid[uuid] = message
        return _ok({"message_id": message.message_id, "chat_id": chat_id, "msg_type": message.msg_type})

    async def _patch(self, request: web.Request) -> web.Response:
        self.requests.append(("patch", request.path))
        if (denied := self._auth(request)) is not None:
            return denied
        if (failure := self._failure("patch")) is not None:
            return failure
        target = self._by_id.get(request.match_info["mid"])
        body = await request.json()
        card = json.loads(body["content"])
        if target is None or target.msg_type != "interactive":
            return web.json_response({"code": 230001, "msg": "message not found or not a card"})
        both_multi = target.content.get("config", {}).get("update_multi") and card.get("config", {}).get(
            "update_multi")
        if not both_multi:
            return web.json_response({"code": 230099, "msg": "update_multi must be true before and after"})
        target.content = card
        self.patches.append(Patch(target.message_id, card, self.now()))
        await self._notify()
        return _ok({})

    async def _upload_image(self, request: web.Request) -> web.Response:
        return await self._upload(request, "image", IMAGE_LIMIT, "image", "image_key", "img_fake_")

    async def _upload_file(self, request: web.Request) -> web.Response:
        return await self._upload(request, "file", FILE_LIMIT, "file", "file_key", "file_fake_")

    async def _upload(self, request: web.Request, operation: str, limit: int, part_name: str, key_name: str,
                      prefix: str) -> web.Response:
        self.requests.append((operation, request.path))
        if (denied := self._auth(request)) is not None:
            return denied
        if (failure := self._failure(operation)) is not None:
            return failure
        reader = await request.multipart()
        fields: dict[str, str] = {}
        data = b""
        while (part := await reader.next()) is not None:
            raw = await part.read()  # type: ignore[union-attr]
            if part.name == part_name:  # type: ignore[union-attr]
                data = bytes(raw)
            else:
                fields[str(part.name)] = bytes(raw).decode()  # type: ignore[union-attr]
        if not data:
            return web.json_response({"code": 234001, "msg": "Invalid request param"})
        if len(data) > limit:
            return web.json_response({"code": 234006, "msg": "file size exceeds limit"})
        key = f"{prefix}{next(self._ids)}"
        self.uploads[key] = Upload(key, operation, data, fields)
        return _ok({key_name: key})

    async def _resource(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(("resource", request.path))
        if (denied := self._auth(request)) is not None:
            return denied
        if (failure := self._failure("resource")) is not None:
            return failure
        found = self.resources.get((request.match_info["mid"], request.match_info["key"]))
        if found is None:
            return web.json_response({"code": 234003, "msg": "file not found"}, status=400)
        data, filename = found
        return web.Response(body=data, content_type="application/octet-stream",
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    async def _media(self, request: web.Request) -> web.Response:
        data = self.media_files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    # ------------------------------------------------------------------ long connection

    async def _ws_endpoint(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("AppID") != self.app_id:
            return web.json_response({"code": 1000040343, "msg": "bad app"})
        ws_url = self.base_url.replace("http://", "ws://") + f"/ws?device_id=dev1&service_id={SERVICE_ID}"
        return web.json_response({"code": 0, "data": {"URL": ws_url, "ClientConfig": {
            "ReconnectCount": 3, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 30}}})

    async def _ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        self._connected.set()
        async for msg in ws:
            if msg.type != WSMsgType.BINARY:
                continue
            frame = Frame()
            frame.ParseFromString(msg.data)
            headers = {h.key: h.value for h in frame.headers}
            if frame.method == 0 and headers.get("type") == "ping":
                pong = Frame()
                pong.SeqID = 0
                pong.LogID = 0
                pong.method = 0
                pong.service = SERVICE_ID
                header = pong.headers.add()
                header.key, header.value = "type", "pong"
                await ws.send_bytes(pong.SerializeToString())
            elif frame.method == 1:
                fut = self._acks.pop(headers.get("message_id", ""), None)
                if fut is not None and not fut.done():
                    fut.set_result(_parse_ack(frame.payload))
        if self._ws is ws:
            self._ws = None
            self._connected.clear()
        return ws

    # ------------------------------------------------------------------ helpers

    def _auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != "Bearer t-fake":
            return web.json_response({"code": 99991663, "msg": "invalid access token"}, status=400)
        return None

    def _failure(self, operation: str) -> web.Response | None:
        queue = self.failures.get(operation)
        if not queue:
            return None
        code = queue.popleft()
        status = 429 if code == 99991400 else 400
        return web.json_response({"code": code, "msg": "injected failure"}, status=status)


def _ok(data: dict[str, Any]) -> web.Response:
    return web.json_response({"code": 0, "msg": "success", "data": data})


def _parse_ack(payload: bytes) -> Ack:
    body = json.loads(payload)
    data = body.get("data")
    decoded = json.loads(base64.b64decode(data)) if data else None
    return Ack(code=int(body.get("code", 0)), data=decoded, elapsed_s=0.0)
