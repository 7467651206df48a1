"""Newcomer QA regressions for the command line: set-up mistakes end with a usage message, never a
traceback; `imabot sim` says how to point the bot at it."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from bot.cli import main


async def test_sim_prints_the_settings_that_point_imabot_at_it() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "sim", "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode().strip()
        hint = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode().strip()
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), timeout=30)
    base_url = first.removeprefix("IMA simulator listening on ")
    assert base_url.startswith("http://127.0.0.1:")
    assert f"IMABOT_IMA__BASE_URL={base_url} " in hint
    assert f"IMABOT_IMA__UPLOAD_BASE_URL={base_url} " in hint
    assert "IMA_API_KEY=ima_" in hint and "imabot generate" in hint


@pytest.mark.parametrize("command", [["demo"], ["generate", "--sim", "a cat"]])
@pytest.mark.parametrize("speed", ["0", "-3", "nan", "fast"])
def test_a_speed_that_is_not_positive_is_a_usage_error(
        command: list[str], speed: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--speed", speed])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--speed: must be a positive number" in err and "Traceback" not in err
