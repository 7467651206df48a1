"""The adaptive polling schedule and the transient-error backoff (pure functions, no I/O).

Polling is sparse while a task is far below its model's minimum estimated time (nothing can be ready
yet), then follows the model's interval near and after the estimate. Transient errors back off
exponentially with jitter drawn from a caller-supplied RNG (seeded from the clock in production), and
a server's Retry-After always wins when it is longer.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from random import Random


@dataclass(frozen=True, slots=True)
class PollTiming:
    """One job's schedule: the model's poll interval and progress cadence, the media type's hard cap
    and the estimated time range (all seconds)."""

    interval_s: float
    max_wait_s: float
    progress_every_s: float
    eta_min_s: float
    eta_max_s: float


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    max_delay_s: float
    max_consecutive_failures: int
    near_fraction: float
    sparse_max_s: float


@cache
def _table() -> dict[str, dict[str, float]]:
    raw = resources.files("core.data").joinpath("polling.toml").read_text(encoding="utf-8")
    return tomllib.loads(raw)


def backoff_policy() -> BackoffPolicy:
    row = _table()["backoff"]
    return BackoffPolicy(float(row["max_delay_s"]), int(row["max_consecutive_failures"]),
                         float(row["near_fraction"]), float(row["sparse_max_s"]))


def next_poll_delay(elapsed_s: float, timing: PollTiming, policy: BackoffPolicy | None = None) -> float:
    """Seconds to wait before the next status poll, ``elapsed_s`` after the task was created."""
    policy = policy or backoff_policy()
    near = timing.eta_min_s * policy.near_fraction
    if elapsed_s + timing.interval_s >= near:
        delay = timing.interval_s
    else:
        sparse = max(timing.interval_s, (near - elapsed_s) / 2)
        delay = min(sparse, max(policy.sparse_max_s, timing.interval_s))
    # Never sleep past the hard cap: the last check happens right at the deadline.
    remaining = timing.max_wait_s - elapsed_s
    return max(0.0, min(delay, remaining))


def transient_delay(failures: int, timing: PollTiming, rng: Random, retry_after_s: float | None = None,
                    policy: BackoffPolicy | None = None) -> float:
    """Backoff after the ``failures``-th consecutive transient error (1-based)."""
    policy = policy or backoff_policy()
    base = min(policy.max_delay_s, timing.interval_s * 2 ** max(0, failures - 1))
    delay: float = base * (0.5 + rng.random() / 2)  # "equal jitter": never less than half the base
    if retry_after_s is not None and retry_after_s > delay:
        delay = min(retry_after_s, policy.max_delay_s * 5)
    return delay

