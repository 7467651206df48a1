"""Only what is configured is loaded: ``imabot run`` with Discord only never imports lark_oapi (and with
Feishu only never imports discord.py), and ``imabot parse`` loads no platform, transport or media library
and not the settings model (pydantic) when no config is given.

Each case runs the real CLI in a fresh interpreter (a test process has everything imported already) and
reads back which heavy modules that interpreter ended up with.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from tests.discord_fake.server import FakeDiscord
from tests.feishu_fake.fixtures import running_fake

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("lark_oapi", "discord", "av", "PIL", "uvicorn", "sim.server", "httpx", "aiohttp", "aiosqlite",
         "pydantic", "pydantic_settings")
START_S = 90.0  # generous: a loaded CI machine starts lark_oapi slowly
EXIT_S = 30.0
# Runs the CLI, then reports the heavy modules this interpreter imported (one JSON line, last).
PROBE = ("import json, sys\nfrom bot.cli import main\ncode = main(sys.argv[1:])\n"
         f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\nsys.exit(code)\n")


def _env(**secrets: str) -> dict[str, str]:
    prefixes = ("IMA_", "IMABOT_", "DISCORD_", "FEISHU_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return {**env, **secrets, "IMA_API_KEY": "ima_lazy_import_test_key", "PYTHONUNBUFFERED": "1"}


async def _start(tmp_path: Path, args: list[str], **secrets: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", PROBE, *args, cwd=REPO, env=_env(**secrets),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)


async def _loaded_after_sigterm(proc: asyncio.subprocess.Process) -> list[str]:
    proc.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(proc.communicate(), EXIT_S)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text[-3000:]
    loaded: list[str] = json.loads(text.strip().splitlines()[-1])
    return loaded


def _config(tmp_path: Path, section: str) -> str:
    path = tmp_path / "imabot.toml"
    path.write_text(f'[ima]\nbase_url = "http://127.0.0.1:9"\n[storage]\ndata_dir = "{tmp_path}"\n{section}',
                    encoding="utf-8")
    return str(path)


async def test_discord_only_run_never_imports_lark_oapi(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        config = _config(tmp_path, f'[discord]\napi_base_url = "{fake.api_base_url}"\n'
                                   f'gateway_url = "{fake.gateway_url}"\n')
        proc = await _start(tmp_path, ["--config", config, "run"], DISCORD_BOT_TOKEN="fake-bot-token",
                            FEISHU_APP_ID="cli_unused")  # half the Feishu credentials: not configured
        try:
            await asyncio.wait_for(fake.identified.wait(), START_S)
            loaded = await _loaded_after_sigterm(proc)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert "discord" in loaded
    assert "lark_oapi" not in loaded
    assert not {"av", "PIL", "sim.server"} & set(loaded)  # no media library, no simulator


async def test_feishu_only_run_never_imports_discord(tmp_path: Path) -> None:
    async with running_fake() as fake:
        config = _config(tmp_path, f'[feishu]\ndomain = "{fake.base_url}"\n')
        proc = await _start(tmp_path, ["--config", config, "run"], FEISHU_APP_ID=fake.app_id,
                            FEISHU_APP_SECRET="secret")
        try:
            await fake.wait_connected(within_s=START_S)
            loaded = await _loaded_after_sigterm(proc)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert "lark_oapi" in loaded
    assert "discord" not in loaded
    assert not {"av", "sim.server"} & set(loaded)


async def test_parse_loads_no_platform_transport_or_media_library(tmp_path: Path) -> None:
    proc = await _start(tmp_path, ["parse", "--json", "用可灵生成10秒竖屏视频，一只猫在弹钢琴"])
    out, _ = await asyncio.wait_for(proc.communicate(), START_S)
    lines = out.decode().strip().splitlines()
    assert proc.returncode == 0, out.decode()[-3000:]
    assert json.loads(lines[0])["media_type"] == "video"
    assert json.loads(lines[-1]) == []
