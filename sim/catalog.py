"""The simulator's product catalog: loads the compact per-category files under ``sim/data/catalog``
and renders them back into the API's product-list tree (type "2" groups holding type "3" leaves)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.types import TaskType

CATALOG_DIR = Path(__file__).resolve().parent / "data" / "catalog"
# Keys every control keeps as they are in the compact catalog (sim/tools/derive_catalog.py writes them).
CONTROL_KEYS = ("type", "field", "label", "value", "level")


@dataclass(frozen=True, slots=True)
class SimRule:
    attribute_id: int
    points: int
    attributes: Mapping[str, Any]

    @property
    def is_default_marker(self) -> bool:
        return str(self.attributes.get("default", "")).strip().lower() == "enabled"


@dataclass(frozen=True, slots=True)
class SimLeaf:
    version_id: str
    model_id: str
    name: str
    parent: str
    category: TaskType
    category_name: str
    eet: str | None
    point: str | None
    model_types: tuple[str, ...]
    files: Mapping[str, Any] | None
    form: tuple[Mapping[str, Any], ...] | None
    rules: tuple[SimRule, ...]

    @property
    def eet_midpoint(self) -> float | None:
        if not self.eet:
            return None
        lo, _, hi = self.eet.strip().rstrip("sS").partition("~")
        return (float(lo) + float(hi or lo)) / 2

    def rule_by_id(self, attribute_id: Any) -> SimRule | None:
        for rule in self.rules:
            if str(rule.attribute_id) == str(attribute_id):
                return rule
        return None

    def form_defaults(self) -> dict[str, Any]:
        """Backend defaults the way clients derive them (virtual fields resolved through the mapping)."""
        out: dict[str, Any] = {}
        for item in self.form or ():
            virtual = item.get("virtual")
            if virtual:
                ui = virtual["ui"]
                patch = {ui["field"]: ui["value"]}
                mapped = [target for source, target in virtual["map"] if dict(source) == patch]
                if mapped:
                    out[item["field"]] = mapped[0]
                    continue
            if item["value"] is not None:
                out[item["field"]] = item["value"]
        return out


def _leaf(raw: Mapping[str, Any], category: TaskType, category_name: str) -> SimLeaf:
    return SimLeaf(
        version_id=raw["id"], model_id=raw["model_id"], name=raw["name"], parent=raw["parent"],
        category=category, category_name=category_name, eet=raw.get("eet"), point=raw.get("point"),
        model_types=tuple(raw["model_types"]), files=raw.get("files"),
        form=tuple(raw["form"]) if "form" in raw else None,
        rules=tuple(SimRule(attribute_id=a, points=p, attributes=attrs) for a, p, attrs in raw["rules"]),
    )


@dataclass(frozen=True, slots=True)
class Catalog:
    leaves: Mapping[TaskType, tuple[SimLeaf, ...]]

    @classmethod
    def load(cls, directory: Path = CATALOG_DIR) -> Catalog:
        leaves: dict[TaskType, tuple[SimLeaf, ...]] = {}
        for task_type in TaskType:
            doc = json.loads((directory / f"{task_type.value}.json").read_text(encoding="utf-8"))
            leaves[task_type] = tuple(_leaf(raw, task_type, doc["category_name"]) for raw in doc["leaves"])
        return cls(leaves=leaves)

    def find(self, category: TaskType, model_id: str, version_id: str) -> SimLeaf | None:
        for leaf in self.leaves.get(category, ()):
            if leaf.model_id == model_id and leaf.version_id == version_id:
                return leaf
        return None

    def tree(self, category: TaskType, model_ids: Sequence[str] = ()) -> list[dict[str, Any]]:
        groups: dict[str, dict[str, Any]] = {}
        for leaf in self.leaves.get(category, ()):
            if model_ids and leaf.model_id not in model_ids:
                continue
            group = groups.setdefault(leaf.parent, {"id": leaf.parent, "type": "2", "name": leaf.parent,
                                                    "model_id": "", "children": []})
            group["children"].append(render_leaf(leaf))
        return list(groups.values())


def _render_control(item: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {key: item[key] for key in CONTROL_KEYS} | {"description": ""}
    if "options" in item:
        options = []
        for option in item["options"]:
            if isinstance(option, dict):
                options.append({"label": str(option["value"]), "value": option["value"],
                                "disabled": option["disabled"]})
            else:
                options.append({"label": str(option), "value": option})
        out["options"] = options
    if "config" in item:
        out["config"] = item["config"]
    if "required" in item:
        out["required"] = item["required"]
    return out


def _render_form_item(item: Mapping[str, Any]) -> dict[str, Any]:
    out = _render_control(item)
    if "disabled_for" in item:
        out["disabled_conditions"] = [
            {"enum_value": value, "disabled_key": "", "disabled_value": None, "category": category}
            for value, category in item["disabled_for"]
        ]
    virtual = item.get("virtual")
    if virtual:
        out["is_ui_virtual"] = True
        out["ui_params"] = [_render_control(virtual["ui"])]
        out["value_mapping"] = {
            "mapping_rules": [{"source_values": dict(src), "target_value": target}
                              for src, target in virtual["map"]],
            "source_params": list(virtual["sources"]),
            "target_param": item["field"],
            "type": "simple",
        }
    return out


def render_leaf(leaf: SimLeaf) -> dict[str, Any]:
    tags = [{"tag_type": kind, "tag_value": value}
            for kind, value in (("EET", leaf.eet), ("point", leaf.point)) if value]
    out: dict[str, Any] = {
        "id": leaf.version_id, "parent_id": leaf.parent, "type": "3", "name": leaf.name,
        "model_id": leaf.model_id, "tags": tags, "model_types": list(leaf.model_types),
        "category_code": leaf.category.value, "category_name": leaf.category_name,
        "form_config": [_render_form_item(i) for i in leaf.form] if leaf.form is not None else None,
        "credit_rules": [{"origin_point": r.points, "points": r.points, "attribute_id": r.attribute_id,
                          "attributes": dict(r.attributes)} for r in leaf.rules],
    }
    if leaf.files is not None:
        files = leaf.files
        out["files"] = {"component": files["component"], "acceptType": list(files["accept"]),
                        "category": leaf.category.value,
                        **({"minLimit": files["min"], "maxLimit": files["max"]} if "min" in files else {})}
    return out
