"""Process tuning for the long-running service (``imabot run``; measured in ``bench/realtime.py``).

After start-up every object alive (modules, catalogs, settings, the SDKs) lives as long as the
process: ``gc.freeze`` moves them out of the collector's sight, so a full collection no longer walks
them (it was the worst pause in the ack-latency tail). The generation-0 threshold is raised because a
poll allocates a few hundred short-lived objects: collecting every 700 allocations meant hundreds of
young collections per second at 10,000 jobs in flight; reference counting frees almost all of them
anyway. Figures before/after: docs/performance.md.

``warm_up`` does, once the platforms are connected, what the first message would otherwise pay for:
compiling the parser's cue patterns.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (20_000, 20, 100)


def settle_heap(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


def warm_up() -> None:
    from core.intent.cues import default_cues

    default_cues()
