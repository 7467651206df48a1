"""Task lifecycle over simulated time and the ``tasks/detail`` view of a task."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from core.types import MediaType, TaskType
from sim.catalog import SimLeaf
from sim.state import SimTask

_TIMINGS_PATH = Path(__file__).resolve().parent / "data" / "timings.json"


@dataclass(frozen=True, slots=True)
class Timings:
    default_seconds: Mapping[str, float]
    pending_fraction: float
    timeout_seconds: float
    max_video_seconds: int
    music_seconds: int
    speech_seconds: int
    video_long_side: int
    image_long_side: int

    @classmethod
    def load(cls, path: Path = _TIMINGS_PATH) -> Timings:
        raw = json.loads(path.read_text(encoding="utf-8"))
        raw.pop("_comment", None)
        return cls(**raw)

    def generation_seconds(self, leaf: SimLeaf, speed: float, spread: float = 0.0, draw: str = "") -> float:
        """The typical time (the EET midpoint), varied lognormally by ``spread`` with a normal draw
        seeded by ``draw`` (the same task always gets the same time), clamped to ±3 σ."""
        base = leaf.eet_midpoint or self.default_seconds[leaf.category.media_type.value]
        if spread > 0.0:
            z = max(-3.0, min(3.0, random.Random(draw).gauss(0.0, 1.0)))
            base *= math.exp(spread * z)
        return base / speed


def _ratio(inner: Mapping[str, Any]) -> tuple[int, int]:
    for key in ("aspect_ratio", "size"):
        raw = str(inner.get(key, "")).strip().lower().replace("×", "x")
        for sep in (":", "x"):
            left, found, right = raw.partition(sep)
            if found and left.isdigit() and right.isdigit() and int(left) > 0 and int(right) > 0:
                return int(left), int(right)
    return 16, 9


def _dimensions(inner: Mapping[str, Any], long_side: int) -> tuple[int, int]:
    w, h = _ratio(inner)
    if w >= h:
        short = max(2, round(long_side * h / w / 2) * 2)
        return long_side, short
    short = max(2, round(long_side * w / h / 2) * 2)
    return short, long_side


def _seconds(inner: Mapping[str, Any], cap: int) -> int:
    raw = str(inner.get("duration", "")).strip().lower().rstrip("s")
    requested = int(raw) if raw.isdigit() else cap
    return max(1, min(requested, cap))


@dataclass(frozen=True, slots=True)
class MediaPlan:
    """What a finished media item looks like (URLs are relative to the public base)."""

    path: str
    cover_path: str
    format: str
    width: int
    height: int
    seconds: int


def plan_media(task_type: TaskType, inner: Mapping[str, Any], timings: Timings,
               result_size_mb: float | None) -> MediaPlan:
    media = task_type.media_type
    if media is MediaType.VIDEO:
        w, h = _dimensions(inner, timings.video_long_side)
        secs = _seconds(inner, timings.max_video_seconds)
        path = f"big.mp4?mb={result_size_mb:g}" if result_size_mb else f"video-{w}x{h}-{secs}s.mp4"
        return MediaPlan(path, f"cover-{w}x{h}.jpg", "mp4", w, h, secs)
    if media is MediaType.IMAGE:
        w, h = _dimensions(inner, timings.image_long_side)
        return MediaPlan(f"image-{w}x{h}.png", "", "png", w, h, 0)
    if media is MediaType.MUSIC:
        return MediaPlan(f"audio-{timings.music_seconds}s.mp3", "", "mp3", 0, 0, timings.music_seconds)
    return MediaPlan(f"audio-{timings.speech_seconds}s.wav", "", "wav", 0, 0, timings.speech_seconds)


def _url(base: str, path: str, task: SimTask, index: int) -> str:
    if not path:
        return ""
    sep = "&" if "?" in path else "?"
    return f"{base}/_sim/media/{path}{sep}task={quote(task.id)}&i={index}"


def phase(task: SimTask, now: float, timings: Timings) -> str:
    elapsed = now - task.created_at
    outcome = task.outcome
    if elapsed < task.finish_after * timings.pending_fraction:
        return "pending"
    if (outcome is not None and outcome.stuck) or elapsed < task.finish_after:
        return "processing"
    return "done"


def _media_item(task: SimTask, index: int, current: str, plan: MediaPlan, base_url: str,
                empty_url: bool) -> dict[str, Any]:
    outcome = task.outcome
    media: dict[str, Any] = {"id": f"{task.id}-{index}", "model_id": task.leaf.model_id,
                             "mode_name": task.leaf.name, "url": "", "watermark_url": "", "cover": "",
                             "duration_str": "", "format": plan.format, "width": 0, "height": 0,
                             "error_msg": "", "remark": ""}
    if current == "pending":
        media.update(resource_status=None, status="pending")
    elif current == "processing":
        media.update(resource_status=0, status="processing")
    elif outcome is not None and outcome.rs in (2, 3):
        reason = outcome.error_msg or "Generation failed"
        media.update(resource_status=outcome.rs, status="failed" if outcome.rs == 2 else "deleted",
                     error_msg=reason, remark=reason)
    elif outcome is not None and outcome.status == "failed":
        media.update(resource_status=1, status="failed", error_msg=outcome.error_msg or "Generation failed")
    else:
        media.update(resource_status=1, status="success", width=plan.width, height=plan.height,
                     url="" if empty_url else _url(base_url, plan.path, task, index),
                     cover="" if empty_url else _url(base_url, plan.cover_path, task, index),
                     duration_str=f"{plan.seconds}s" if plan.seconds else "")
    return media


def render_detail(task: SimTask, now: float, base_url: str, timings: Timings) -> dict[str, Any]:
    """The ``data`` of a detail reply. Call once per detail request (it counts empty-url polls)."""
    current = phase(task, now, timings)
    outcome = task.outcome
    plan = plan_media(task.task_type, task.inner, timings, outcome.result_size_mb if outcome else None)
    empty_url = current == "done" and outcome is not None and task.empty_url_served < outcome.empty_url
    medias = [_media_item(task, i, current, plan, base_url, empty_url) for i in range(task.n)]
    if current != "done":
        status = current
    elif any(m["status"] != "success" for m in medias):
        status = "failed"
    elif empty_url:
        task.empty_url_served += 1
        status = "processing"
    else:
        status = "success"
    return {"id": task.id, "biz_id": task.biz_id, "task_type": task.task_type.value,
            "prompt": str(task.inner.get("prompt", "")), "status": status,
            "model_id": task.leaf.model_id, "model_version": task.leaf.version_id,
            "generate_count": task.n, "created_at": int(task.created_at * 1000), "medias": medias}
