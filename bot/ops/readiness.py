"""/readyz: the store answers, every enabled platform is connected, and IMA answered the product list
recently (asked again, with a short timeout, when the last answer is too old)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.ops.live import LiveView
from core.clock import Clock


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ReadinessProbe:
    live: LiveView
    clock: Clock
    store_ping: Callable[[], Awaitable[object]]
    fetch_products: Callable[[], Awaitable[object]]
    max_product_age_s: float
    timeout_s: float

    async def checks(self) -> list[Check]:
        return [await self._store(), *self._platforms(), await self._ima()]

    async def _store(self) -> Check:
        try:
            await asyncio.wait_for(self.store_ping(), self.timeout_s)
        except Exception as exc:
            return Check("store", False, type(exc).__name__)
        return Check("store", True)

    def _platforms(self) -> list[Check]:
        return [Check(f"platform:{platform.value}", up, "" if up else "disconnected")
                for platform, up in sorted(self.live.connected().items())]

    async def _ima(self) -> Check:
        last = self.live.last_product_list
        if last is not None and self.clock.now() - last <= self.max_product_age_s:
            return Check("ima_products", True)
        try:
            await asyncio.wait_for(self.fetch_products(), self.timeout_s)
        except Exception as exc:
            return Check("ima_products", False, type(exc).__name__)
        # A cached answer does not reach the network: only a fetch seen by the live view counts.
        last = self.live.last_product_list
        fresh = last is not None and self.clock.now() - last <= self.max_product_age_s
        return Check("ima_products", fresh, "" if fresh else "no recent product list")
