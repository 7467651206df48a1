"""Shared pieces for Feishu tests: a started fake platform and an SDK client pointed at it."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.feishu.api import FeishuApi, RetryPolicy, build_client
from core.clock import Clock
from tests.feishu_fake.server import FakeFeishu

_apps = itertools.count(1)


def unique_app_id() -> str:
    # lark-oapi caches tenant tokens process-wide by app id; a fresh id per test keeps tests independent.
    return f"cli_test_{next(_apps):04d}"


@asynccontextmanager
async def running_fake(app_id: str | None = None, **kwargs: object) -> AsyncIterator[FakeFeishu]:
    fake = FakeFeishu(app_id=app_id or unique_app_id(), **kwargs)  # type: ignore[arg-type]
    await fake.start()
    try:
        yield fake
    finally:
        await fake.aclose()


def api_for(fake: FakeFeishu, clock: Clock, retry: RetryPolicy | None = None) -> FeishuApi:
    return FeishuApi(build_client(fake.app_id, "secret", fake.base_url), clock, retry)
