"""``tasks/detail`` reply -> ``TaskSnapshot`` (facts §6.2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from adapters.ima.errors import redact_text
from core.ports import TaskProgress, TaskSnapshot
from core.types import MediaResult, MediaType, TaskType

_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_FORMAT_MEDIA = {
    "mp4": MediaType.VIDEO, "mov": MediaType.VIDEO, "webm": MediaType.VIDEO,
    "jpg": MediaType.IMAGE, "jpeg": MediaType.IMAGE, "png": MediaType.IMAGE, "webp": MediaType.IMAGE,
    "mp3": MediaType.MUSIC, "wav": MediaType.MUSIC, "m4a": MediaType.MUSIC,
}


def snapshot_from_detail(task_id: str, data: Any) -> TaskSnapshot:
    """Any media with resource_status 2 fails the task, 3 means deleted; the task is done only when
    every media has status 1, none says "failed" and every media has a URL (an empty URL means
    "not ready yet")."""
    if not isinstance(data, Mapping):
        return TaskSnapshot(task_id=task_id, progress=TaskProgress.PENDING)
    raw = data.get("medias")
    medias = [m for m in raw if isinstance(m, Mapping)] if isinstance(raw, list) else []
    statuses = [_resource_status(m) for m in medias]
    if 2 in statuses:
        failed = medias[statuses.index(2)]
        return TaskSnapshot(task_id, TaskProgress.FAILED, failure_reason=_reason(failed))
    if 3 in statuses:
        return TaskSnapshot(task_id, TaskProgress.DELETED, failure_reason="deleted")
    if str(data.get("status") or "").lower() == "failed":
        reason = _reason(data) or next((r for m in medias if (r := _reason(m))), None)
        return TaskSnapshot(task_id, TaskProgress.FAILED, failure_reason=reason)
    if not medias:
        return TaskSnapshot(task_id, TaskProgress.PENDING)
    if all(s == 1 for s in statuses):
        for media in medias:
            if str(media.get("status") or "").lower() == "failed":
                return TaskSnapshot(task_id, TaskProgress.FAILED, failure_reason=_reason(media))
        default_kind = _task_media_type(data)
        results = [_media_result(m, default_kind) for m in medias]
        if all(r is not None for r in results):
            return TaskSnapshot(task_id, TaskProgress.SUCCEEDED, medias=tuple(r for r in results if r))
        return TaskSnapshot(task_id, TaskProgress.RUNNING)
    if all(s == 0 for s in statuses) and all(
            str(m.get("status") or "pending").lower() == "pending" for m in medias):
        return TaskSnapshot(task_id, TaskProgress.PENDING)
    return TaskSnapshot(task_id, TaskProgress.RUNNING)


def _resource_status(media: Mapping[str, Any]) -> int:
    value = media.get("resource_status")
    try:
        return int(value) if value not in (None, "") else 0
    except (TypeError, ValueError):
        return 0


def _reason(item: Mapping[str, Any]) -> str | None:
    for key in ("error_msg", "remark", "message"):
        text = item.get(key)
        if isinstance(text, str) and text.strip():
            return redact_text(text.strip())  # server text may quote signed URLs
    return None


def _task_media_type(data: Mapping[str, Any]) -> MediaType | None:
    try:
        return TaskType(str(data.get("task_type") or "")).media_type
    except ValueError:
        return None


def _media_result(media: Mapping[str, Any], default_kind: MediaType | None) -> MediaResult | None:
    url = next((str(media[k]) for k in ("url", "watermark_url", "preview_url") if media.get(k)), "")
    if not url:
        return None
    fmt = str(media.get("format") or "").lower() or None
    kind = default_kind or _FORMAT_MEDIA.get(fmt or _extension(url), MediaType.VIDEO)
    cover = media.get("cover") or media.get("cover_url") or None
    return MediaResult(
        url=url, kind=kind, cover_url=str(cover) if cover else None,
        duration_s=_seconds(media.get("duration_str") or media.get("duration")),
        width=_int_or_none(media.get("width")), height=_int_or_none(media.get("height")), format=fmt,
    )


def _extension(url: str) -> str:
    path = url.split("?", 1)[0]
    return path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""


def _seconds(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    match = _SECONDS.search(str(value))
    return float(match.group(0)) if match else None


def _int_or_none(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
