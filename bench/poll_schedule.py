"""Polls per task, delivery lag and progress error of the poll schedule and progress model, per media type,
on a realistic mix of generation times (issue #16 items 3-4). Pure computation, deterministic (seeded).

For every catalog model a "true" median generation time is drawn inside its catalog range and each job's
time is lognormal around it (σ = ``--spread``). The bot learns from ``--warmup`` finished jobs per model,
then ``--jobs`` jobs per model are measured:
- polls per task and mean delivery lag (first poll at or after the finish, minus the finish), for the
  official fixed interval per media type and the learned schedule;
- mean |shown % − true %| over every status update while running (true % = elapsed / actual × 100), for
  the previous static formula (elapsed / estimated max, capped at 95) and the learned progress model.

Run: ``.venv/bin/python -m bench.poll_schedule``. Reported, not asserted.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections import defaultdict
from random import Random

from core.catalog.models import ModelCatalog
from core.pipeline.polling import backoff_policy
from core.timing.durations import DurationBook, DurationKey
from core.timing.schedule import next_poll_delay, poll_bounds, progress_percent
from core.types import MediaType
from core.ux.renderer import progress_percent as static_percent

OFFICIAL = {MediaType.VIDEO: 8.0, MediaType.IMAGE: 5.0, MediaType.MUSIC: 5.0, MediaType.SPEECH: 3.0}
STATUS_EVERY_S = 10.0


def polls_until(finish: float, delay_at: object, max_wait: float) -> tuple[int, float]:
    t, polls = 0.0, 0
    while True:
        t += delay_at(t)  # type: ignore[operator]
        polls += 1
        if t >= finish or t >= max_wait:
            return polls, t - finish


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--spread", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng, jitter = Random(args.seed), Random(args.seed + 1)
    catalog = ModelCatalog.load_default()
    stats: dict[MediaType, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    policy = backoff_policy()
    for info in catalog.models:
        media = info.media_type
        timing = catalog.timing_for(info.model_id, media)
        lo, hi = timing.eta_s
        median = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        draws = [median * math.exp(rng.gauss(0, args.spread)) for _ in range(args.warmup + args.jobs)]
        book = DurationBook()
        for seconds in draws[:args.warmup]:
            book.remember(DurationKey(info.model_id), seconds)
        learned = book.profile(DurationKey(info.model_id), (lo, hi))
        bounds = poll_bounds(media, timing.poll_interval_s, policy.sparse_max_s, timing.max_wait_s)
        s = stats[media]
        for finish in draws[args.warmup:]:
            for name, delay_at in (
                ("fixed", lambda _t, m=media: OFFICIAL[m]),
                ("learned", lambda t, b=bounds, p=learned: next_poll_delay(t, p, b, jitter)),
            ):
                polls, lag = polls_until(finish, delay_at, timing.max_wait_s)
                s[f"{name} polls"].append(polls)
                s[f"{name} lag"].append(lag)
            t = STATUS_EVERY_S
            while t < finish:
                true = t / finish * 100
                s["static err"].append(abs(static_percent(t, hi) - true))
                s["learned err"].append(abs(progress_percent(t, learned) - true))
                t += STATUS_EVERY_S
    print(f"{'media':<7} {'fixed polls':>11} {'learned':>8} {'vs fixed':>9} "
          f"{'fixed lag':>9} {'lag':>6} {'static err':>10} {'learned err':>11}")
    all_static: list[float] = []
    all_learned: list[float] = []
    for media, s in stats.items():
        mean = {k: statistics.fmean(v) for k, v in s.items()}
        cut = 1 - mean["learned polls"] / mean["fixed polls"]
        print(f"{media.value:<7} {mean['fixed polls']:>11.1f} {mean['learned polls']:>8.1f} {-cut:>+9.0%} "
              f"{mean['fixed lag']:>9.1f} {mean['learned lag']:>6.1f} {mean['static err']:>10.1f} "
              f"{mean['learned err']:>11.1f}")
        all_static += s["static err"]
        all_learned += s["learned err"]
    print(f"progress error over the whole mix: static {statistics.fmean(all_static):.1f} points, "
          f"learned {statistics.fmean(all_learned):.1f} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
