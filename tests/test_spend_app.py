"""The spend rules as the app wires them from settings (``build_app``): through the conversation layer
and the smallest platform (echo), against the in-process simulator."""

from __future__ import annotations

from pathlib import Path

from bot.echo_wiring import start_echo
from bot.settings import EchoSettings, QuotaSettings, Settings, SpendSettings, StorageSettings
from bot.wiring import build_app
from core.clock import FakeClock
from tests.support.ima import SimHarness

CAT = "用Seedream生成一只猫的图片"  # 5 points


def settings_for(tmp_path: Path, **sections: object) -> Settings:
    return Settings(storage=StorageSettings(data_dir=tmp_path), echo=EchoSettings(enabled=True),
                    **sections)  # type: ignore[arg-type]


async def test_settings_confirmation_answered_in_words_by_the_requester_only(
        sim: SimHarness, clock: FakeClock, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, spend=SpendSettings(confirm_above_points=5))
    async with sim.client() as ima, build_app(settings, clock=clock, gateway=ima) as app:
        running = start_echo(app.context)
        assert running is not None
        async with running as echo:
            await app.start()
            job_id = await echo.say("alice", CAT)
            await app.service.wait_idle()
            (status,) = [m for m in echo.bot_messages() if m.buttons]
            assert f"imabot:confirm:{job_id}" in status.buttons and "5 积分" in status.text
            assert await sim.tasks() == []
            await echo.say("mallory", "好的")  # not the requester: nothing is created
            await app.service.wait_idle()
            assert await sim.tasks() == []
            await echo.say("alice", "好的")
            await app.service.wait_idle()
    assert len(await sim.tasks()) == 1


async def test_settings_budget_and_usage(sim: SimHarness, clock: FakeClock, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, quota=QuotaSettings(user_day_points=7),
                            spend=SpendSettings(confirm=False))
    async with sim.client() as ima, build_app(settings, clock=clock, gateway=ima) as app:
        running = start_echo(app.context)
        assert running is not None
        async with running as echo:
            await app.start()
            await echo.say("alice", CAT)
            await app.service.wait_idle()
            await echo.say("alice", "再画一只猫的图片，用Seedream")
            await app.service.wait_idle()
            await echo.say("alice", "我今天用了多少积分？")
    text = "\n".join(m.text for m in echo.bot_messages())
    assert "已用 5 / 7，还剩 2" in text and "没有创建任务" in text
    assert "今天：5 积分" in text and "额度 7，还剩 2" in text
    assert len(await sim.tasks()) == 1


async def test_a_confirmation_declined_in_words_says_so_once(
        sim: SimHarness, clock: FakeClock, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, spend=SpendSettings(confirm_above_points=5))
    async with sim.client() as ima, build_app(settings, clock=clock, gateway=ima) as app:
        running = start_echo(app.context)
        assert running is not None
        async with running as echo:
            await app.start()
            await echo.say("alice", CAT)
            await app.service.wait_idle()
            await echo.say("alice", "不用")
            await app.service.wait_idle()
            dropped = [m for m in echo.bot_messages() if "没有创建任务" in m.text]
    assert len(dropped) == 1  # one message says it was dropped, not the status and a reply both
    assert await sim.tasks() == []
