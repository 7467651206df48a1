"""``imabot --config F run`` as the maintainers drive it: a separate process, configured by a TOML file and
env secrets, against ``imabot sim`` (another process) and a fake Discord / fake Feishu on loopback.

One ``imabot sim`` serves the module (reset per test). Each test injects a request, checks the simulator
received the task and the platform got the picture, then sends SIGTERM and expects exit 0 within a few
seconds. Overrides are written the way an operator might (no ``/api/v10``, a gateway with its own query,
a Feishu domain with a trailing slash).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from PIL import Image

from tests.discord_fake.payloads import attachment_payload
from tests.discord_fake.server import FakeDiscord
from tests.feishu_fake.events import message_event
from tests.feishu_fake.fixtures import running_fake
from tests.feishu_fake.server import FakeFeishu
from tests.feishu_fake.webhook_client import encrypt, signed_headers, with_token

REPO = Path(__file__).resolve().parents[1]
IMAGE_MODEL = "doubao-seedream-4.5"  # the text_to_image default; a short estimate makes the first poll early
# Bounds on a stuck child process, not a schedule: a busy CI box needs well over 30 s to import and
# connect a fresh interpreter (tests/test_lazy_imports.py timed out at 30 s there).
START_S = 120.0
RESULT_S = 60.0
EXIT_S = 8.0
T = TypeVar("T")


def _clean_env(**secrets: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("IMA_", "IMABOT_", "DISCORD_", "FEISHU_"))}
    env.update(secrets, IMA_API_KEY="ima_subprocess_test_key", PYTHONUNBUFFERED="1")
    return env


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One ``imabot sim`` process for the module (each test resets it); yields its base URL."""
    with running_simulator(tmp_path_factory.mktemp("sim"), speed=1000) as url:
        yield url


@contextlib.contextmanager
def running_simulator(log_dir: Path, speed: float) -> Iterator[str]:
    """``imabot sim`` in a child process at ``speed``; yields its base URL."""
    log_path = log_dir / "sim.log"
    with log_path.open("wb") as log:
        command = [sys.executable, "-m", "bot.cli", "sim", "--port", "0", "--speed", str(speed)]
        proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=log, env=_clean_env())
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], START_S)
        line = proc.stdout.readline().decode() if ready else ""
        assert "listening on" in line, log_path.read_text()
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(EXIT_S) == 0, log_path.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
async def sim_url(simulator: str) -> str:
    async with httpx.AsyncClient(trust_env=False) as http:
        (await http.post(f"{simulator}/_sim/reset")).raise_for_status()
    return simulator


async def _terminate(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), EXIT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
    assert proc.returncode is not None
    return proc.returncode


class Bot:
    """``imabot run`` in a child process; its log goes to a file shown when an assertion fails."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc = proc
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def until(self, awaitable: Awaitable[T], within_s: float) -> T:
        """Await ``awaitable`` unless the bot exits first (then fail with its log)."""
        step = asyncio.ensure_future(awaitable)
        exited = asyncio.ensure_future(self.proc.wait())
        done, _ = await asyncio.wait({step, exited}, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
        if step in done:
            exited.cancel()
            return step.result()
        step.cancel()
        exited.cancel()
        pytest.fail(f"imabot run {'exited' if exited in done else 'timed out'}:\n{self.output()[-4000:]}")

    async def stop(self) -> int:
        return await _terminate(self.proc)


@contextlib.asynccontextmanager
async def _imabot_run(tmp_path: Path, config: str, secrets: dict[str, str]) -> AsyncIterator[Bot]:
    config_file = tmp_path / "imabot.toml"
    config_file.write_text(config, encoding="utf-8")
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "--config", str(config_file), "run", cwd=tmp_path,
            stdout=log, stderr=log, env=_clean_env(**secrets))
    bot = Bot(proc, log_path)
    try:
        yield bot
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def _config(sim_url: str, tmp_path: Path, platform_section: str, *, estimate: tuple[int, int] = (1, 2),
            ops: str = "") -> str:
    """A short estimate makes the first poll early; ``ops`` adds lines to the [ops] section."""
    return f"""
[ima]
base_url = "{sim_url}"
upload_base_url = "{sim_url}/"

[storage]
data_dir = "{tmp_path / 'data'}"

[bot]
default_language = "en"
default_media_type = "image"

[ops]
port = 0
{ops}

[catalog]
estimated_seconds = {{ "{IMAGE_MODEL}" = [{estimate[0]}, {estimate[1]}] }}

{platform_section}
"""


async def _sim_tasks(sim_url: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(trust_env=False) as http:
        response = await http.get(f"{sim_url}/_sim/tasks")
    tasks: list[dict[str, Any]] = response.json()["tasks"]
    return tasks


def _png() -> bytes:
    image = Image.new("RGB", (320, 240), (240, 160, 60))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def discord_section(fake: FakeDiscord) -> str:
    """Discord on the fake (its gateway URL with a query of its own, as operators write it); no Feishu."""
    return f"""
[discord]
api_base_url = "http://127.0.0.1:{fake.port}/"
gateway_url = "ws://127.0.0.1:{fake.port}/gateway?v=10&encoding=json"
edit_interval_s = 0.5

