"""Polls per task, delivery lag and progress error of the poll schedule and progress model, per media type,
on a realistic mix of generation times (issue #16 items 3-4). Pure computation, deterministic (seeded).

For every catalog model a "true" median generation time is drawn inside its catalog range (in each of
``--worlds`` independent worlds: with a single draw per model, a media type's figure rests on the luck of
two or three draws) and each job's time is lognormal around it (σ = ``--spread``; several values give
one table each). With ``--slow-share P`` that share of jobs (warm-up and measured alike) also waits a
queue hiccup of one to two medians: a heavier right tail than a lognormal. Jobs run one after another
from a fresh book (the catalog's range as the seed), each teaching the next what ``--learn`` says: by
default what the runner learns (``censored``: a time between the last poll that saw the job running and
the one that found it; IMA does not say when a task finished), ``seen`` the finding poll itself (what the
runner learned before 2026-12-07: it ratchets), ``true`` the real time (the ideal). The first
``--warmup`` jobs per model and world are not measured, the next ``--jobs`` are:
- polls per task and mean / 90th-percentile delivery lag (first poll at or after the finish, minus the
  finish), for the fixed interval and the learned schedule. The fixed baseline is each model's own
  interval from the seeds' tables (Midjourney 8 s among 5-s images), polling at 1, 2, 3 … intervals
  after the create call. The seeds' example scripts also poll once right after the create call; that poll is
  NOT counted (counting it would add one poll per task to the baseline and flatter the cut);
- mean |shown % − true %| over every status update while running (true % = elapsed / actual × 100), for
  the previous static formula (elapsed / estimated max, capped at 95) and the learned progress model.

Run: ``.venv/bin/python -m bench.poll_schedule [--spread 0.2 0.3] [--per-model] [--learn true]``.
Reported, not asserted.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
from collections import defaultdict
from collections.abc import Callable
from random import Random

from core.catalog.models import ModelCatalog
from core.pipeline.polling import backoff_policy
from core.timing.durations import DurationBook, DurationKey, DurationProfile
from core.timing.schedule import PollBounds, next_poll_delay, poll_bounds, progress_percent
from core.ux.renderer import progress_percent as static_percent

STATUS_EVERY_S = 10.0
Stats = dict[str, list[float]]


def polls_until(finish: float, delay_at: Callable[[float], float],
                max_wait: float) -> tuple[int, float, float]:
    """Polls until one finds the job finished: how many, how late that one was, and when the last one
    that saw it still running came (0 when none did)."""
    t, polls, running_at = 0.0, 0, 0.0
    while True:
        t += delay_at(t)
        polls += 1
        if t >= finish or t >= max_wait:
            return polls, t - finish, running_at
        running_at = t


def job_times(rng: Random, median: float, spread: float, slow_share: float, count: int) -> list[float]:
    times = []
    for _ in range(count):
        seconds = median * math.exp(rng.gauss(0, spread))
        if slow_share and rng.random() < slow_share:
            seconds += median * rng.uniform(1.0, 2.0)
        times.append(seconds)
    return times


def learned_value(learn: str, profile: DurationProfile, finish: float, running_at: float, found_at: float,
                  rng: Random) -> float:
    """What the bot learns from a finished job: its real time (``true``, which IMA does not tell), the
    poll that found it (``seen``, what the runner learned until 2026-12-07) or a sample of the learned
    distribution between the last poll that saw it running and that one (``censored``, the runner now)."""
    if learn == "true":
        return finish
    if learn == "seen":
        return found_at
    return profile.censored(running_at, found_at, rng)


def measure(spread: float, *, worlds: int = 20, jobs: int = 100, warmup: int = 30, slow_share: float = 0.0,
            per_model: bool = False, seed: int = 7, learn: str = "censored") -> dict[str, Stats]:
    """Per group (media type, and model with ``per_model``): lists of per-job figures over ``worlds``
    draws of every model's true median (one draw alone makes a media type's figure a matter of luck).
    Jobs run one after another from a fresh book and each teaches it what ``learn`` says (the schedule
    of the next one follows); the first ``warmup`` are not measured."""
    rng, jitter, imputing = Random(seed), Random(seed + 1), Random(seed + 2)
    catalog = ModelCatalog.load_default()
    stats: dict[str, Stats] = defaultdict(lambda: defaultdict(list))
    policy = backoff_policy()
    for info, _world in itertools.product(catalog.models, range(worlds)):
        media = info.media_type
        timing = catalog.timing_for(info.model_id, media)
        lo, hi = timing.eta_s
        median = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        draws = job_times(rng, median, spread, slow_share, warmup + jobs)
        book, key = DurationBook(), DurationKey(info.model_id)
        bounds = poll_bounds(media, timing.poll_interval_s, policy.sparse_max_s, timing.max_wait_s)
        groups = [stats[media.value]] + ([stats[f"  {info.model_id}"]] if per_model else [])

        def fixed(_t: float, interval: float = timing.poll_interval_s) -> float:
            return interval

        for index, finish in enumerate(draws):
            learned = book.profile(key, (lo, hi))

            def adaptive(t: float, b: PollBounds = bounds, p: DurationProfile = learned) -> float:
                return next_poll_delay(t, p, b, jitter)

            polls, lag, running_at = polls_until(finish, adaptive, timing.max_wait_s)
            book.remember(key, learned_value(learn, learned, finish, running_at, finish + lag, imputing))
            if index < warmup:
                continue
            fixed_polls, fixed_lag, _ = polls_until(finish, fixed, timing.max_wait_s)
            row = {"fixed polls": fixed_polls, "fixed lag": fixed_lag, "learned polls": polls,
                   "learned lag": lag}
            for s in groups:
                for name, value in row.items():
                    s[name].append(value)
            t = STATUS_EVERY_S
            while t < finish:
                true = t / finish * 100
                for s in groups:
                    s["static err"].append(abs(static_percent(t, hi) - true))
                    s["learned err"].append(abs(progress_percent(t, learned) - true))
                t += STATUS_EVERY_S
    return stats


def report(stats: dict[str, Stats], spread: float, slow_share: float, learn: str = "censored") -> None:
    tail = f", {slow_share:.0%} of jobs with a queue hiccup" if slow_share else ""
    print(f"σ = {spread}{tail}, learning {learn}")
    print(f"{'media':<24} {'fixed polls':>11} {'learned':>8} {'vs fixed':>9} "
          f"{'fixed lag':>9} {'lag':>6} {'p90 lag':>7} {'static err':>10} {'learned err':>11}")
    all_static: list[float] = []
    all_learned: list[float] = []
    for group, s in stats.items():
        mean = {k: statistics.fmean(v) for k, v in s.items()}
        cut = 1 - mean["learned polls"] / mean["fixed polls"]
        p90 = statistics.quantiles(s["learned lag"], n=10)[-1]
        print(f"{group:<24} {mean['fixed polls']:>11.1f} {mean['learned polls']:>8.1f} {-cut:>+9.0%} "
              f"{mean['fixed lag']:>9.1f} {mean['learned lag']:>6.1f} {p90:>7.1f} "
              f"{mean.get('static err', math.nan):>10.1f} {mean.get('learned err', math.nan):>11.1f}")
        if not group.startswith(" "):
            all_static += s["static err"]
            all_learned += s["learned err"]
    print(f"progress error over the whole mix: static {statistics.fmean(all_static):.1f} points, "
          f"learned {statistics.fmean(all_learned):.1f} points\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worlds", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--spread", type=float, nargs="+", default=[0.2, 0.3])
    parser.add_argument("--slow-share", type=float, default=0.0)
    parser.add_argument("--per-model", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--learn", choices=["censored", "seen", "true"], default="censored",
                        help="what a finished job teaches: a sample between the last poll that saw it "
                             "running and the one that found it (the runner), that poll (the runner until "
                             "2026-12-07), or its real time (which IMA does not report)")
    args = parser.parse_args(argv)
    for spread in args.spread:
        stats = measure(spread, worlds=args.worlds, jobs=args.jobs, warmup=args.warmup,
                        slow_share=args.slow_share, per_model=args.per_model, seed=args.seed,
                        learn=args.learn)
        report(stats, spread, args.slow_share, args.learn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
