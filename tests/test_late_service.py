# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""``imabot run`` connects Discord before the app is built (bot/late_service.py): a message or command
that arrives meanwhile is acknowledged at once and handled once the app is bound, never before and
never lost; /help answers from the message catalog alone; the spend commands wait likewise."""

from __future__ import annotations

import asyncio

from bot.late_service import LateService
from core.clock import FakeClock
from core.conversation.answers import help_text
from core.messages import Messages
from core.types import Language
from tests.discord_fake.fake_service import RecordingService
from tests.discord_fake.fixtures import fake  # noqa: F401
from tests.discord_fake.harness import running_adapter
from tests.discord_fake.server import FakeDiscord
from tests.support.conversations import conversation
from tests.support.sinks import RecordingSink

MESSAGES = Messages.from_package()


async def test_calls_wait_for_the_bound_service_and_then_go_to_it() -> None:
    late, real = LateService(MESSAGES), RecordingService(sink=RecordingSink("chat"))
    waiting = asyncio.create_task(late.handle_message(conversation(), "一只猫"))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not waiting.done() and real.calls == []
    late.bind(real)
    await asyncio.wait_for(waiting, 10)
    assert [c.text for c in real.calls] == ["一只猫"]
    assert await late.models_for(real.leaves[0].category) == real.leaves


def test_help_before_the_app_is_built_is_the_services_own_text() -> None:
    late = LateService(MESSAGES)
    for language in Language:
        assert late.help_text(language) == help_text(MESSAGES, None, language)
        assert "\n\n" in late.help_text(language)


async def test_the_spend_desk_waits_too() -> None:
    late = LateService(MESSAGES)
    desk = late.spend
    usage = asyncio.create_task(desk.describe_usage(conversation(), Language.EN))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not usage.done()
    assert not desk.is_admin(conversation())  # fails closed until the real desk is there
    usage.cancel()


async def test_a_slash_command_during_start_up_is_acknowledged_then_handled(fake: FakeDiscord) -> None:
    late, real = LateService(MESSAGES), RecordingService()
    async with running_adapter(fake, late, FakeClock(auto=False)) as adapter:
        await fake.slash("video", {"prompt": "a fox in the snow"})
        (callback,) = await fake.wait_for_request("POST", "/callback")
        assert callback.body["type"] == 5  # deferred within Discord's deadline, the app not built yet
        assert real.calls == []
        real.sink = adapter.sink
        late.bind(real)
        await fake.wait_for_request("PATCH", "/messages/@original")
        assert [c.text for c in real.calls] == ["a fox in the snow"]
