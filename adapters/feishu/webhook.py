"""Event intake over HTTP (the "request URL" mode), served by aiohttp.

Requests are checked here before the SDK sees them, so forged ones are answered 401/400 instead of the
SDK's blanket 500: the signature ``sha256(timestamp + nonce + encrypt_key + body)`` (Feishu signs only
when an Encrypt Key is set), AES-256-CBC decryption, and the verification token. ``url_verification``
gets its challenge straight back (Feishu allows 1 s). Everything else goes through the SDK dispatcher
(synchronous, so in a worker thread) with the header names it expects: aiohttp keeps the casing the
client sent, while the SDK looks headers up case-sensitively.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any

import lark_oapi as lark
from aiohttp import web
from lark_oapi.core.utils.decryptor import AESCipher

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024
_SIGNED_HEADERS = ("X-Lark-Request-Timestamp", "X-Lark-Request-Nonce", "X-Lark-Signature")


class WebhookRejectedError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class WebhookServer:
    def __init__(self, dispatcher: Any, *, host: str, port: int, path: str, encrypt_key: str = "",
                 verification_token: str = "") -> None:
        self._dispatcher = dispatcher
        self._host = host
        self._port = port
        self._path = path
        self._encrypt_key = encrypt_key
        self._token = verification_token
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(self._path, self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server: Any = site._server
        port = server.sockets[0].getsockname()[1] if server is not None else self._port
        self.url = f"http://{self._host}:{port}{self._path}"

    @property
    def connected(self) -> bool:
        """Listening for Feishu's requests."""
        return self._runner is not None and bool(self.url)

    async def aclose(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {name: request.headers.get(name, "") for name in _SIGNED_HEADERS}
        try:
            event = self.verify(body, headers)
        except WebhookRejectedError as exc:
            log.warning("feishu webhook rejected (%d): %s", exc.status, exc)
            return web.json_response({"msg": "rejected"}, status=exc.status)
        if event.get("type") == "url_verification":
            return web.json_response({"challenge": event.get("challenge", "")})
        raw = lark.RawRequest()
        raw.uri = self._path
        raw.headers = headers
        raw.body = body
        response = await asyncio.to_thread(self._dispatcher.do, raw)
        return web.Response(status=response.status_code, body=response.content,
                            content_type="application/json")

    def verify(self, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """The decrypted event, or ``WebhookRejectedError`` (401 forged / 400 malformed)."""
        outer = _json(body)
        if "encrypt" in outer:
            if not self._encrypt_key:
                raise WebhookRejectedError(400, "encrypted body but no encrypt key configured")
            timestamp, nonce, signature = (headers.get(h, "") for h in _SIGNED_HEADERS)
            expected = hashlib.sha256((timestamp + nonce + self._encrypt_key).encode() + body).hexdigest()
            if not signature or not hmac.compare_digest(expected, signature):
                raise WebhookRejectedError(401, "bad signature")
            try:
                event = _json(AESCipher(self._encrypt_key).decrypt_str(str(outer["encrypt"])).encode())
            except WebhookRejectedError:
                raise
            except Exception as exc:
                raise WebhookRejectedError(400, "cannot decrypt") from exc
        elif self._encrypt_key:
            raise WebhookRejectedError(400, "plain body while an encrypt key is configured")
        else:
            event = outer
        if self._token:
            header: dict[str, Any] = event["header"] if isinstance(event.get("header"), dict) else {}
            token = str(header.get("token") or event.get("token") or "")
            if not hmac.compare_digest(token.encode(), self._token.encode()):
                raise WebhookRejectedError(401, "bad verification token")
        return event


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise WebhookRejectedError(400, "body is not JSON") from exc
    if not isinstance(value, dict):
        raise WebhookRejectedError(400, "body is not a JSON object")
    return value
