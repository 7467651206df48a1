"""``imabot jobs / job / usage`` read what the bot wrote: a finished and a failed job made through the
service on the simulator, then looked up the way an operator would after a user complains."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from adapters.sqlite.db import Database
from adapters.sqlite.ledger import SqliteLedger
from bot.cli import main
from bot.commands.jobs import SinceError, parse_since
from core.clock import FakeClock
from core.ops.history import user_hash
from core.spend.ports import Owner
from core.types import MediaType, Platform
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.sinks import RecordingSink
from tests.support.spend import spend_service


@pytest.fixture
async def made(tmp_path: Path, sim: SimHarness, clock: FakeClock) -> tuple[Path, str, str]:
    """A config whose database holds one done and one failed image job; returns (config, done, failed)."""
    data = tmp_path / "data"
    async with Database(data / "imabot.sqlite3") as db, \
            spend_service(sim, db, clock, {Platform.CONSOLE: RecordingSink()},
                          default_media=MediaType.IMAGE) as (service, _):
        done = await service.handle_message(conversation(user_id="alice"), "画一只可爱的橘猫")
        await service.wait_idle()
        await sim.set_faults(["task:rs=2:once"])
        failed = await service.handle_message(conversation(user_id="bob", chat_id="chat-9"), "画一只小狗")
        await service.wait_idle()
    config = tmp_path / "imabot.toml"
    config.write_text(f'[storage]\ndata_dir = "{data}"\n', encoding="utf-8")
    assert done and failed
    return config, done, failed


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = await asyncio.to_thread(main, list(argv))  # the command runs its own event loop
    return code, capsys.readouterr().out


async def test_jobs_lists_filters_by_state_and_user(made: tuple[Path, str, str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    config, done, failed = made
    code, out = await run(capsys, "--config", str(config), "jobs")
    assert code == 0 and done in out and failed in out
    code, out = await run(capsys, "--config", str(config), "jobs", "--state", "failed")
    assert code == 0 and failed in out and done not in out
    bob = user_hash("console", "bob")  # the hash log lines carry
    code, out = await run(capsys, "--config", str(config), "jobs", "--user", bob)
    assert failed in out and done not in out and "chat-9" in out
    code, out = await run(capsys, "--config", str(config), "jobs", "--state", "nonsense")
    assert code == 2


async def test_job_tells_the_whole_story(made: tuple[Path, str, str], capsys: pytest.CaptureFixture[str],
                                         sim: SimHarness) -> None:
    config, done, failed = made
    code, out = await run(capsys, "--config", str(config), "job", done)
    assert code == 0
    states = re.findall(r"\+\s*[\d.]+ s  (\w+)", out)
    assert states == ["received", "acknowledged", "submitting", "submitted", "running", "delivering", "done"]
    task_id = (await sim.tasks())[0]["id"]
    assert f"IMA task {task_id}" in out and "points" in out and "result:0 ->" in out
    code, out = await run(capsys, "--config", str(config), "job", task_id)  # found by its IMA task id too
    assert f"job {done}" in out
    code, out = await run(capsys, "--config", str(config), "job", failed)
    assert "failure  media_failed:" in out and "failed" in out
    code, _ = await run(capsys, "--config", str(config), "job", "j-unknown")
    assert code == 1


async def test_usage_counts_created_jobs_and_points(made: tuple[Path, str, str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    config, _, _ = made
    code, out = await run(capsys, "--config", str(config), "usage", "--since", "2025-01-01")
    assert code == 0
    assert re.search(r"total: 2 jobs, \d+ points, 1 failed", out), out
    assert user_hash("console", "alice") in out


async def test_usage_reads_the_spend_ledger(made: tuple[Path, str, str], clock: FakeClock,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The ledger is the one record of spend: what it holds is reported even when no job row says so
    (``admin usage`` and ``imabot usage`` agree)."""
    config, _, _ = made
    _, before = await run(capsys, "--config", str(config), "usage", "--since", "2025-01-01")
    spent = int(re.findall(r"total: 2 jobs, (\d+) points", before)[0])
    async with Database(config.parent / "data" / "imabot.sqlite3") as db:
        ledger, now = SqliteLedger(db), clock.now()
        assert await ledger.admit("j-ledger-only", Owner("discord", "carol", "chan-1"), now, 5)
        await ledger.try_start("j-ledger-only", 25, "model", now, 5, ())
        await ledger.settle("j-ledger-only", 25, False, now)
    code, out = await run(capsys, "--config", str(config), "usage", "--since", "2025-01-01")
    assert code == 0 and user_hash("discord", "carol") in out and "chan-1" in out
    assert f"total: 3 jobs, {spent + 25} points, 1 failed" in out, out


def test_since_accepts_durations_and_dates() -> None:
    assert parse_since("2h", 10_000.0) == 10_000.0 - 7200
    assert parse_since("2026-12-01", 0) == 1_796_083_200.0  # midnight UTC
    with pytest.raises(SinceError):
        parse_since("yesterday", 0)
