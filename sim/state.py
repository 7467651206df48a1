"""Live simulator state, owned by one app instance (``app.state.sim``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.clock import Clock
from core.types import TaskType
from sim.catalog import Catalog, SimLeaf
from sim.config import SimConfig
from sim.faults import ArmedFault, FaultSpec
from sim.pricing import param_equals

if TYPE_CHECKING:
    from starlette.requests import Request


@dataclass
class KeyAccount:
    balance: int
    subscription: bool


@dataclass
class SimTask:
    id: str
    biz_id: str
    key: str
    task_type: TaskType
    leaf: SimLeaf
    payload: Mapping[str, Any]
    inner: Mapping[str, Any]
    n: int
    points: int
    created_at: float
    finish_after: float
    outcome: FaultSpec | None = None
    detail_calls: int = 0
    empty_url_served: int = 0


@dataclass
class StoredUpload:
    content: bytes
    content_type: str


@dataclass
class SimState:
    config: SimConfig
    clock: Clock
    catalog: Catalog
    tasks: list[SimTask] = field(default_factory=list)
    keys: dict[str, KeyAccount] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    faults: list[ArmedFault] = field(default_factory=list)
    issued_uploads: dict[str, int] = field(default_factory=dict)  # object key -> expiry (epoch s)
    uploads: dict[str, StoredUpload] = field(default_factory=dict)
    sequence: int = 0
    by_id: dict[str, SimTask] = field(default_factory=dict)  # O(1) lookups at 10,000+ tasks (benchmarks)

    def __post_init__(self) -> None:
        self.faults = [ArmedFault(spec) for spec in self.config.faults]

    def reset(self) -> None:
        self.tasks.clear()
        self.by_id.clear()
        self.keys.clear()
        self.calls.clear()
        self.issued_uploads.clear()
        self.uploads.clear()
        self.sequence = 0
        self.faults = [ArmedFault(spec) for spec in self.config.faults]

    def next_number(self) -> int:
        self.sequence += 1
        return self.sequence

    def account(self, key: str) -> KeyAccount:
        if key not in self.keys:
            self.keys[key] = KeyAccount(self.config.default_balance, self.config.default_subscription)
        return self.keys[key]

    def add_task(self, task: SimTask) -> None:
        self.tasks.append(task)
        self.by_id[task.id] = task

    def task(self, task_id: str) -> SimTask | None:
        return self.by_id.get(task_id)

    def set_faults(self, specs: list[FaultSpec], *, replace: bool) -> None:
        armed = [ArmedFault(spec) for spec in specs]
        self.faults = armed if replace else [*self.faults, *armed]

    def take_fault(self, route: str, *, outcome: bool, params: Mapping[str, Any] | None = None,
                   models: tuple[str, ...] = (), url: str | None = None) -> FaultSpec | None:
        """The first live fault for this route, consumed (one firing)."""
        for armed in self.faults:
            spec = armed.spec
            if armed.exhausted or not (spec.route == route or (spec.route == "any" and not outcome)):
                continue
            if spec.is_outcome_fault != outcome or (not outcome and not spec.is_response_fault):
                continue
            if spec.model is not None and not set(spec.model.split(",")) & set(models):
                continue
            if spec.when is not None and (params is None or not param_equals(params, *spec.when)):
                continue
            if spec.match is not None and (url is None or spec.match not in url):
                continue
            armed.consume()
            return spec
        return None


def sim_state(request: Request) -> SimState:
    """The simulator state of the app serving ``request``."""
    state: SimState = request.app.state.sim
    return state