[feishu]
enabled = false
"""


async def test_discord_slash_command_through_imabot_run_subprocess(tmp_path: Path, sim_url: str) -> None:
    async with FakeDiscord() as fake:
        config = _config(sim_url, tmp_path, discord_section(fake))
        async with _imabot_run(tmp_path, config, {"DISCORD_BOT_TOKEN": "fake-bot-token"}) as bot:
            await bot.until(fake.identified.wait(), START_S)
            await fake.slash("image", {"prompt": "an orange cat asleep on a sofa"})

            def delivered() -> int:
                return sum(1 for r in fake.requests if r.files and r.method in ("POST", "PATCH"))

            await bot.until(fake.wait_for(lambda _: delivered() == 1, within=RESULT_S), RESULT_S)
            # An @mention with a photo the fake serves under another spelling of its own host.
            fake.add_blob("cat.png", data=_png(), content_type="image/png")
            photo = f"http://localhost:{fake.port}/cdn/cat.png"
            await fake.message("make this cat blue", attachments=[
                attachment_payload(fake.ids.next(), "cat.png", len(_png()), photo, "image/png")])
            await bot.until(fake.wait_for(lambda _: delivered() == 2, within=RESULT_S), RESULT_S)
            assert await bot.stop() == 0, bot.output()[-4000:]
        tasks = await _sim_tasks(sim_url)
    assert [(t["task_type"], t["model_id"]) for t in tasks] == [
        ("text_to_image", IMAGE_MODEL), ("image_to_image", IMAGE_MODEL)]
    assert fake.downloads == ["cat.png"]
    assert fake.find("POST", "/callback")[0].body["type"] == 5  # deferred within the deadline
    assert "Traceback" not in bot.output()


async def _feishu_run(tmp_path: Path, fake: FakeFeishu, sim_url: str, section: str,
                      secrets: dict[str, str], send: Any) -> str:
    async with _imabot_run(tmp_path, _config(sim_url, tmp_path, section),
                           {"FEISHU_APP_ID": fake.app_id, "FEISHU_APP_SECRET": "secret", **secrets}) as bot:
        await bot.until(send(), START_S)
        await bot.until(fake.wait_until(lambda f: any(m.msg_type == "image" for m in f.messages),
                                        within_s=RESULT_S), RESULT_S)
        assert await bot.stop() == 0, bot.output()[-4000:]
        return bot.output()


async def test_feishu_long_connection_through_imabot_run_subprocess(tmp_path: Path, sim_url: str) -> None:
    async with running_fake() as fake:
        section = f"""
[discord]
enabled = false

[feishu]
domain = "{fake.base_url}/"
intake = "long_connection"
patch_interval_s = 0.5
"""

        async def send() -> None:
            await fake.wait_connected(within_s=START_S)
            ack = await fake.push_event(message_event(text="画一只可爱的橘猫", chat_type="p2p",
                                                      mention_bot=False, app_id=fake.app_id))
            assert ack.code == 200

        output = await _feishu_run(tmp_path, fake, sim_url, section, {}, send)
        tasks = await _sim_tasks(sim_url)
    assert [t["task_type"] for t in tasks] == ["text_to_image"]
    assert "Traceback" not in output


async def test_feishu_webhook_through_imabot_run_subprocess(tmp_path: Path, sim_url: str) -> None:
    port = _free_port()
    async with running_fake() as fake:
        section = f"""
[discord]
enabled = false

[feishu]
domain = "{fake.base_url}/"
intake = "webhook"
webhook_port = {port}
patch_interval_s = 0.5
"""
        event = with_token(message_event(text="画一只可爱的橘猫", chat_type="p2p", mention_bot=False,
                                         app_id=fake.app_id), "vt")
        body = encrypt(event, "ek")

        async def send() -> None:
            async with httpx.AsyncClient(trust_env=False) as http:
                while True:  # readiness: the webhook listener comes up after the bot has started
                    try:
                        response = await http.post(f"http://127.0.0.1:{port}/feishu/events", content=body,
                                                   headers=signed_headers(body, "ek"))
                    except httpx.ConnectError:
                        await asyncio.sleep(0.1)
                        continue
                    assert response.status_code == 200, response.text
                    return

        output = await _feishu_run(tmp_path, fake, sim_url, section,
                                   {"FEISHU_ENCRYPT_KEY": "ek", "FEISHU_VERIFICATION_TOKEN": "vt"}, send)
        tasks = await _sim_tasks(sim_url)
    assert [t["task_type"] for t in tasks] == ["text_to_image"]
    assert "Traceback" not in output


async def test_sigterm_while_discord_is_still_logging_in_exits_0(tmp_path: Path) -> None:
    accepted = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await reader.read()  # until the bot hangs up
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    section = f"""
[discord]
api_base_url = "http://127.0.0.1:{port}"
gateway_url = "ws://127.0.0.1:{port}/"

[feishu]
enabled = false
"""
    async with server, _imabot_run(tmp_path, _config("http://127.0.0.1:9", tmp_path, section),
                                   {"DISCORD_BOT_TOKEN": "fake-bot-token"}) as bot:
        await bot.until(accepted.wait(), START_S)
        assert await bot.stop() == 0, bot.output()[-4000:]
    assert "stopped during start-up" in bot.output()
