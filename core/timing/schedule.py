"""When to poll and what progress to show, from a job's learned duration distribution (pure functions).

Polls are sparse before the likely finish (nothing can be ready: jumps of at most ``sparse_max_s``), the
first one where the jobs it finds finished have waited the lag budget on average (near the median of a
narrow distribution: a 10-25 s music job is usually found by that one poll; early for a wide one, never
before the early quantile less ``lead_s``), dense after it (every ``dense_s`` = twice the lag budget,
never more often than the seeds' fixed interval), and thin out again slowly in the tail. Every delay
then carries ±``jitter`` (default 15 %) so jobs created together do not poll in lockstep. A share of
first polls (``probe_share``) comes at the median instead: the distribution is learned from what polls
see (``DurationProfile.censored``), and only polls that sometimes come early can see that it is too late.

Progress is time against the expected finish: ``elapsed / E[T | T > elapsed]``. Before the likely finish
it moves like a clock; past the median it slows (a still-running job is probably a slow one); it never
reaches 100 before the result is there and keeps the seeds' 95 % cap.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from random import Random
from typing import Any

from core.timing.durations import DurationProfile
from core.types import MediaType

PROGRESS_CAP = 95
EARLY_QUANTILE = 0.05  # the first poll never lands before this quantile of the learned durations
LATE_QUANTILE = 0.95  # past it, polls thin out again


@dataclass(frozen=True, slots=True)
class PollBounds:
    """The seeds' fixed interval (the densest we poll), our dense interval near the likely finish (twice
    the mean delivery lag we aim at), the sparsest gap, the hard cap, how far before the early quantile
    the first poll may come and the jitter fraction."""

    official_s: float
    dense_s: float
    sparse_max_s: float
    max_wait_s: float
    lead_s: float = 0.0  # the first poll lands this long before the early quantile
    jitter: float = 0.15
    # This share of jobs is first polled at the median instead (when that is earlier): a poll that finds a
    # job finished cannot tell how long ago it finished, so without polls that sometimes come early a
    # distribution learned too late would look right and stay there (every job found by one late poll).
    probe_share: float = 0.0

    @property
    def lag_s(self) -> float:
        """The mean delivery lag the dense interval stands for (a finish is found half an interval late)."""
        return self.dense_s / 2


def next_poll_delay(elapsed_s: float, profile: DurationProfile, bounds: PollBounds, rng: Random) -> float:
    """Seconds until the next status poll, ``elapsed_s`` after the task was created."""
    early, late = profile.quantile(EARLY_QUANTILE) - bounds.lead_s, profile.quantile(LATE_QUANTILE)
    # The first poll waits as long as the lag budget allows for the jobs it finds: with a narrow
    # distribution that is near the median (one poll finds most jobs), with a wide one the early quantile.
    first = max(early, profile.catch_time(bounds.lag_s))
    if elapsed_s <= 0 and bounds.probe_share > 0 and rng.random() < bounds.probe_share:
        first = min(first, max(early, profile.median))
    # A narrow distribution is covered with a few close polls; a wide one at ``dense_s``.
    dense = max(bounds.official_s, min(bounds.dense_s, (late - early) / 2))
    spread = 1 + bounds.jitter * (2 * rng.random() - 1)
    if elapsed_s + dense < first:
        gap = first - elapsed_s
        jumps = math.ceil(gap / bounds.sparse_max_s)
        if jumps > 1:  # equal jumps: the last is long enough for its jitter to spread jobs created together
            delay = gap / jumps * spread
        elif elapsed_s <= 0 and first > early:  # one jump to the lag budget: on it on average
            delay = gap * spread
        else:  # the last of several jumps, or one to the earliest finish, lands before it whatever its jitter
            delay = max(bounds.official_s, gap / (1 + bounds.jitter)) * spread
    elif elapsed_s <= late:
        delay = dense * spread
    else:  # a slow one: keep looking, less often the later it gets
        delay = min(bounds.sparse_max_s, max(dense, (elapsed_s - late) / 4)) * spread
    return max(0.0, min(delay, bounds.max_wait_s - elapsed_s))


@dataclass(frozen=True, slots=True)
class PollPlan:
    """One job's timing: its learned distribution, its poll bounds and its status cadence."""

    profile: DurationProfile
    bounds: PollBounds
    status_every_s: float

    def next_delay(self, elapsed_s: float, rng: Random) -> float:
        return next_poll_delay(elapsed_s, self.profile, self.bounds, rng)

    def percent(self, elapsed_s: float) -> int:
        return progress_percent(elapsed_s, self.profile)


def progress_percent(elapsed_s: float, profile: DurationProfile) -> int:
    if elapsed_s <= 0:
        return 0
    expected = profile.expected_finish(elapsed_s)
    return max(0, min(PROGRESS_CAP, int(elapsed_s * 100 // expected)))


def remaining_s(elapsed_s: float, profile: DurationProfile) -> float:
    """The expected time left (for an ETA line)."""
    return max(0.0, profile.expected_finish(elapsed_s) - elapsed_s)


@cache
def _table() -> dict[str, Any]:
    raw = resources.files("core.data").joinpath("polling.toml").read_text(encoding="utf-8")
    table: dict[str, Any] = tomllib.loads(raw)["schedule"]
    return table


def poll_bounds(media_type: MediaType, official_s: float, sparse_max_s: float,
                max_wait_s: float) -> PollBounds:
    """The media type's schedule (``polling.toml`` [schedule.*]) around the seeds' interval and caps."""
    table = _table()
    row = table[media_type.value]
    return PollBounds(official_s=official_s, dense_s=2 * float(row["lag_s"]), sparse_max_s=sparse_max_s,
                      max_wait_s=max_wait_s, lead_s=float(row["lead_s"]), jitter=float(table["jitter"]),
                      probe_share=float(table["probe_share"]))


def status_every_s(model_cadence_s: float) -> float:
    """How often a running job's status message is updated: the model's cadence, never sparser than
    ``status_max_gap_s``."""
    return min(model_cadence_s, float(_table()["status_max_gap_s"]))
