"""How long generations really take: a learned duration distribution per model and the parameters that
change it (duration, resolution), seeded from the catalog's estimate until real jobs have finished.

``DurationBook`` is the in-memory table the runner asks (O(log K) per question, K ≤ ``keep`` samples per
key, never O(jobs)); ``DurationStore`` is where finished jobs' durations are kept across restarts.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from random import Random
from statistics import NormalDist
from typing import Any, Protocol

SEED_POINTS = 5  # the catalog's range counts as this many observations; each real one replaces one
KEEP_PER_KEY = 100  # most recent observations per key (the distribution follows IMA getting faster/slower)
MIN_OWN = 3  # observations a (model, duration, resolution) key needs before it stops borrowing the model's


@dataclass(frozen=True, slots=True)
class DurationKey:
    model_id: str
    duration: str = ""  # the requested clip length ("5", "10"), "" when not asked / not applicable
    resolution: str = ""  # "720P", "1080P", ...; "" when not asked

    @classmethod
    def of(cls, model_id: str, params: Mapping[str, Any]) -> DurationKey:
        return cls(model_id, str(params.get("duration") or ""), str(params.get("resolution") or "").upper())

    @property
    def model_only(self) -> DurationKey:
        return DurationKey(self.model_id)


class DurationStore(Protocol):
    async def record(self, key: DurationKey, seconds: float, finished_at: float) -> None:
        """Keep one finished job's generation time (submit to result)."""
        ...

    async def recent(self, per_key: int) -> Mapping[DurationKey, Sequence[float]]:
        """The newest ``per_key`` durations of every key, oldest first."""
        ...


@dataclass(frozen=True, slots=True)
class DurationProfile:
    """A duration distribution as sorted samples with suffix sums (for E[T | T > t] in O(log K))."""

    samples: tuple[float, ...]
    suffix: tuple[float, ...]  # suffix[i] = sum(samples[i:])
    observed: int  # how many of the samples are real (the rest are the catalog's seed points)
    # waited[k - 1]: the longest mean wait, max over j <= k of samples[j] - mean(samples[:j]), of the jobs a
    # poll just before samples[j] would find finished (non-decreasing, so ``catch_time`` can bisect it)
    waited: tuple[float, ...]
    log_mean: float = 0.0  # a lognormal fitted to the samples (mean and deviation of their logarithms)
    log_sd: float = 0.0

    @classmethod
    def of(cls, values: Sequence[float], observed: int = 0) -> DurationProfile:
        samples = tuple(sorted(v for v in values if v > 0)) or (60.0,)
        suffix = [0.0] * (len(samples) + 1)
        for i in range(len(samples) - 1, -1, -1):
            suffix[i] = suffix[i + 1] + samples[i]
        waited, longest = [], 0.0
        for k in range(1, len(samples)):
            longest = max(longest, samples[k] - (suffix[0] - suffix[k]) / k)
            waited.append(longest)
        logs = [math.log(v) for v in samples]
        log_mean = sum(logs) / len(logs)  # not statistics.pstdev: its exact arithmetic costs 10x more
        log_sd = math.sqrt(sum((x - log_mean) ** 2 for x in logs) / len(logs))
        return cls(samples, tuple(suffix), observed, tuple(waited), log_mean, log_sd)

    @classmethod
    def seeded(cls, eta_min_s: float, eta_max_s: float, points: int = SEED_POINTS) -> DurationProfile:
        lo, hi = sorted((max(1.0, eta_min_s), max(1.0, eta_max_s)))
        return cls.of([lo + (hi - lo) * (i + 0.5) / points for i in range(points)])

    def quantile(self, q: float) -> float:
        index = min(len(self.samples) - 1, max(0, round(q * (len(self.samples) - 1))))
        return self.samples[index]

    @property
    def median(self) -> float:
        return self.quantile(0.5)

    def catch_time(self, lag_s: float) -> float:
        """The latest time a first poll can come while the jobs it finds finished have waited at most
        ``lag_s`` on average: the first t with t - E[T | T <= t] = lag_s. Late for a narrow distribution
        (most jobs are found by that one poll), early for a wide one."""
        caught = bisect.bisect_right(self.waited, lag_s) + 1  # samples at or before the answer
        return (self.suffix[0] - self.suffix[caught]) / caught + lag_s

    def censored(self, running_at_s: float, found_at_s: float, rng: Random) -> float:
        """What to learn from a job a poll saw still running ``running_at_s`` after the create call (0: no
        poll did) and the next one found finished at ``found_at_s``: it finished somewhere in between.
        Learning ``found_at_s`` adds each poll's lateness to the distribution, which moves the next first
        poll later, which adds more lateness (a replay of 1,000 10-s speech jobs learned 20 s). Drawing
        one of the samples inside the window instead collapses the distribution onto a few values in the
        long run. So: a draw inside the window from a lognormal fitted to the samples (continuous, keeps a
        spread, follows the data where the windows are narrow); when the window lies where the fit has no
        mass, its middle, or ``found_at_s`` when nothing was seen running (the only bound known)."""
        if self.log_sd > 0:
            fit = NormalDist(self.log_mean, self.log_sd)
            low = fit.cdf(math.log(running_at_s)) if running_at_s > 0 else 0.0
            high = fit.cdf(math.log(found_at_s)) if found_at_s > 0 else 0.0
            if high - low > 1e-9:
                u = min(1 - 1e-12, max(1e-12, low + rng.random() * (high - low)))
                return math.exp(fit.inv_cdf(u))
        return (running_at_s + found_at_s) / 2 if running_at_s > 0 else found_at_s

    def expected_finish(self, elapsed_s: float) -> float:
        """E[T | T > elapsed]: the likely finish of a job still running after ``elapsed_s``, and always at
        least a margin ahead (past every sample the job is late and we do not know by how much)."""
        i = bisect.bisect_right(self.samples, elapsed_s)
        later = len(self.samples) - i
        margin = max(2.0, 0.05 * elapsed_s, 0.25 * (self.samples[-1] - self.samples[0]))
        return max(self.suffix[i] / later if later else 0.0, elapsed_s + margin)


