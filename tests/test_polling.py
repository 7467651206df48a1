from __future__ import annotations

from random import Random

from core.catalog.models import ModelCatalog
from core.pipeline.polling import transient_delay
from core.types import MediaType


def test_media_caps_follow_the_facts() -> None:
    catalog = ModelCatalog.load_default()
    expected = {MediaType.VIDEO: (8, 2400), MediaType.IMAGE: (5, 600), MediaType.MUSIC: (5, 480),
                MediaType.SPEECH: (3, 300)}
    for media, (interval, cap) in expected.items():
        timing = catalog.timing_for(None, media)
        assert (timing.poll_interval_s, timing.max_wait_s) == (interval, cap)


def test_transient_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = Random(7)
    delays = [transient_delay(n, 8.0, rng) for n in range(1, 10)]
    assert 4 <= delays[0] <= 8
    assert 8 <= delays[1] <= 16
    assert all(d <= 120 for d in delays)
    assert max(delays) >= 60


def test_retry_after_wins_when_longer() -> None:
    assert transient_delay(1, 5.0, Random(1), retry_after_s=42.0) == 42.0
    assert transient_delay(1, 5.0, Random(1), retry_after_s=0.1) < 5.1
