# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""Issue #12 on Discord: the real discord.py client against the fake Discord, the real service with the
spend rules, SQLite and the in-process simulator: confirmation buttons, /usage, the key modal, admin."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.adapter import DiscordAdapter
from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.pipeline.service import GenerationService
from core.platform import EventSink
from core.spend.policy import BillingMode, ConfirmPolicy, QuotaPolicy, SpendPolicy
from core.types import Language, Platform
from tests.discord_fake.fixtures import fake  # noqa: F401
from tests.discord_fake.harness import running_adapter
from tests.discord_fake.payloads import FakeUser
from tests.discord_fake.server import FakeDiscord, RecordedRequest
from tests.support.ima import SimHarness
from tests.support.spend import GatewayTap, spend_service

CAT = "generate an image of a cat with seedream"
USER_KEY = "ima_alice_own_key_7f3a9c2e51d4"


@asynccontextmanager
async def bot(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock, policy: SpendPolicy
) -> AsyncIterator[tuple[GenerationService, DiscordAdapter]]:
    sinks: dict[Platform, EventSink] = {}
    async with (
        spend_service(sim, db, clock, sinks, policy, default_language=Language.EN) as (service, _),
        running_adapter(fake, service, clock) as adapter,
    ):
        sinks[Platform.DISCORD] = adapter.sink
        yield service, adapter


def channel_posts(fake: FakeDiscord) -> list[RecordedRequest]:
    return fake.find("POST", f"/channels/{fake.channel.id}/messages")


def private_answer(fake: FakeDiscord, interaction: dict[str, Any]) -> str | None:
    edits = [r.content for r in fake.find("PATCH", f"{interaction['token']}/messages/@original")]
    return edits[-1] if edits else None


async def answered(fake: FakeDiscord, interaction: dict[str, Any]) -> str:
    await fake.wait_for(lambda _: private_answer(fake, interaction) is not None, within=30)
    return private_answer(fake, interaction) or ""


async def test_confirmation_buttons_only_the_requester_can_press(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    async with bot(fake, sim, db, clock, SpendPolicy(confirm=ConfirmPolicy(above_points=5))) as (service, _):
        await fake.message(CAT)
        await fake.wait_for(
            lambda _: any("imabot:confirm:" in c for r in fake.requests for c in r.custom_ids), within=30
        )
        confirm = next(c for r in fake.requests for c in r.custom_ids if c.startswith("imabot:confirm:"))
        assert await sim.tasks() == []
        bob = await fake.click(confirm, user=fake.bob)
        assert "Only the person who made this request" in await answered(fake, bob)
        alice = await fake.click(confirm)
        assert "Confirmed" in await answered(fake, alice)
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 3, within=30)
        await service.wait_idle()
        again = await fake.click(confirm)
        assert "already confirmed" in await answered(fake, again)
    assert len(await sim.tasks()) == 1


async def test_confirmation_by_words_on_discord(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    async with bot(fake, sim, db, clock, SpendPolicy(confirm=ConfirmPolicy(above_points=5))) as (service, _):
        await fake.message(CAT)
        await fake.wait_for(
            lambda _: any("imabot:confirm:" in c for r in fake.requests for c in r.custom_ids), within=30
        )
        await fake.message("yes")
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 4, within=30)
        await service.wait_idle()
    assert len(await sim.tasks()) == 1


async def test_usage_command_is_private_and_counts_what_was_spent(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    async with bot(fake, sim, db, clock, SpendPolicy(confirm=ConfirmPolicy(enabled=False))) as (service, _):
        await fake.message(CAT)
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 3, within=30)
        await service.wait_idle()
        usage = await fake.slash("usage", {})
        text = await answered(fake, usage)
    callback = next(r for r in fake.find("POST", "/callback") if usage["id"] in r.path)
    assert callback.body["data"]["flags"] & 64  # only the user sees it
    assert "Today: 5 points" in text and "This month: 5 points" in text and "Running: 0" in text
    assert "https://www.imaclaw.ai/imaclaw/subscription" in text  # [spend] account_url, the one link


async def test_own_key_is_linked_in_a_modal_used_and_removed_and_never_logged(
    fake: FakeDiscord,
    sim: SimHarness,
    db: Database,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    policy = SpendPolicy(confirm=ConfirmPolicy(enabled=False), billing=BillingMode.USER_KEY)
    async with bot(fake, sim, db, clock, policy) as (service, _):
        opened = await fake.slash("imabot", {}, subcommand="key")
        await fake.wait_for(
            lambda _: any(opened["id"] in r.path for r in fake.find("POST", "/callback")), within=30
        )
        modal = next(r for r in fake.find("POST", "/callback") if opened["id"] in r.path)
        assert modal.body["type"] == 9 and modal.body["data"]["custom_id"] == "imabot:key_modal"
        submitted = await fake.submit_modal("imabot:key_modal", {"key": USER_KEY})
        linked = await answered(fake, submitted)
        assert "ima_…51d4" in linked and USER_KEY not in linked
        await fake.message(CAT)
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 3, within=30)
        await service.wait_idle()
        removed = await fake.slash("imabot", {"action": "remove"}, subcommand="key")
        assert "removed" in await answered(fake, removed)
    (task,) = await sim.tasks()
    assert task["key"].startswith("ima_al")  # created on the user's own account (the simulator masks keys)
    async with db.conn.execute("SELECT COUNT(*) FROM user_keys") as cursor:
        assert (await cursor.fetchone())[0] == 0
    posted = " ".join((r.content or "") + str(r.body) for r in fake.requests if r.method != "GET")
    logged = caplog.text + capsys.readouterr().err
    assert USER_KEY not in posted and USER_KEY not in logged