class DurationBook:
    """Learned durations in memory, loaded from a store at start and appended to as jobs finish."""

    def __init__(self, store: DurationStore | None = None, keep: int = KEEP_PER_KEY) -> None:
        self._store = store
        self._keep = keep
        self._seen: dict[DurationKey, list[float]] = {}
        # model id -> (key, eta range) -> profile; a model's entries are dropped when it learns something
        self._cache: dict[str, dict[tuple[DurationKey, float, float], DurationProfile]] = {}

    async def load(self) -> None:
        if self._store is None:
            return
        for key, values in (await self._store.recent(self._keep)).items():
            for seconds in values:
                self.remember(key, seconds)

    async def record(self, key: DurationKey, seconds: float, finished_at: float) -> None:
        if seconds <= 0:
            return
        self.remember(key, seconds)
        if self._store is not None:
            await self._store.record(key, seconds, finished_at)

    def remember(self, key: DurationKey, seconds: float) -> None:
        """Learn one duration in memory only (``record`` also stores it)."""
        for k in {key, key.model_only}:
            values = self._seen.setdefault(k, [])
            values.append(seconds)
            if len(values) > self._keep:
                del values[0]
        self._cache.pop(key.model_id, None)

    def profile(self, key: DurationKey, eta_s: tuple[float, float]) -> DurationProfile:
        """The key's own observations once it has a few, else the model's, else the catalog's range;
        always with the seed points mixed in (they fade as observations accumulate)."""
        by_model = self._cache.setdefault(key.model_id, {})
        cached = by_model.get((key, *eta_s))
        if cached is not None:
            return cached
        own = self._seen.get(key, [])
        observed = own if len(own) >= MIN_OWN else self._seen.get(key.model_only, [])
        seeds = SEED_POINTS - len(observed)
        seed = DurationProfile.seeded(*eta_s, points=seeds).samples if seeds > 0 else ()
        profile = DurationProfile.of([*seed, *observed], observed=len(observed))
        by_model[(key, *eta_s)] = profile
        return profile
