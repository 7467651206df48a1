"""The ``/open/v1`` routes: product list, task create/detail and asset verification."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.types import TaskType
from sim.create_validation import RejectedError, validate_create
from sim.lifecycle import Timings, render_detail
from sim.policy import POLICY
from sim.responses import bearer_key, error, injected_response, success
from sim.state import SimTask, sim_state

ASSET_TYPES = {
    "image": ("jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"),
    "video": ("mp4", "mov", "avi", "webm", "mkv", "flv"),
    "audio": ("mp3", "wav", "m4a", "aac", "ogg", "flac"),
}


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None


async def product_list(request: Request) -> Response:
    state = sim_state(request)
    state.calls["product/list"] += 1
    if (faulted := await injected_response(state, "list")) is not None:
        return faulted
    if bearer_key(request) is None:
        return error(401, "Unauthorized")
    query = request.query_params
    if query.get("app") not in ("ima", "webAgent") or query.get("platform") != "web":
        return error(400, "app must be ima and platform must be web")
    try:
        category = TaskType(query.get("category", ""))
    except ValueError:
        return error(400, f"Invalid category: {query.get('category')!r}")
    model_ids = [m.strip() for m in query.get("model_ids", "").split(",") if m.strip()]
    return success(state.config.success_code, state.catalog.tree(category, model_ids))


def _model_hint(body: Any) -> tuple[dict[str, Any], tuple[str, ...]]:
    try:
        outer = body["parameters"][0]
        inner = outer.get("parameters") or {}
        return (inner if isinstance(inner, dict) else {}), (str(outer.get("model_id")),
                                                             str(outer.get("model_version")))
    except (KeyError, IndexError, TypeError, AttributeError):
        return {}, ()


async def create_task(request: Request) -> Response:
    state = sim_state(request)
    state.calls["tasks/create"] += 1
    body = await _json_body(request)
    inner, models = _model_hint(body)
    if (faulted := await injected_response(state, "create", params=inner, models=models)) is not None:
        return faulted
    key = bearer_key(request)
    if key is None:
        return error(401, "Unauthorized")
    account = state.account(key)
    try:
        accepted = validate_create(body, state.catalog, account, POLICY)
    except RejectedError as rejection:
        return error(rejection.code, rejection.message)
    account.balance -= accepted.total_points
    number = state.next_number()
    now = state.clock.now()
    timings: Timings = request.app.state.timings
    outcome = state.take_fault("task", outcome=True, params=accepted.inner,
                               models=(accepted.leaf.model_id, accepted.leaf.version_id))
    task = SimTask(
        id=f"sim-task-{state.config.seed}-{number:06d}", biz_id=f"sim-biz-{number:06d}", key=key,
        task_type=accepted.task_type, leaf=accepted.leaf, payload=body, inner=accepted.inner, n=accepted.n,
        points=accepted.total_points, created_at=now,
        finish_after=timings.generation_seconds(accepted.leaf, state.config.speed, state.config.spread,
                                                draw=f"{state.config.seed}:{number}"),
        outcome=outcome,
    )
    state.add_task(task)
    created_ms = int(now * 1000)
    return success(state.config.success_code, {
        "id": task.id, "biz_id": task.biz_id, "task_type": task.task_type.value, "medias": [],
        "generate_count": task.n, "created_at": created_ms,
        "timeout_at": created_ms + int(timings.timeout_seconds * 1000),
    })


async def task_detail(request: Request) -> Response:
    state = sim_state(request)
    state.calls["tasks/detail"] += 1
    body = await _json_body(request)
    task_id = body.get("task_id") if isinstance(body, dict) else None
    task = state.task(str(task_id)) if task_id else None
    models = (task.leaf.model_id, task.leaf.version_id) if task else ()
    if (faulted := await injected_response(state, "detail", models=models)) is not None:
        return faulted
    key = bearer_key(request)
    if key is None:
        return error(401, "Unauthorized")
    if task is None or task.key != key:
        return error(404, "Task not found")
    task.detail_calls += 1
    data = render_detail(task, state.clock.now(), state.config.public_base_url, request.app.state.timings)
    return success(state.config.success_code, data)


def _asset_type(url: str) -> str:
    suffix = urlparse(url).path.rsplit(".", 1)[-1].lower()
    for kind, suffixes in ASSET_TYPES.items():
        if suffix in suffixes:
            return kind
    return "image"


async def verify_asset(request: Request) -> Response:
    state = sim_state(request)
    state.calls["assets/verify"] += 1
    body = await _json_body(request)
    url = str(body.get("url", "")) if isinstance(body, dict) else ""
    if (faulted := await injected_response(state, "verify", url=url)) is not None:
        return faulted
    if bearer_key(request) is None:
        return error(401, "Unauthorized")
    if not url:
        return error(400, "url is required")
    outcome = state.take_fault("verify", outcome=True, url=url)
    if outcome is not None and outcome.delay:
        await state.clock.sleep(outcome.delay)
    status = outcome.status if outcome and outcome.status else "Active"
    failed = status.lower() == "failed"
    reason = outcome.error_msg if outcome else None
    number = state.next_number()
    now_ms = int(state.clock.now() * 1000)
    given = body.get("name") if isinstance(body, dict) else None
    name = str(given or urlparse(url).path.rsplit("/", 1)[-1])[:64]
    result = {
        "id": f"sim-asset-{number:06d}", "name": name, "url": url, "group_id": "sim-group",
        "asset_type": _asset_type(url), "status": status,
        "error": {"code": 400 if failed else 0,
                  "message": (reason or "Asset failed compliance review") if failed else ""},
        "project_name": "imabot-sim", "create_time": now_ms, "update_time": now_ms,
    }
    return success(state.config.success_code, {"result": result})


ROUTES = [
    Route("/open/v1/product/list", product_list, methods=["GET"]),
    Route("/open/v1/tasks/create", create_task, methods=["POST"]),
    Route("/open/v1/tasks/detail", task_detail, methods=["POST"]),
    Route("/open/v1/assets/verify", verify_asset, methods=["POST"]),
]
