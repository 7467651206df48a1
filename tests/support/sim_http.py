"""The simulator app behind a plain httpx client (httpx.ASGITransport; no sockets), for wire-level tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette

from tests.support.ima import SIM_BASE_URL


@asynccontextmanager
async def asgi_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client whose requests go straight into ``app``."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM_BASE_URL) as client:
        yield client
