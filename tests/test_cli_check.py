"""``imabot check`` against a good set-up (simulator, fake Discord with commands, fake Feishu) and against
broken ones: each problem is its own ✗ line with a fix that names a real command or setting; exit 0/1."""

from __future__ import annotations

import io
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands.check import check_all, report
from bot.settings import Settings, load_settings
from sim.config import SimConfig
from sim.server import run_in_background
from tests.discord_fake.server import FakeDiscord
from tests.feishu_fake.fixtures import running_fake

GOOD_KEY = "ima_check_0123456789abcdef"


@asynccontextmanager
async def setup(tmp_path: Path, *, key: str = GOOD_KEY, discord_token: str = "good-token",
                feishu_app: str | None = None, commands: bool = True) -> AsyncIterator[Settings]:
    async with run_in_background(SimConfig()) as sim_url, FakeDiscord() as discord, running_fake() as feishu:
        discord.bot_token = "good-token"
        if commands:
            discord.commands = [{"id": "1", "name": "video"}]
        config = tmp_path / "imabot.toml"
        config.write_text(f"""
[ima]
base_url = "{sim_url}"
upload_base_url = "{sim_url}/"

[storage]
data_dir = "{tmp_path / 'data'}"

[discord]
api_base_url = "http://127.0.0.1:{discord.port}/"

[feishu]
domain = "{feishu.base_url}"
""", encoding="utf-8")
        env = {"IMA_API_KEY": key, "DISCORD_BOT_TOKEN": discord_token,
               "FEISHU_APP_ID": feishu_app or feishu.app_id, "FEISHU_APP_SECRET": "secret"}
        yield load_settings(config, env=env)


def lines_of(outcomes: list[object]) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = report(outcomes, out)  # type: ignore[arg-type]
    return code, out.getvalue().splitlines()


async def test_a_good_set_up_passes_every_check(tmp_path: Path) -> None:
    async with setup(tmp_path) as settings:
        code, lines = lines_of(await check_all(settings))
    assert code == 0, lines
    assert all(line.startswith("✓") for line in lines[:-1]), lines
    names = [line.split(":")[0][2:] for line in lines[:-1]]
    assert names == ["config", "IMA key", "IMA product list", "Discord token", "Discord commands",
                     "Feishu app", "Feishu bot", "data dir", "database", "ops port"]
    assert lines[-1] == "10 passed, 0 failed"


async def test_each_broken_part_is_named_with_its_fix(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the data folder should be")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        async with setup(tmp_path, key="sk-not-an-ima-key", discord_token="stale", feishu_app="cli_wrong",
                         commands=False) as settings:
            settings.ops.port = busy.getsockname()[1]
            code, lines = lines_of(await check_all(settings))
    finally:
        busy.close()
    assert code == 1
    failed = {line.split(":")[0][2:]: line for line in lines if line.startswith("✗")}
    assert set(failed) == {"IMA key", "Discord token", "Feishu app", "data dir", "ops port"}, lines
    assert "apikey" in failed["IMA key"] and "sk-not" not in failed["IMA key"]
    assert "DISCORD_BOT_TOKEN" in failed["Discord token"]
    assert "[ops] port" in failed["ops port"]


async def test_missing_slash_commands_point_to_discord_sync(tmp_path: Path) -> None:
    async with setup(tmp_path, commands=False) as settings:
        code, lines = lines_of(await check_all(settings))
    assert code == 1
    assert [line for line in lines if line.startswith("✗")] == [
        "✗ Discord commands: no slash commands registered — fix: run `imabot discord sync` "
        "(add --guild ID for an instant test server)"]


def test_every_config_problem_is_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "imabot.toml"
    config.write_text("[bot]\nmax_concurent_jobs = 3\n\n[ops]\nready_timeout_s = -1\n", encoding="utf-8")
    assert main(["--config", str(config), "check"]) == 1
    out = capsys.readouterr().out
    problems = [line for line in out.splitlines() if line.startswith("✗ config")]
    assert len(problems) == 2, out  # the unknown key and the bad value, not just the first
    assert "did you mean 'max_concurrent_jobs'" in problems[0] and "[ops] ready_timeout_s = -1" in problems[1]
