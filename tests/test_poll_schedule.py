"""The learned poll schedule and the progress model (pure functions; no clock, no sleeping)."""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from dataclasses import replace
from random import Random

import pytest

from core.timing.durations import DurationBook, DurationKey, DurationProfile
from core.timing.schedule import PollBounds, next_poll_delay, poll_bounds, progress_percent
from core.types import MediaType

VIDEO = PollBounds(official_s=8.0, dense_s=8.0, sparse_max_s=60.0, max_wait_s=2400.0, lead_s=4.0)
SPEECH = PollBounds(official_s=3.0, dense_s=7.5, sparse_max_s=60.0, max_wait_s=300.0)
MUSIC = PollBounds(official_s=5.0, dense_s=7.5, sparse_max_s=60.0, max_wait_s=480.0)


def _polls(finish: float, profile: DurationProfile, bounds: PollBounds, rng: Random) -> list[float]:
    times, t = [], 0.0
    while t < finish and t < bounds.max_wait_s:
        t += next_poll_delay(t, profile, bounds, rng)
        times.append(t)
    return times


def test_polls_are_sparse_before_the_likely_finish_and_dense_around_it() -> None:
    profile = DurationProfile.of([100, 105, 110, 115, 120, 125, 130])
    times = _polls(140, profile, VIDEO, Random(1))
    before = [t for t in times if t < 96]  # p10 (100) minus the lead (4)
    around = [b - a for a, b in itertools.pairwise(times) if a >= 100]
    assert len(before) <= 2  # one jump of at most 60 s, then straight to just before the likely finish
    assert all(6.8 <= gap <= 9.2 for gap in around)  # dense: 8 s ± 15 %
    assert times[-1] - 140 < 9.2  # the result is seen within one dense interval


def test_the_first_poll_waits_until_the_jobs_it_finds_have_waited_the_lag_budget_on_average() -> None:
    profile = DurationProfile.of([10, 12, 14, 16, 30])
    assert profile.catch_time(3.5) == 15.5  # finds 10, 12 and 14 done: they waited 5.5, 3.5, 1.5 s
    assert profile.catch_time(5.0) == 18.0  # finds four (mean 13); the fifth is far behind
    assert profile.catch_time(1.0) == 11.0  # a small budget: only the fastest
    assert DurationProfile.of([20, 20, 20]).catch_time(3.0) == 23.0  # no spread: all in one poll


def test_a_narrow_distribution_is_first_polled_near_its_median_a_wide_one_near_its_earliest() -> None:
    narrow = DurationProfile.of([15 * math.exp(0.03 * z) for z in range(-20, 21)])  # 8.2 .. 27.3 s
    target = narrow.catch_time(MUSIC.lag_s)
    assert 13 <= target <= 18  # not 8 s: a poll there would almost never find the job done
    first = [next_poll_delay(0.0, narrow, MUSIC, Random(i)) for i in range(200)]
    assert all(0.85 * target - 1e-9 <= d <= 1.15 * target + 1e-9 for d in first)
    assert abs(statistics.fmean(first) - target) <= 0.03 * target  # on the lag budget on average
    wide = DurationProfile.of([300 * math.exp(0.03 * z) for z in range(-20, 21)])  # 165 .. 547 s
    assert wide.catch_time(VIDEO.lag_s) <= wide.quantile(0.05)  # few would be found: poll early
    early = wide.quantile(0.05) - VIDEO.lead_s
    landed = [130.0 + next_poll_delay(130.0, wide, VIDEO, Random(i)) for i in range(200)]
    assert max(landed) <= early and min(landed) >= 130 + (early - 130) * 0.85 / 1.15 - 1e-9


@pytest.mark.parametrize("median", [12.0, 18.0, 32.0])  # DouBao BGM / Song (10–25 s), Suno (20–45 s)
def test_music_needs_40_percent_fewer_polls_than_every_5_s_with_a_mean_lag_under_4_s(median: float) -> None:
    rng = Random(int(median))
    times = [median * rng.lognormvariate(0, 0.3) for _ in range(430)]
    profile = DurationProfile.of(times[:30], observed=30)  # learned from 30 finished jobs
    polls, lags, fixed = [], [], []
    for finish in times[30:]:
        seen = _polls(finish, profile, MUSIC, rng)
        polls.append(len(seen))
        lags.append(seen[-1] - finish)
        fixed.append(math.ceil(finish / 5))  # the seeds' fixed 5-s interval
    assert statistics.fmean(polls) <= 0.6 * statistics.fmean(fixed)
    assert statistics.fmean(lags) <= 4.0


@pytest.fixture(scope="module")
def catalog_mix() -> dict[str, dict[str, list[float]]]:
    """The catalog's models with polling.toml's schedule on bench.poll_schedule's mix (σ = 0.3, each
    model's true median drawn 10 times in its estimated range; every job teaches the next what the runner
    learns from its polls; the first 30 are not measured, the next 60 are)."""
    from bench.poll_schedule import measure

    return measure(0.3, worlds=10, jobs=60, seed=7)


