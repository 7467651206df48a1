"""Value objects for IMA's product list (the "V2 tree" leaves). Parsing and selection logic live in
``adapters.ima.catalog_tree`` / ``adapters.ima.credit_rules``; this module only holds the shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.types import TaskType


@dataclass(frozen=True, slots=True)
class CreditRule:
    attribute_id: int
    points: int
    attributes: Mapping[str, Any]

    @property
    def is_default_marker(self) -> bool:
        return str(self.attributes.get("default", "")).lower() == "enabled"


@dataclass(frozen=True, slots=True)
class ProductLeaf:
    """A type-"3" node: one concrete model version for one category."""

    version_id: str  # leaf "id" -> parameters[0].model_version
    model_id: str  # raw model_id -> parameters[0].model_id
    name: str  # leaf name -> parameters[0].model_name
    category: TaskType
    parent_id: str = ""
    form_config: tuple[Mapping[str, Any], ...] = ()
    credit_rules: tuple[CreditRule, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)  # tag_type -> tag_value (EET, point, ...)
    files: Mapping[str, Any] | None = None

    @property
    def points_range(self) -> tuple[int, int]:
        pts = [r.points for r in self.credit_rules] or [0]
        return min(pts), max(pts)

    @property
    def estimated_seconds(self) -> tuple[int, int] | None:
        """The EET tag ("150~210s") as a range, if present."""
        raw = self.tags.get("EET", "").strip().rstrip("sS")
        lo, sep, hi = raw.partition("~")
        if not sep or not lo.strip().isdigit() or not hi.strip().isdigit():
            return None
        return int(lo), int(hi)