async def test_admin_commands_pause_report_and_refuse_non_admins(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    member = FakeUser("1400000000000000003", "carol", permissions="0")
    async with bot(fake, sim, db, clock, SpendPolicy(confirm=ConfirmPolicy(enabled=False))) as (service, _):
        await fake.message(CAT)
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 3, within=30)
        await service.wait_idle()
        report = await fake.slash("imabot-admin", {"period": "today"}, subcommand="usage")
        assert "1 jobs, 5 points" in await answered(fake, report)
        denied = await fake.slash("imabot-admin", {}, subcommand="pause", user=member)
        assert "Only admins" in await answered(fake, denied)
        paused = await fake.slash("imabot-admin", {}, subcommand="pause")
        assert "paused" in await answered(fake, paused)
        await fake.slash("image", {"prompt": "a cat"}, user=member)  # a plain member (no Manage Server)
        await fake.wait_for(
            lambda _: any("paused generation" in (r.content or "") for r in fake.requests), within=30
        )
        jobs = await fake.slash("imabot-admin", {}, subcommand="jobs")
        assert "No jobs" in await answered(fake, jobs)
    assert len(await sim.tasks()) == 1


async def test_budget_refusal_on_discord_says_what_is_left(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(enabled=False), quota=QuotaPolicy(user_day_points=7))
    async with bot(fake, sim, db, clock, policy) as (service, _):
        await fake.message(CAT)
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 3, within=30)
        await service.wait_idle()
        await fake.message(CAT)
        await fake.wait_for(
            lambda _: any("daily budget" in (r.content or "") for r in fake.requests), within=30
        )
        await service.wait_idle()
    refusal = next(r.content for r in fake.requests if "daily budget" in (r.content or ""))
    assert refusal is not None and "5 of 7 used, 2 left" in refusal and "Nothing was created" in refusal
    assert len(await sim.tasks()) == 1


async def test_queue_position_is_shown_on_discord_and_moves(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    release = asyncio.Event()
    policy = SpendPolicy(confirm=ConfirmPolicy(enabled=False), quota=QuotaPolicy(running_per_user=1))
    sinks: dict[Platform, EventSink] = {}
    async with (
        spend_service(sim, db, clock, sinks, policy, default_language=Language.EN,
                      wrap_gateway=partial(GatewayTap, before_poll=release.wait)) as (service, _),
        running_adapter(fake, service, clock) as adapter,
    ):
        sinks[Platform.DISCORD] = adapter.sink
        for _ in range(3):
            await fake.message(CAT)
        await fake.wait_for(lambda _: any("queued: 1 ahead" in (r.content or "") for r in fake.requests),
                            within=30)
        release.set()
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 9, within=60)  # 3 statuses + 3 × 2 results
        await service.wait_idle()
    texts = [r.content or "" for r in fake.requests]
    first_ahead = next(i for i, t in enumerate(texts) if "queued: 1 ahead" in t)
    assert any("starts when one of your running jobs finishes" in t for t in texts[first_ahead:])  # it moved
    assert len(await sim.tasks()) == 3

async def test_confirm_button_after_expiry_answers_expired_and_creates_nothing(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5, expiry_s=600))
    async with bot(fake, sim, db, clock, policy) as (service, _):
        await fake.message(CAT)
        await fake.wait_for(
            lambda _: any("imabot:confirm:" in c for r in fake.requests for c in r.custom_ids), within=30
        )
        confirm = next(c for r in fake.requests for c in r.custom_ids if c.startswith("imabot:confirm:"))
        clock.advance(601)
        late = await fake.click(confirm)
        text = await answered(fake, late)
        await service.wait_idle()
    assert "expired" in text and "Nothing was created" in text and len(text) < 200
    assert "Confirmed" not in text
    assert await sim.tasks() == []


def media_posts(fake: FakeDiscord) -> list[RecordedRequest]:
    """The result posts (the simulator's media are not fetched from an untrusted origin: posted as links)."""
    return [r for r in channel_posts(fake) if "✅ Your image is ready" in (r.content or "")]


async def test_pending_confirmation_survives_a_bot_restart_and_the_confirm_click_starts_it(
    fake: FakeDiscord, sim: SimHarness, db_path: Path, clock: FakeClock
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5))
    async with Database(db_path) as db, bot(fake, sim, db, clock, policy):
        await fake.message(CAT)
        await fake.wait_for(
            lambda _: any("imabot:confirm:" in c for r in fake.requests for c in r.custom_ids), within=30
        )
    confirm = next(c for r in fake.requests for c in r.custom_ids if c.startswith("imabot:confirm:"))
    assert await sim.tasks() == []
    async with Database(db_path) as db, bot(fake, sim, db, clock, policy) as (service, _):  # a new process
        click = await fake.click(confirm)
        assert "Confirmed" in await answered(fake, click)
        await fake.wait_for(lambda _: len(media_posts(fake)) >= 1, within=30)
        await service.wait_idle()
    assert len(await sim.tasks()) == 1 and len(media_posts(fake)) == 1  # created once, delivered once


async def test_create_refused_with_429_once_says_busy_then_creates_once_and_delivers(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    await sim.set_faults(["create:http=429:retry_after=20:once"])
    async with bot(fake, sim, db, clock, SpendPolicy(confirm=ConfirmPolicy(enabled=False))) as (service, _):
        await fake.message(CAT)
        await fake.wait_for(lambda _: len(media_posts(fake)) >= 1, within=30)
        await service.wait_idle()
    texts = [r.content or "" for r in fake.requests if r.method in ("POST", "PATCH")]
    assert any("The service is busy, retrying" in t for t in texts)
    assert (await sim.calls()).get("tasks/create") == 2  # the refused one and the one that created
    assert len(await sim.tasks()) == 1 and len(media_posts(fake)) == 1
