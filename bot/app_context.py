"""What the composition root hands to each platform adapter's starter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.settings import Settings
from core.clock import Clock
from core.ops.telemetry import NoTelemetry, Telemetry
from core.platform import AttachmentFetcher, BotService, EventSink
from core.types import Platform

if TYPE_CHECKING:  # the stores (and their drivers) are loaded by the app, after the first platforms connect
    from bot.storage import Stores


@dataclass(kw_only=True)
class PlatformContext:
    """What a platform needs to connect, all of which exists before the app is built: ``imabot run``
    connects the platforms that need no store (Discord) first, with a ``service`` that waits for the app
    (bot/late_service.py)."""

    settings: Settings
    service: BotService
    clock: Clock
    # Platform adapters register their sink here before they start receiving messages; the
    # service looks sinks up by the job's platform (also for jobs resumed after a restart).
    sinks: dict[Platform, EventSink] = field(default_factory=dict)
    # Likewise each adapter registers how its attachment refs are fetched (looked up by the job's platform).
    fetchers: dict[Platform, AttachmentFetcher] = field(default_factory=dict)
    # Operational facts (metrics, status page); platform starters wrap their sink and dedupe store with it.
    telemetry: Telemetry = field(default_factory=NoTelemetry)
    # Each running platform's "is the connection up?" probe (for /readyz and the status page).
    connections: dict[Platform, Callable[[], bool]] = field(default_factory=dict)


@dataclass(kw_only=True)
class AppContext(PlatformContext):
    """The built app: the service itself and the stores (Feishu records its inbox there)."""

    stores: Stores
