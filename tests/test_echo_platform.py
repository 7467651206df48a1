"""The smallest platform (adapters/echo, bot/echo_wiring.py, Platform.ECHO, ``[echo]``) runs a whole
generation through the real app against the in-process simulator: the platform contract is enough."""

from __future__ import annotations

from pathlib import Path

from adapters.echo.adapter import EchoAdapter
from bot.echo_wiring import start_echo
from bot.settings import EchoSettings, Settings, StorageSettings
from bot.wiring import build_app
from core.clock import FakeClock
from core.types import Platform
from tests.support.ima import SimHarness


def settings_for(tmp_path: Path, enabled: bool = True) -> Settings:
    return Settings(storage=StorageSettings(data_dir=tmp_path), echo=EchoSettings(enabled=enabled))


async def test_off_unless_enabled(sim: SimHarness, clock: FakeClock, tmp_path: Path) -> None:
    async with sim.client() as ima, build_app(settings_for(tmp_path, False), clock=clock, gateway=ima) as app:
        assert start_echo(app.context) is None
        assert Platform.ECHO not in app.context.sinks


async def test_a_whole_generation_through_the_echo_platform(sim: SimHarness, clock: FakeClock,
                                                            tmp_path: Path) -> None:
    async with sim.client() as ima, build_app(settings_for(tmp_path), clock=clock, gateway=ima) as app:
        running = start_echo(app.context)
        assert running is not None and Platform.ECHO in app.context.sinks  # registered before any message
        async with running as echo:
            await app.start()
            job_id = await echo.say("alice", "以后都用海螺，生成一只猫在弹钢琴的视频")
            await app.service.wait_idle()
            status, result, link = echo.bot_messages()  # one generation: three new messages
            retry = next(b for b in status.buttons if b.startswith("imabot:retry:"))
            refused = await echo.click("mallory", retry)
            started = await echo.click("alice", retry)
            await app.service.wait_idle()
    assert job_id is not None
    (first, second) = await sim.tasks()
    assert first["model_id"] == second["model_id"] == "MiniMax-Hailuo-2.3"
    assert status.edits >= 2 and "已记住" in status.text and "✅ 已完成" in status.text
    assert result.media and result.media[0].startswith("http://ima.sim/") and result.buttons
    assert result.media[0] in link.text
    assert retry == f"imabot:retry:{job_id}"
    assert refused != started  # only the requester's click starts a new job
    assert len(echo.bot_messages()) == 6  # the retry: its own three messages


async def test_a_service_failure_gets_the_chat_kits_apology(tmp_path: Path) -> None:
    class Broken:
        async def handle_message(self, *args: object, **kwargs: object) -> str | None:
            raise RuntimeError("database is locked")

    echo = EchoAdapter(Broken())  # type: ignore[arg-type]
    assert await echo.say("alice", "生成一只猫") is None
    (apology,) = echo.bot_messages()
    assert apology.text == "我这边出了点问题，请稍后再试。"
