"""The Dockerfile cannot be built here (no base-image registry), so its parts are checked: a non-root
user, a /data volume, and the commands its CMD and HEALTHCHECK run, executed from a fresh virtualenv
with the package installed from a wheel (not the source tree): the health check passes against the
running bot and fails once it is gone."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.discord_fake.server import FakeDiscord
from tests.test_run_subprocess import _free_port

ROOT = Path(__file__).resolve().parents[1]
START_S = 60.0


def dockerfile() -> dict[str, list[str]]:
    """Instructions of the final stage (after the last FROM), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    final = text.split("\nFROM ")[-1]
    found: dict[str, list[str]] = {}
    for line in final.splitlines()[1:]:
        if line.strip() and not line.startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.setdefault(word, []).append(rest.strip())
    return found


def exec_form(value: str) -> list[str]:
    command: list[str] = json.loads(value[value.index("["):])
    return command


def test_final_stage_runs_as_a_user_with_a_data_volume_and_a_health_check() -> None:
    stage = dockerfile()
    assert stage["USER"] == ["imabot"]
    assert json.loads(stage["VOLUME"][0]) == ["/data"]
    assert "IMABOT_STORAGE__DATA_DIR=/data" in stage["ENV"][0]
    assert exec_form(stage["CMD"][0]) == ["imabot", "run"]
    assert exec_form(stage["HEALTHCHECK"][0])[0] == "imabot"
    for copied in re.findall(r"^COPY (\w+) \1$", (ROOT / "Dockerfile").read_text(), re.M):
        assert (ROOT / copied / "__init__.py").exists(), copied


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with imabot installed from a freshly built wheel; its dependencies come from the
    test environment (a .pth file), as the image's build stage would have installed them."""
    where = tmp_path_factory.mktemp("venv")
    wheels = where / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(wheels), str(ROOT)], check=True, cwd=where, capture_output=True)
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    ask = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run([str(venv / "bin" / "python"), "-c", ask], check=True, capture_output=True,
                          text=True).stdout.strip()
    (Path(site) / "test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    wheel = next(wheels.glob("imabot-*.whl"))
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True, capture_output=True)
    return venv


def container_env(venv: Path, **extra: str) -> dict[str, str]:
    secret = ("IMA_", "IMABOT_", "DISCORD_", "FEISHU_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(secret)}
    env.update(PATH=f"{venv / 'bin'}:{env.get('PATH', '')}", PYTHONUNBUFFERED="1", **extra)
    return env


async def test_cmd_and_healthcheck_work_from_a_fresh_venv(fresh_venv: Path, tmp_path: Path) -> None:
    stage = dockerfile()
    cmd, health = exec_form(stage["CMD"][0]), exec_form(stage["HEALTHCHECK"][0])
    port = _free_port()
    async with FakeDiscord() as fake:
        config = tmp_path / "imabot.toml"
        config.write_text(f'[discord]\napi_base_url = "http://127.0.0.1:{fake.port}/"\n'
                          f'gateway_url = "ws://127.0.0.1:{fake.port}/gateway"\n', encoding="utf-8")
        env = container_env(fresh_venv, IMABOT_CONFIG=str(config), IMABOT_OPS__PORT=str(port),
                            IMABOT_STORAGE__DATA_DIR=str(tmp_path / "data"),
                            IMA_API_KEY="ima_container_test_key", DISCORD_BOT_TOKEN="fake-bot-token")
        log = tmp_path / "bot.log"
        with log.open("wb") as out:
            bot = await asyncio.create_subprocess_exec(*cmd, cwd=tmp_path, env=env, stdout=out, stderr=out)
        try:
            await asyncio.wait_for(fake.identified.wait(), START_S)
            while True:  # the ops server is up before Discord; the check may still race the very start
                probe = await asyncio.create_subprocess_exec(*health, cwd=tmp_path, env=env,
                                                             stderr=asyncio.subprocess.DEVNULL)
                if await probe.wait() == 0:
                    break
                assert bot.returncode is None, log.read_text()
                await asyncio.sleep(0.2)
            assert (tmp_path / "data" / "imabot.sqlite3").exists()
        finally:
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), 15) == 0, log.read_text()
        gone = await asyncio.create_subprocess_exec(*health, cwd=tmp_path, env=env,
                                                    stderr=asyncio.subprocess.PIPE)
        _, err = await gone.communicate()
    assert gone.returncode == 1 and b"does not answer" in err
    assert shutil.which(cmd[0], path=env["PATH"]) == str(fresh_venv / "bin" / "imabot")  # not the source tree
