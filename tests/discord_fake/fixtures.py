"""pytest fixtures for Discord adapter tests (import them into a test module)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.discord.adapter import DiscordAdapter
from core.clock import FakeClock
from core.platform import ActionKind, Slot, Step, UxEvent
from core.types import Conversation, Language, MediaResult, Platform
from tests.discord_fake.fake_service import RecordingService
from tests.discord_fake.harness import running_adapter
from tests.discord_fake.server import FakeDiscord


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def vclock() -> FakeClock:
    """Manual virtual time: only ``advance`` moves it, so throttling is observable."""
    return FakeClock(auto=False)


@pytest.fixture
def service() -> RecordingService:
    return RecordingService()


@pytest.fixture
async def adapter(
    fake: FakeDiscord, service: RecordingService, vclock: FakeClock
) -> AsyncIterator[DiscordAdapter]:
    async with running_adapter(fake, service, vclock) as running:
        yield running


def event(
    conversation: Conversation,
    step: Step,
    text: str,
    *,
    job_id: str = "job1",
    ref: str | None = None,
    percent: int | None = None,
    media: tuple[MediaResult, ...] = (),
    actions: tuple[ActionKind, ...] = (),
) -> UxEvent:
    slot = (
        Slot.STATUS
        if step <= Step.PROGRESS
        else (Slot.RESULT if step in (Step.SUCCESS, Step.FAILURE) else Slot.NOTICE)
    )
    return UxEvent(
        job_id,
        conversation,
        step,
        slot,
        text,
        Language.EN,
        message_ref=ref,
        percent=percent,
        media=media,
        actions=actions,
    )


def conversation_of_click(click: dict[str, Any]) -> Conversation:
    """The conversation the adapter builds for an injected interaction."""
    user = (click.get("member") or {}).get("user") or click["user"]
    return Conversation(
        Platform.DISCORD,
        click["channel_id"],
        user["id"],
        click["id"],
        is_direct="guild_id" not in click,
        user_display=user["username"],
    )
