"""The transient-error backoff of status polls (pure functions, no I/O); the schedule itself follows
each model's learned durations (``core.timing.schedule``).

Transient errors back off exponentially with jitter drawn from a caller-supplied RNG (seeded from the
clock in production), and a server's Retry-After always wins when it is longer.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from random import Random


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    max_delay_s: float
    max_consecutive_failures: int
    sparse_max_s: float


@cache
def _table() -> dict[str, dict[str, float]]:
    raw = resources.files("core.data").joinpath("polling.toml").read_text(encoding="utf-8")
    return tomllib.loads(raw)


def backoff_policy() -> BackoffPolicy:
    row = _table()["backoff"]
    return BackoffPolicy(float(row["max_delay_s"]), int(row["max_consecutive_failures"]),
                         float(row["sparse_max_s"]))


def transient_delay(failures: int, interval_s: float, rng: Random, retry_after_s: float | None = None,
                    policy: BackoffPolicy | None = None) -> float:
    """Backoff after the ``failures``-th consecutive transient error (1-based), from the model's poll
    interval."""
    policy = policy or backoff_policy()
    base = min(policy.max_delay_s, interval_s * 2 ** max(0, failures - 1))
    delay: float = base * (0.5 + rng.random() / 2)  # "equal jitter": never less than half the base
    if retry_after_s is not None and retry_after_s > delay:
        delay = min(retry_after_s, policy.max_delay_s * 5)
    return delay

