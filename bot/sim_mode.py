"""Running against the local IMA simulator (``--sim`` and ``imabot demo``): a loopback server, a
throwaway key and a time-lapse clock, so users see exactly the messages real generation produces,
only faster (a 6-minute video shows up in ~15 s at the default speed)."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from pydantic import SecretStr

from bot.settings import Settings, SettingsError, load_settings
from core.clock import Clock
from sim.config import SimConfig
from sim.faults import FaultSpec, FaultSpecError
from sim.server import run_in_background

SIM_API_KEY = "ima_local_simulator_key"


class TimeLapseClock:
    """Virtual seconds that pass ``speed`` times faster than real ones (bot and simulator share it)."""

    def __init__(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._speed = speed
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        return self._wall0 + (time.monotonic() - self._mono0) * self._speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self._speed)


def parse_faults(specs: Sequence[str]) -> tuple[FaultSpec, ...]:
    return tuple(FaultSpec.parse(spec) for spec in specs)


def positive_speed(text: str) -> float:
    """argparse ``type`` of ``--speed``: a finite time-lapse factor above zero."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def command_settings(command: str, args: argparse.Namespace) -> tuple[Settings, tuple[FaultSpec, ...]] | None:
    """Settings (with ``--language`` applied) and ``--sim-fault`` specs of ``imabot demo`` / ``generate``;
    None after telling stderr what is wrong with the set-up."""
    try:
        settings = load_settings(Path(args.config) if args.config else None)
        faults = parse_faults(args.sim_fault)
    except (SettingsError, FaultSpecError) as exc:
        print(f"imabot {command}: {exc}", file=sys.stderr)
        return None
    if args.language:
        settings.bot.default_language = args.language
    return settings, faults


def settings_for_simulator(settings: Settings, base_url: str) -> Settings:
    ima = settings.ima.model_copy(update={"base_url": base_url, "upload_base_url": base_url})
    secrets = settings.secrets.model_copy(update={"ima_api_key": SecretStr(SIM_API_KEY)})
    updated = settings.model_copy(update={"ima": ima})
    updated.secrets = secrets
    return updated


def with_data_dir(settings: Settings, data_dir: Path) -> Settings:
    storage = settings.storage.model_copy(update={"data_dir": data_dir, "url": None})
    updated = settings.model_copy(update={"storage": storage})
    updated.secrets = settings.secrets
    return updated


@asynccontextmanager
async def local_simulator(settings: Settings, clock: Clock, faults: Sequence[FaultSpec] = ()
                          ) -> AsyncIterator[Settings]:
    """Serve the simulator on loopback; yields settings that point the bot at it."""
    config = SimConfig(speed=1.0, seed=settings.sim.seed, faults=tuple(faults))
    async with run_in_background(config, settings.sim.host, settings.sim.port, clock=clock) as base_url:
        yield settings_for_simulator(settings, base_url)
