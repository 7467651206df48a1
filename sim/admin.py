"""Introspection and control routes for tests and demos (``/_sim/...``; a local dev server only)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sim.faults import FaultSpec, FaultSpecError
from sim.lifecycle import phase
from sim.state import sim_state


def _mask(key: str) -> str:
    return key[:6] + "…" if len(key) > 6 else "***"


async def list_tasks(request: Request) -> Response:
    state = sim_state(request)
    now = state.clock.now()
    tasks = [{
        "id": t.id, "biz_id": t.biz_id, "key": _mask(t.key), "task_type": t.task_type.value,
        "model_id": t.leaf.model_id, "model_version": t.leaf.version_id, "n": t.n, "points": t.points,
        "created_at": t.created_at, "finish_after": t.finish_after,
        "phase": phase(t, now, request.app.state.timings),
        "detail_calls": t.detail_calls, "outcome": t.outcome.render() if t.outcome else None,
        "payload": t.payload,
    } for t in state.tasks]
    return JSONResponse({"tasks": tasks, "calls": dict(state.calls)})


async def _body(request: Request) -> dict[str, Any]:
    try:
        raw = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return raw if isinstance(raw, dict) else {}


async def set_faults(request: Request) -> Response:
    state = sim_state(request)
    body = await _body(request)
    raw = body.get("faults", [])
    if isinstance(raw, str):
        raw = [raw]
    try:
        specs = [FaultSpec.parse(str(text)) for text in raw]
    except FaultSpecError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    state.set_faults(specs, replace=body.get("mode", "replace") != "add")
    return await get_faults(request)


async def get_faults(request: Request) -> Response:
    state = sim_state(request)
    return JSONResponse({"faults": [{"spec": a.spec.render(), "remaining": a.remaining, "fired": a.fired}
                                    for a in state.faults]})


async def key_account(request: Request) -> Response:
    state = sim_state(request)
    key = request.path_params["key"]
    account = state.account(key)
    if request.method == "POST":
        body = await _body(request)
        if "balance" in body:
            account.balance = int(body["balance"])
        if "subscription" in body:
            account.subscription = bool(body["subscription"])
    return JSONResponse({"key": _mask(key), "balance": account.balance, "subscription": account.subscription})


async def reset(request: Request) -> Response:
    sim_state(request).reset()
    return JSONResponse({"ok": True})


ROUTES = [
    Route("/_sim/tasks", list_tasks, methods=["GET"]),
    Route("/_sim/faults", set_faults, methods=["POST"]),
    Route("/_sim/faults", get_faults, methods=["GET"]),
    Route("/_sim/keys/{key}", key_account, methods=["GET", "POST"]),
    Route("/_sim/reset", reset, methods=["POST"]),
]
