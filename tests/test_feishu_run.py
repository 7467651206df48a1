"""What ``imabot run`` builds for Feishu: ``bot.wiring.build_app`` + ``start_feishu`` with real HTTP to a
loopback simulator and the fake Feishu (only the clock is virtual)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.feishu_wiring import start_feishu
from bot.settings import FeishuSettings, ImaSettings, Secrets, Settings, StorageSettings
from bot.sim_mode import SIM_API_KEY
from bot.wiring import build_app
from core.clock import FakeClock
from sim.config import SimConfig
from sim.server import run_in_background
from tests.feishu_fake.events import message_event
from tests.feishu_fake.fixtures import running_fake


async def test_run_wiring_takes_a_group_mention_to_an_inline_video(tmp_path: Path, clock: FakeClock) -> None:
    async with running_fake() as fake, run_in_background(SimConfig(), clock=clock) as sim_url:
        settings = Settings(feishu=FeishuSettings(domain=fake.base_url),
                            ima=ImaSettings(base_url=sim_url, upload_base_url=sim_url),
                            storage=StorageSettings(data_dir=tmp_path))
        settings.secrets = Secrets(ima_api_key=SecretStr(SIM_API_KEY), feishu_app_id=SecretStr(fake.app_id),
                                   feishu_app_secret=SecretStr("secret"))
        async with build_app(settings, clock=clock) as app:
            running = start_feishu(app.context)
            assert running is not None
            async with running:
                await app.start()
                ack = await fake.push_event(message_event(text="生成一段海浪拍打礁石的视频"))
                assert ack.code == 200
                await fake.wait_until(lambda f: any(m.msg_type == "media" for m in f.messages))
                await app.service.wait_idle()
    kinds = [m.msg_type for m in fake.messages]
    assert kinds[0] == "interactive" and "media" in kinds, kinds
    assert any(m.msg_type == "text" and sim_url in m.content["text"] for m in fake.messages)
