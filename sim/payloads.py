"""Reference ``tasks/create`` bodies built the way the official scripts build them (form defaults,
rule selection, canonical rule values, cast). Tests and demos use it to make valid requests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.types import TaskType
from sim.catalog import Catalog, SimLeaf
from sim.pricing import matching_rules


def find_leaf(catalog: Catalog, task_type: TaskType, version_id: str) -> SimLeaf:
    for leaf in catalog.leaves[task_type]:
        if leaf.version_id == version_id:
            return leaf
    raise KeyError(f"{version_id!r} not in {task_type.value}")


def build_create_body(leaf: SimLeaf, *, prompt: str = "a cat surfing",
                      overrides: Mapping[str, Any] | None = None, input_images: Sequence[str] = (),
                      n: int = 1) -> dict[str, Any]:
    inner: dict[str, Any] = {**leaf.form_defaults(), **(overrides or {})}
    matches = matching_rules(leaf, inner)
    rule = matches[0] if matches else leaf.rules[0]
    for key, value in rule.attributes.items():
        if key != "default":
            inner[key] = value
    if leaf.model_id == "pixverse" and "model" not in inner:
        inner["model"] = "v" + leaf.version_id.split("V")[-1]
    inner.update(prompt=prompt, n=n, input_images=list(input_images),
                 cast={"points": rule.points, "attribute_id": rule.attribute_id})
    return {
        "task_type": leaf.category.value, "enable_multi_model": False, "src_img_url": list(input_images),
        "parameters": [{
            "attribute_id": rule.attribute_id, "model_id": leaf.model_id, "model_name": leaf.name,
            "model_version": leaf.version_id, "app": "ima", "platform": "web",
            "category": leaf.category.value, "credit": rule.points, "parameters": inner,
        }],
    }
