"""The ``POST /open/v1/tasks/create`` body (facts §4) for all eight task types."""

from __future__ import annotations

import re
from typing import Any

from core.ports import Quote, ReferenceBundle, TaskSpec

_PIXVERSE_VERSION = re.compile(r"V(\d+(?:\.\d+)?)", re.IGNORECASE)


def build_create_payload(spec: TaskSpec, quote: Quote) -> dict[str, Any]:
    """Top-level body with exactly one ``parameters`` element.

    ``prompt``, ``n``, ``input_images`` and ``cast`` live inside the inner parameters (a top-level
    prompt is ignored by the server; a missing cast fails billing).
    """
    leaf = quote.leaf
    refs = spec.references
    input_images = list(spec.input_urls) or _reference_urls(refs)
    inner: dict[str, Any] = dict(quote.inner_params)
    inner["prompt"] = spec.prompt
    inner["n"] = max(1, int(spec.n))
    inner["input_images"] = input_images
    inner["cast"] = {"points": quote.credit, "attribute_id": quote.attribute_id}
    model = pixverse_model(leaf.model_id, leaf.name)
    if model and not inner.get("model"):
        inner["model"] = model
    body: dict[str, Any] = {
        "task_type": spec.task_type.value,
        "enable_multi_model": False,
        "src_img_url": [img.url for img in refs.images] if refs and refs.images else input_images,
        "parameters": [{
            "attribute_id": quote.attribute_id,
            "model_id": leaf.model_id,
            "model_name": leaf.name,
            "model_version": leaf.version_id,
            "app": "ima",
            "platform": "web",
            "category": spec.task_type.value,
            "credit": quote.credit,
            "parameters": inner,
        }],
    }
    if refs is not None:
        if refs.images:
            body["src_image"] = [{"url": i.url, "width": i.width, "height": i.height} for i in refs.images]
        if refs.videos:
            body["src_video"] = [
                {"url": v.url, "duration": int(v.duration), "width": v.width, "height": v.height,
                 "cover": v.cover}
                for v in refs.videos
            ]
        if refs.audios:
            body["src_audio"] = [{"url": a.url, "duration": int(a.duration)} for a in refs.audios]
    return body


def pixverse_model(model_id: str, leaf_name: str) -> str | None:
    """Pixverse needs an inner ``model`` ("v5.5") or the server answers 400017; infer it from the
    leaf name when the form did not supply one."""
    if model_id.casefold() != "pixverse":
        return None
    match = _PIXVERSE_VERSION.search(leaf_name)
    return f"v{match.group(1)}" if match else None


def _reference_urls(refs: ReferenceBundle | None) -> list[str]:
    if refs is None:
        return []
    return [i.url for i in refs.images] + [v.url for v in refs.videos] + [a.url for a in refs.audios]
