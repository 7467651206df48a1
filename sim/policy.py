"""Server-side rules of the simulated API, read from ``sim/data/policy.json``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from core.types import TaskType

_POLICY_PATH = Path(__file__).resolve().parent / "data" / "policy.json"


@dataclass(frozen=True, slots=True)
class RejectedValue:
    """An inner param value a model refuses in one category (e.g. SeeDream i2i ``size=adaptive``)."""

    model_id: str
    category: TaskType
    param: str
    value: str
    code: int
    message: str


@dataclass(frozen=True, slots=True)
class Policy:
    subscription_models: frozenset[str]
    engine_param_models: frozenset[str]  # models whose inner ``model`` must name a known engine
    rejected_values: tuple[RejectedValue, ...]
    input_images: Mapping[TaskType, tuple[int, int | None]]  # (minimum, maximum or None)
    messages: Mapping[int, str]

    @classmethod
    def load(cls, path: Path = _POLICY_PATH) -> Policy:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            subscription_models=frozenset(raw["subscription_models"]),
            engine_param_models=frozenset(raw["engine_param_models"]),
            rejected_values=tuple(RejectedValue(**{**item, "category": TaskType(item["category"])})
                                  for item in raw["rejected_values"]),
            input_images=MappingProxyType({TaskType(name): (low, high)
                                           for name, (low, high) in raw["input_images"].items()}),
            messages=MappingProxyType({int(k): v for k, v in raw["messages"].items()}),
        )


POLICY = Policy.load()