@pytest.mark.parametrize(("media", "lag_bound"), [("video", 5.0), ("image", 4.0), ("music", 4.0),
                                                  ("speech", 4.0)])
def test_every_media_type_of_the_catalog_polls_40_percent_less_than_its_fixed_interval(
        catalog_mix: dict[str, dict[str, list[float]]], media: str, lag_bound: float) -> None:
    stats = catalog_mix[media]
    assert statistics.fmean(stats["learned polls"]) <= 0.6 * statistics.fmean(stats["fixed polls"])
    assert statistics.fmean(stats["learned lag"]) <= lag_bound


def test_every_delay_is_jittered_within_15_percent_and_never_past_the_deadline() -> None:
    profile = DurationProfile.of([10, 20, 30, 40])
    rng = Random(3)
    delays = [next_poll_delay(22.0, profile, SPEECH, rng) for _ in range(500)]
    assert min(delays) >= 7.5 * 0.85 and max(delays) <= 7.5 * 1.15
    assert len({round(d, 3) for d in delays}) > 100
    assert next_poll_delay(298.0, profile, SPEECH, rng) <= 2.0


def _peak_to_mean(bounds: PollBounds) -> float:
    """2,000 jobs created in the same second; poll counts per second while they are all near the finish."""
    profile = DurationProfile.seeded(60, 120)
    rng = Random(5)
    per_second: Counter[int] = Counter()
    for _ in range(2000):
        for t in _polls(600, profile, bounds, rng):
            if 80 <= t < 112:
                per_second[int(t)] += 1
    return max(per_second.values()) / (sum(per_second.values()) / 32)


def test_jobs_created_together_do_not_poll_in_lockstep() -> None:
    assert _peak_to_mean(VIDEO) <= 1.3
    assert _peak_to_mean(replace(VIDEO, jitter=0.0)) > 3  # what the jitter prevents


def test_the_tail_is_still_polled_but_less_and_less_often() -> None:
    profile = DurationProfile.of([60, 62, 64, 66, 68])
    rng = Random(2)
    late = [next_poll_delay(t, profile, VIDEO, rng) for t in (80.0, 200.0, 400.0)]
    assert late[0] < late[1] < late[2] <= 60 * 1.15


def test_progress_moves_like_a_clock_then_slows_past_the_median_and_never_reaches_100() -> None:
    profile = DurationProfile.of([90, 100, 110, 120, 130, 140, 150])
    shown = [progress_percent(t, profile) for t in range(0, 600, 5)]
    assert shown == sorted(shown[:25]) + shown[25:]  # monotone while the job is on time
    assert 40 <= progress_percent(60, profile) <= 60  # 60 s of an expected ~120 s
    early_rate = progress_percent(60, profile) - progress_percent(30, profile)
    late_rate = progress_percent(150, profile) - progress_percent(120, profile)
    assert late_rate < early_rate
    assert max(shown) == 95  # the seeds' cap, never 100 before the result


def test_progress_error_is_smaller_than_the_static_formula_on_a_spread_of_jobs() -> None:
    from core.ux.renderer import progress_percent as static_percent

    rng = Random(11)
    finishes = [100 * rng.lognormvariate(0, 0.3) for _ in range(300)]
    profile = DurationProfile.of(finishes[:30])
    learned, static = [], []
    for finish in finishes[30:]:
        for t in range(10, int(finish), 10):
            true = t / finish * 100
            learned.append(abs(progress_percent(t, profile) - true))
            static.append(abs(static_percent(t, 180) - true))
    assert sum(learned) / len(learned) <= 15
    assert sum(learned) / len(learned) < sum(static) / len(static)


async def test_the_book_learns_a_model_and_a_key_borrows_the_model_until_it_has_its_own() -> None:
    book = DurationBook()
    key = DurationKey.of("kling-v2-6", {"duration": 10, "resolution": "1080p"})
    seeded = book.profile(key, (120, 240))
    assert 150 <= seeded.median <= 210
    for seconds in (40, 42, 44, 46, 48, 50, 52, 54, 56, 58):
        await book.record(DurationKey("kling-v2-6", "5", ""), seconds, 0.0)
    borrowed = book.profile(key, (120, 240))
    assert borrowed.median < 100  # the model's own history outweighs the catalog's range
    for _ in range(MIN_OWN_PLUS):
        await book.record(key, 300.0, 0.0)
    assert book.profile(key, (120, 240)).median > 200  # 10 s 1080P clips are slower: its own key now


MIN_OWN_PLUS = 12


