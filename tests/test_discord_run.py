# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""The composition root as ``imabot run`` assembles it (build_app + start_discord), with the IMA
simulator and the fake Discord both on loopback sockets, on virtual time."""

from __future__ import annotations

from pathlib import Path

from bot.discord_wiring import start_discord
from bot.settings import load_settings
from bot.sim_mode import settings_for_simulator, with_data_dir
from bot.wiring import build_app
from core.clock import FakeClock
from sim.config import SimConfig
from sim.server import run_in_background
from tests.discord_fake.fixtures import fake  # noqa: F401
from tests.discord_fake.server import FakeDiscord


async def test_run_serves_a_slash_command_from_defer_to_attached_video(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    clock = FakeClock()
    async with run_in_background(SimConfig(), clock=clock) as sim_url:
        settings = load_settings(None, env={"DISCORD_BOT_TOKEN": "tok"})
        settings.discord.api_base_url = fake.api_base_url
        settings.discord.gateway_url = fake.gateway_url
        settings.bot.default_language = "en"
        settings = with_data_dir(settings_for_simulator(settings, sim_url), tmp_path)
        async with build_app(settings, clock=clock) as app:
            manager = start_discord(app.context)
            assert manager is not None
            async with manager:
                await app.start()
                await fake.identified.wait()
                await fake.slash("video", {"prompt": "waves crashing on a rocky shore", "duration": 5})
                await fake.wait_for(lambda _: len(fake.find("POST", "/channels/")) >= 2, within=60)
                await app.service.wait_idle()
    media, link = fake.find("POST", "/channels/")
    assert fake.find("POST", "/callback")[0].body["type"] == 5
    assert len(fake.find("PATCH", "/messages/@original")) >= 2  # ack, then progress in the same message
    assert [f.filename.endswith(".mp4") for f in media.files] == [True]
    assert media.content is not None and media.content.startswith(f"<@{fake.alice.id}>")
    assert link.content is not None and f"<{sim_url}/_sim/media/" in link.content
