"""The Feishu open-platform calls the bot makes, on top of lark-oapi's ``lark.Client``.

Every call runs the SDK's *synchronous* method in a worker thread (``asyncio.to_thread``). The SDK's
async methods are no better here: they fetch the tenant token with a blocking ``requests`` call on the
event loop anyway, and only the sync path streams a multipart upload straight from an open file.

Sends are retried with exponential backoff on Feishu's rate-limit answers (and on transport errors,
which is safe because every send carries an idempotency ``uuid``). Errors leave as
``core.errors.PlatformError`` with the Feishu code and log id for the logs; none of it reaches users.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lark_oapi as lark
from lark_oapi.api.im.v1 import (
    CreateFileRequest,
    CreateFileRequestBody,
    CreateImageRequest,
    CreateImageRequestBody,
    CreateMessageRequest,
    CreateMessageRequestBody,
    PatchMessageRequest,
    PatchMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.core.exception import ObtainAccessTokenException
from lark_oapi.core.token.manager import TokenManager

from core.clock import Clock
from core.errors import ErrorKind, PlatformError

log = logging.getLogger(__name__)

# 230020: per-chat / per-user send frequency; 99991400: app-level request frequency; 11232/11233: message
# frequency limits reported by the IM API.
RATE_LIMIT_CODES = frozenset({230020, 99991400, 11232, 11233})
# The message replied to is gone: invalid id, recalled, deleted.
REPLY_TARGET_GONE = frozenset({230001, 230011, 230110})
THREAD_REPLY_UNSUPPORTED = 230071
_RETRYABLE = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.SERVER_ERROR, ErrorKind.NETWORK})
IMAGE_MAX_BYTES = 10 * 1024 * 1024
FILE_MAX_BYTES = 30 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay_s, self.base_delay_s * 2.0**attempt))


def build_client(app_id: str, app_secret: str, domain: str, timeout_s: float = 30.0) -> Any:
    return (lark.Client.builder().app_id(app_id).app_secret(app_secret).domain(domain.rstrip("/"))
            .timeout(timeout_s).log_level(lark.LogLevel.WARNING).build())


class FeishuApi:
    def __init__(self, client: Any, clock: Clock, retry: RetryPolicy | None = None) -> None:
        self._client = client
        self._clock = clock
        self._retry = retry or RetryPolicy()

    # ------------------------------------------------------------------ identity and auth

    async def bot_open_id(self) -> str:
        request = (lark.BaseRequest.builder().http_method(lark.HttpMethod.GET).uri("/open-apis/bot/v3/info")
                   .token_types({lark.AccessTokenType.TENANT}).build())
        response = await self._call("bot info", lambda: self._client.request(request), retry=True)
        try:
            body = json.loads(response.raw.content)
            open_id = body["bot"]["open_id"]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PlatformError("bot info: unexpected body", kind=ErrorKind.PROTOCOL) from exc
        if not isinstance(open_id, str) or not open_id:
            raise PlatformError("bot info: no open_id", kind=ErrorKind.PROTOCOL)
        return open_id

    async def tenant_token(self) -> str:
        """The SDK-managed (cached) tenant token, for the one call we stream ourselves (downloads)."""
        # The SDK keeps its config private; the token manager is its own public entry point.
        config = self._client._config
        try:
            token = await asyncio.to_thread(TokenManager.get_self_tenant_token, config)
        except Exception as exc:
            raise PlatformError(f"tenant token: {type(exc).__name__}", kind=ErrorKind.AUTH) from exc
        return str(token)

    # ------------------------------------------------------------------ messages

    async def send(self, receive_id: str, msg_type: str, content: Mapping[str, Any], *, uuid: str,
                   receive_id_type: str = "chat_id") -> str:
        body = (CreateMessageRequestBody.builder().receive_id(receive_id).msg_type(msg_type)
                .content(_dumps(content)).uuid(uuid).build())
        request = CreateMessageRequest.builder().receive_id_type(receive_id_type).request_body(body).build()
        response = await self._call("send", lambda: self._client.im.v1.message.create(request), retry=True)
        return _message_id(response)

    async def reply(self, message_id: str, msg_type: str, content: Mapping[str, Any], *, uuid: str,
                    in_thread: bool = False) -> str:
        builder = ReplyMessageRequestBody.builder().msg_type(msg_type).content(_dumps(content)).uuid(uuid)
        if in_thread:
            builder = builder.reply_in_thread(True)
        request = ReplyMessageRequest.builder().message_id(message_id).request_body(builder.build()).build()
        response = await self._call("reply", lambda: self._client.im.v1.message.reply(request), retry=True)
        return _message_id(response)

    async def patch_card(self, message_id: str, card: Mapping[str, Any]) -> None:
        body = PatchMessageRequestBody.builder().content(_dumps(card)).build()
        request = PatchMessageRequest.builder().message_id(message_id).request_body(body).build()
        await self._call("patch", lambda: self._client.im.v1.message.patch(request), retry=True)

    # ------------------------------------------------------------------ uploads (streamed from disk)

    async def upload_image(self, path: Path) -> str:
        def call() -> Any:
            with path.open("rb") as fh:
                body = CreateImageRequestBody.builder().image_type("message").image(fh).build()
                request = CreateImageRequest.builder().request_body(body).build()
                return self._client.im.v1.image.create(request)

        response = await self._call("upload image", call, retry=True)
        return _data_field(response, "image_key")

    async def upload_file(self, path: Path, file_type: str, *, file_name: str | None = None,
                          duration_ms: int | None = None) -> str:
        def call() -> Any:
            with path.open("rb") as fh:
                builder = (CreateFileRequestBody.builder().file_type(file_type)
                           .file_name(file_name or path.name).file(fh))
                if duration_ms is not None:
                    builder = builder.duration(duration_ms)
                request = CreateFileRequest.builder().request_body(builder.build()).build()
                return self._client.im.v1.file.create(request)

        response = await self._call("upload file", call, retry=True)
        return _data_field(response, "file_key")

    # ------------------------------------------------------------------ plumbing

    async def _call(self, operation: str, call: Callable[[], Any], *, retry: bool) -> Any:
        attempts = self._retry.attempts if retry else 1
        last: PlatformError | None = None
        for attempt in range(attempts):
            try:
                response = await asyncio.to_thread(call)
            except ObtainAccessTokenException as exc:  # wrong app id / secret: retrying cannot help
                raise PlatformError(f"{operation}: no tenant token (code={getattr(exc, 'code', None)})",
                                    kind=ErrorKind.AUTH) from exc
            except Exception as exc:  # transport failure inside the SDK (requests / socket errors)
                last = PlatformError(f"{operation}: {type(exc).__name__}", kind=ErrorKind.NETWORK)
            else:
                if response.success():
                    return response
                last = _error(operation, response)
                if last.kind not in _RETRYABLE:
                    raise last
            if attempt + 1 < attempts:
                log.warning("feishu %s failed (%s, code=%s); retrying", operation, last.kind.value, last.code)
                await self._clock.sleep(self._retry.delay(attempt))
        assert last is not None
        raise last


def _error(operation: str, response: Any) -> PlatformError:
    code = response.code
    status = getattr(getattr(response, "raw", None), "status_code", None)
    log_id = response.get_log_id() if hasattr(response, "get_log_id") else None
    detail = f"{operation} failed: code={code} http={status} log_id={log_id}"
    if code in RATE_LIMIT_CODES or status == 429:
        return PlatformError(detail, kind=ErrorKind.RATE_LIMITED, code=code)
    if status is not None and status >= 500:
        return PlatformError(detail, kind=ErrorKind.SERVER_ERROR, code=code)
    return PlatformError(detail, kind=ErrorKind.BAD_PARAMS, code=code)


def _message_id(response: Any) -> str:
    return _data_field(response, "message_id")


def _data_field(response: Any, name: str) -> str:
    value = getattr(getattr(response, "data", None), name, None)
    if not isinstance(value, str) or not value:
        raise PlatformError(f"response without {name}", kind=ErrorKind.PROTOCOL)
    return value


def _dumps(content: Mapping[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"))