def _learn_online(true_times: list[float], bounds: PollBounds, book: DurationBook, key: DurationKey,
                  learn_seen: bool = False) -> tuple[list[int], list[float]]:
    """Jobs one after another, each teaching the book what the runner learns from its polls (or, with
    ``learn_seen``, the time of the poll that found it): polls per job and delivery lag per job."""
    jitter, imputing = Random(1), Random(2)
    polls, lags = [], []
    for finish in true_times:
        profile = book.profile(key, (5, 30))
        times = _polls(finish, profile, bounds, jitter)
        running_at = times[-2] if len(times) > 1 else 0.0
        book.remember(key, times[-1] if learn_seen else profile.censored(running_at, times[-1], imputing))
        polls.append(len(times))
        lags.append(times[-1] - finish)
    return polls, lags


def _speech_like_the_simulator(count: int, seed: int = 4) -> list[float]:
    rng = Random(seed)  # `imabot sim --spread 0.2`: speech takes 10 s, lognormal σ = 0.2
    return [10 * math.exp(max(-3.0, min(3.0, rng.gauss(0, 0.2)))) for _ in range(count)]


def test_10_s_speech_learned_from_what_polls_see_is_found_within_4_s_with_40_percent_fewer_polls() -> None:
    bounds = poll_bounds(MediaType.SPEECH, 3.0, 60.0, 300.0)  # polling.toml's speech schedule
    finishes = _speech_like_the_simulator(2000)
    polls, lags = _learn_online(finishes, bounds, DurationBook(), DurationKey("seed-tts-2.0"))
    fixed = [math.ceil(f / 3) for f in finishes[1000:]]  # the seeds' fixed 3-s interval
    assert statistics.fmean(lags[1000:]) <= 4.0
    assert statistics.fmean(polls[1000:]) <= 0.6 * statistics.fmean(fixed)
    # Learning the poll that found each job instead ratchets: each lateness is learned, moves the next
    # first poll later and grows (what the runner did; 6.3 s mean lag for speech in real time).
    _, ratcheted = _learn_online(finishes, bounds, DurationBook(), DurationKey("seed-tts-2.0"),
                                 learn_seen=True)
    assert statistics.fmean(ratcheted[1000:]) > 8.0


def test_a_distribution_learned_too_late_comes_back_to_the_real_times() -> None:
    bounds = poll_bounds(MediaType.SPEECH, 3.0, 60.0, 300.0)
    finishes = _speech_like_the_simulator(2000)

    def relearn(probing: PollBounds) -> tuple[float, list[float]]:
        book, key, rng = DurationBook(), DurationKey("seed-tts-2.0"), Random(0)
        for _ in range(100):  # as if a slow hour had taught it 14 s
            book.remember(key, 14 * rng.lognormvariate(0, 0.05))
        _, lags = _learn_online(finishes, probing, book, key)
        return book.profile(key, (5, 30)).median, lags

    median, lags = relearn(bounds)
    assert 9.0 <= median <= 11.0  # the real median is 10 s
    assert statistics.fmean(lags[-500:]) <= 4.0
    # Without probes every job is found by its first poll, which cannot tell 10 s from 14 s: it stays late.
    stuck, stuck_lags = relearn(replace(bounds, probe_share=0.0))
    assert stuck > 13.0 and statistics.fmean(stuck_lags[-500:]) > 6.0


def test_a_job_teaches_a_time_between_the_last_poll_that_saw_it_running_and_the_one_that_found_it() -> None:
    profile = DurationProfile.of([10 * math.exp(0.2 * z / 10) for z in range(-20, 21)], observed=41)
    rng = Random(5)
    between = [profile.censored(11.0, 14.0, rng) for _ in range(300)]
    assert all(11.0 < t <= 14.0 for t in between)
    assert len({round(t, 2) for t in between}) > 100  # a spread, not the same few samples again and again
    found_first = [profile.censored(0.0, 13.0, rng) for _ in range(300)]
    assert all(t <= 13.0 for t in found_first)
    assert statistics.fmean(found_first) < 10.5  # mostly before the median, as jobs found by 13 s are
    assert 40.0 < profile.censored(40.0, 48.0, rng) <= 48.0  # far in the tail: still inside the window
    # No spread learned: the window's middle; nothing seen running: the poll that found it.
    assert DurationProfile.of([20.0, 20.0]).censored(40.0, 48.0, rng) == 44.0
    assert DurationProfile.of([20.0, 20.0]).censored(0.0, 13.0, rng) == 13.0


def test_probe_share_of_first_polls_come_at_the_median_of_a_narrow_distribution() -> None:
    narrow = DurationProfile.of([10 * math.exp(0.2 * z / 10) for z in range(-20, 21)])
    bounds = replace(poll_bounds(MediaType.SPEECH, 3.0, 60.0, 300.0), jitter=0.0)
    target = narrow.catch_time(bounds.lag_s)
    first = Counter(round(next_poll_delay(0.0, narrow, bounds, Random(i)), 6) for i in range(2000))
    assert set(first) == {round(narrow.median, 6), round(target, 6)} and narrow.median < target
    assert abs(first[round(narrow.median, 6)] / 2000 - bounds.probe_share) <= 0.03
