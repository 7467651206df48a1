"""Envelope helpers and the "broken transport" responses used by fault injection."""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from core.clock import Clock
from sim.faults import FaultSpec
from sim.policy import POLICY
from sim.state import SimState


class SimulatedResetError(httpx.ReadError):
    """Raised after a partial response so the connection drops (uvicorn closes it; httpx's ASGI
    transport re-raises it to the caller as a transport-level failure)."""


def success(config_code: int, data: Any) -> JSONResponse:
    return JSONResponse({"code": config_code, "message": "success", "data": data})


def error(code: int, message: str | None = None, *, http: int = 200,
          headers: dict[str, str] | None = None) -> JSONResponse:
    text = message or POLICY.messages.get(code, "error")
    return JSONResponse({"code": code, "message": text, "data": None}, status_code=http, headers=headers)


class ResetResponse(Response):
    def __init__(self) -> None:
        super().__init__(content=b"", media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")]})
        await send({"type": "http.response.body", "body": b'{"code": 0, "da', "more_body": True})
        raise SimulatedResetError("simulated connection reset")


def malformed() -> Response:
    body = json.dumps({"code": 0, "message": "success", "data": {"id": "x", "medias": []}})
    return Response(content=body[: len(body) // 2], media_type="application/json")


async def apply_response_fault(spec: FaultSpec, clock: Clock) -> Response | None:
    """Latency first; then reset / malformed body / error envelope. ``None`` = carry on normally."""
    if spec.delay:
        await clock.sleep(spec.delay)
    if spec.reset:
        return ResetResponse()
    if spec.malformed:
        return malformed()
    if spec.code is None and spec.http is None:
        return None
    http = spec.http or 200
    code = spec.code if spec.code is not None else http
    headers = {"Retry-After": _retry_after(spec)} if http == 429 or spec.retry_after is not None else None
    return error(code, spec.message, http=http, headers=headers)


def _retry_after(spec: FaultSpec) -> str:
    value = spec.retry_after if spec.retry_after is not None else 1.0
    return str(int(value)) if float(value).is_integer() else str(value)


def bearer_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith("ima_"):
        return None
    return token


async def injected_response(state: SimState, route: str, **match: Any) -> Response | None:
    """What an armed fault on ``route`` answers instead (``None``: no fault, or one that only delays)."""
    spec = state.take_fault(route, outcome=False, **match)
    return await apply_response_fault(spec, state.clock) if spec else None
