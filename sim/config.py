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
    faults: tuple[FaultSpec, ...] = ()
    success_code: int = 0  # 0 or 200, both seen in production
    default_balance: int = 100_000
    default_subscription: bool = True

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        if self.success_code not in (0, 200):
            raise ValueError("success_code must be 0 or 200")
