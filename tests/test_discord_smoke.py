from __future__ import annotations

from core.clock import FakeClock
from tests.discord_fake.fake_service import RecordingService
from tests.discord_fake.harness import running_adapter
from tests.discord_fake.server import FakeDiscord


async def test_client_logs_in_and_defers_a_slash_command() -> None:
    async with FakeDiscord() as fake:
        service = RecordingService()
        async with running_adapter(fake, service, FakeClock(auto=False)):
            await fake.slash("video", {"prompt": "a cat surfing"})
            await fake.wait_for_request("PATCH", "/messages/@original")
            callbacks = fake.find("POST", "/callback")
            assert callbacks[0].body["type"] == 5
            assert service.calls[0].text == "a cat surfing"
