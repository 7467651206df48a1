from __future__ import annotations

import itertools
from random import Random

from core.catalog.models import ModelCatalog
from core.pipeline.polling import PollTiming, next_poll_delay, transient_delay
from core.types import MediaType


def video(eta: tuple[int, int]) -> PollTiming:
    return PollTiming(interval_s=8, max_wait_s=2400, progress_every_s=30, eta_min_s=eta[0], eta_max_s=eta[1])


def test_media_caps_follow_the_facts() -> None:
    catalog = ModelCatalog.load_default()
    expected = {MediaType.VIDEO: (8, 2400), MediaType.IMAGE: (5, 600), MediaType.MUSIC: (5, 480),
                MediaType.SPEECH: (3, 300)}
    for media, (interval, cap) in expected.items():
        timing = catalog.timing_for(None, media)
        assert (timing.poll_interval_s, timing.max_wait_s) == (interval, cap)


def _schedule(eta: tuple[int, int], until: float) -> list[float]:
    timing = video(eta)
    t, times = 0.0, []
    while t < until:
        t += next_poll_delay(t, timing)
        times.append(t)
    return times


def test_polls_are_sparse_far_below_the_minimum_estimate_and_dense_near_it() -> None:
    times = _schedule((120, 300), 200)
    early = [t for t in times if t < 80]
    late = [t for t in times if t >= 100]
    assert len(early) <= 3  # naive 8 s polling would make 10
    gaps = [b - a for a, b in itertools.pairwise(late)]
    assert gaps and all(g == 8 for g in gaps)


def test_adaptive_schedule_uses_fewer_polls_than_fixed_interval() -> None:
    assert len(_schedule((120, 300), 300)) <= 300 // 8 - 7


def test_no_sleep_past_the_hard_cap() -> None:
    timing = PollTiming(interval_s=3, max_wait_s=300, progress_every_s=10, eta_min_s=5, eta_max_s=30)
    assert next_poll_delay(299.0, timing) == 1.0
    assert next_poll_delay(300.0, timing) == 0.0


def test_transient_backoff_grows_with_jitter_and_is_capped() -> None:
    timing = video((60, 120))
    rng = Random(7)
    delays = [transient_delay(n, timing, rng) for n in range(1, 10)]
    assert 4 <= delays[0] <= 8
    assert 8 <= delays[1] <= 16
    assert all(d <= 120 for d in delays)
    assert max(delays) >= 60


def test_retry_after_wins_when_longer() -> None:
    timing = PollTiming(interval_s=5, max_wait_s=600, progress_every_s=15, eta_min_s=20, eta_max_s=40)
    assert transient_delay(1, timing, Random(1), retry_after_s=42.0) == 42.0
    assert transient_delay(1, timing, Random(1), retry_after_s=0.1) < 5.1
