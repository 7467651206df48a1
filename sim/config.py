"""Simulator configuration (immutable)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.faults import FaultSpec


@dataclass(frozen=True, slots=True)
class SimConfig:
    public_base_url: str = "http://ima.sim"  # builds media / fdl URLs
    upload_base_url: str = "http://ima.sim"  # builds presigned ``ful`` PUT URLs
    speed: float = 1.0  # time scale: a model whose EET is 150~210 s finishes in ~180/speed s
    seed: int = 0
    # Real generation times vary around a model's typical time: each task's time is the typical one
    # times exp(spread * z), z standard normal drawn from (seed, task number) — lognormal, median kept.
    # 0 (the default) keeps every task of a model exactly on its typical time.
    spread: float = 0.0
    faults: tuple[FaultSpec, ...] = ()
    success_code: int = 0  # 0 or 200, both seen in production
    default_balance: int = 100_000
    default_subscription: bool = True

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        if not 0.0 <= self.spread <= 1.0:
            raise ValueError("spread must be between 0 and 1")
        if self.success_code not in (0, 200):
            raise ValueError("success_code must be 0 or 200")
