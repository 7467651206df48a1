"""``imabot run``: platform starters get the app context, jobs flow through the service, shutdown parks
running jobs and the next start resumes and delivers them; no platform configured -> exit 2."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app_context import AppContext
from bot.commands import run as run_command
from bot.settings import Settings
from bot.sim_mode import TimeLapseClock, local_simulator, with_data_dir
from core.platform import Step
from core.types import Platform
from tests.support.conversations import conversation
from tests.support.sinks import RecordingSink


async def test_no_platform_configured_exits_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(run_command, "platform_starters", lambda: [("fake", lambda ctx: None)])
    settings = with_data_dir(Settings(), tmp_path)
    clock = TimeLapseClock(1000)
    async with local_simulator(settings, clock) as sim_settings:
        assert await run_command.serve(sim_settings) == 2


async def test_jobs_run_through_a_started_platform_and_resume_after_restart(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    first, second = RecordingSink("a"), RecordingSink("b")
    stop = asyncio.Event()
    job_ids: list[str | None] = []

    def starter_for(sink: RecordingSink, send: bool) -> object:
        @asynccontextmanager
        async def platform(ctx: AppContext) -> AsyncIterator[None]:
            ctx.sinks[Platform.DISCORD] = sink

            async def chat() -> None:
                if send:
                    job_ids.append(await ctx.service.handle_message(
                        conversation(Platform.DISCORD, message_id="d-1"), "一只柴犬在海边奔跑"))
                await sink.wait_for_step(Step.PROGRESS if send else Step.DONE)
                stop.set()

            task = asyncio.create_task(chat())
            yield
            task.cancel()
        return lambda ctx: platform(ctx)

    settings = with_data_dir(Settings(), tmp_path)
    clock = TimeLapseClock(400)
    async with local_simulator(settings, clock) as sim_settings:
        monkeypatch.setattr(run_command, "platform_starters", lambda: [("fake", starter_for(first, True))])
        assert await run_command.serve(sim_settings, stop, clock) == 0  # stops while the video is generating
        stop.clear()
        monkeypatch.setattr(run_command, "platform_starters", lambda: [("fake", starter_for(second, False))])
        assert await run_command.serve(sim_settings, stop, clock) == 0  # resumes and delivers
    assert job_ids and job_ids[0] is not None
    assert first.of_step(Step.SUCCESS) == []
    assert [e.job_id for e in second.of_step(Step.SUCCESS)] == [job_ids[0]] * 2
