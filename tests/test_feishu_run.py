"""What ``imabot run`` builds for Feishu: ``bot.wiring.build_app`` + ``start_feishu`` with real HTTP to a
loopback simulator and the fake Feishu (only the clock is virtual)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
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
from tests.feishu_fake.webhook_client import encrypt, signed_headers, with_token


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
                await fake.wait_until(lambda f: any(m.msg_type == "media" for m in f.messages),
                                      within_s=120.0)
                await app.service.wait_idle()
    kinds = [m.msg_type for m in fake.messages]
    assert kinds[0] == "interactive" and "media" in kinds, kinds
    assert any(m.msg_type == "text" and sim_url in m.content["text"] for m in fake.messages)



def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_run_wiring_over_the_webhook_with_encryption(tmp_path: Path, clock: FakeClock) -> None:
    port = free_port()
    async with running_fake() as fake, run_in_background(SimConfig(), clock=clock) as sim_url:
        settings = Settings(feishu=FeishuSettings(domain=fake.base_url, intake="webhook", webhook_port=port),
                            ima=ImaSettings(base_url=sim_url, upload_base_url=sim_url),
                            storage=StorageSettings(data_dir=tmp_path))
        settings.secrets = Secrets(ima_api_key=SecretStr(SIM_API_KEY), feishu_app_id=SecretStr(fake.app_id),
                                   feishu_app_secret=SecretStr("secret"), feishu_encrypt_key=SecretStr("ek"),
                                   feishu_verification_token=SecretStr("vt"))
        async with build_app(settings, clock=clock) as app:
            running = start_feishu(app.context)
            assert running is not None
            async with running, httpx.AsyncClient() as http:
                await app.start()
                url = f"http://127.0.0.1:{port}/feishu/events"
                dm = message_event(text="画一只可爱的橘猫", chat_type="p2p", mention_bot=False)
                event = with_token(dm, "vt")
                body = encrypt(event, "ek")
                response = await http.post(url, content=body, headers=signed_headers(body, "ek"))
                assert response.status_code == 200
                forged = await http.post(url, content=body, headers=signed_headers(body, "not-the-key"))
                assert forged.status_code == 401
                await fake.wait_until(lambda f: any(m.msg_type == "image" for m in f.messages),
                                      within_s=120.0)
                await app.service.wait_idle()
    assert [m.msg_type for m in fake.messages].count("image") == 1
