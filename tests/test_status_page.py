"""The status page of a running ``imabot run`` in a real headless Chromium: token-protected, it shows a job
made through the simulator while it runs, and the job's progress moves without a reload."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.discord_fake.server import FakeDiscord
from tests.support.browser import chromium_path, open_page
from tests.test_ops_server import ops_url
from tests.test_run_subprocess import (
    RESULT_S,
    START_S,
    _config,
    _imabot_run,
    discord_section,
    running_simulator,
)

pytestmark = pytest.mark.skipif(chromium_path() is None,
                                reason="browser: chromium not installed (apt-get install chromium)")
TOKEN = "status-test-token"


@pytest.fixture(scope="module")
def sim_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_simulator(tmp_path_factory.mktemp("sim"), speed=2) as url:
        yield url




ROW = "document.querySelector('tr[data-job]')"


async def test_status_page_shows_a_running_job_and_its_progress_moves(tmp_path: Path, sim_url: str) -> None:
    fake = FakeDiscord()
    await fake.start()
    try:
        async with _imabot_run(tmp_path, _config(sim_url, tmp_path, discord_section(fake), estimate=(20, 40),
                                              ops="status_page = true"),
                               {"DISCORD_BOT_TOKEN": "fake-bot-token", "OPS_STATUS_TOKEN": TOKEN}) as bot, \
                httpx.AsyncClient(trust_env=False, timeout=START_S) as http:
            base = await bot.until(ops_url(bot), START_S)
            assert (await http.get(f"{base}/status")).status_code == 401
            assert (await http.get(f"{base}/status?token=wrong")).status_code == 401
            await bot.until(fake.identified.wait(), START_S)
            async with open_page(f"{base}/status?token={TOKEN}", tmp_path / "chromium") as page:
                assert await page.evaluate("document.title") == "imabot status"
                assert "discord" in await page.evaluate("document.body.innerText")
                await page.evaluate("window.loadedOnce = true")  # a reload would forget it
                await fake.slash("image", {"prompt": "an orange cat asleep on a sofa"})

                async def percent_above(floor: int) -> int:
                    while True:
                        value = await page.evaluate(
                            f"{ROW} ? Number({ROW}.querySelector('progress').value) : -1")
                        if value > floor:
                            return int(value)
                        await asyncio.sleep(0.25)

                first = await bot.until(percent_above(-1), RESULT_S)
                row = await page.evaluate(f"{ROW}.innerText")
                assert "an orange cat asleep on a sofa" in row and "discord" in row
                later = await bot.until(percent_above(first), RESULT_S)
                assert later > first
                assert await page.evaluate("window.loadedOnce") is True
                shot = tmp_path / "status.png"
                await page.screenshot(shot)
                assert shot.stat().st_size > 10_000
                keep = os.environ.get("IMABOT_SCREENSHOT_DIR")
                if keep:
                    shutil.copy(shot, Path(keep) / "status.png")
            assert await bot.stop() == 0, bot.output()[-4000:]
    finally:
        await fake.aclose()
