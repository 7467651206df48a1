"""Newcomer QA regressions for the terminal chat: nothing a user reads is printed twice."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

from adapters.console.chat import ConsoleChat
from adapters.console.sink import ConsoleSink
from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.messages import Messages
from core.platform import Slot, Step, UxEvent
from core.types import Language, MediaResult, MediaType, Platform
from tests.support.conversation import running_conversation
from tests.support.conversations import conversation
from tests.support.ima import SimHarness

M = Messages.from_package()


def event(step: Step, slot: Slot, text: str, job_id: str = "j", **kw: object) -> UxEvent:
    return UxEvent(job_id=job_id, conversation=conversation(), step=step, slot=slot, text=text,
                   language=Language.EN, **kw)  # type: ignore[arg-type]


async def test_result_url_is_printed_once_and_no_done_line_follows_the_result() -> None:
    out = io.StringIO()
    sink = ConsoleSink(out, M, tty=False)
    url = "http://x/v.mp4"
    await sink.emit(event(Step.SUCCESS, Slot.RESULT, "✅ ready",
                          media=(MediaResult(url, MediaType.VIDEO, cover_url="http://x/c.jpg"),)))
    await sink.emit(event(Step.SUCCESS, Slot.RESULT, f"🔗 Video link (copy & share):\n{url}"))
    await sink.emit(event(Step.DONE, Slot.STATUS, "head\n\n✅ Done in 30s"))
    text = out.getvalue()
    assert text.count(url) == 1
    assert "Done in" not in text
    assert "🖼️ Cover: http://x/c.jpg" in text


async def test_extra_results_keep_their_urls_and_other_jobs_keep_their_done_line() -> None:
    out = io.StringIO()
    sink = ConsoleSink(out, M, tty=False)
    await sink.emit(event(Step.SUCCESS, Slot.RESULT, "✅ ready",
                          media=(MediaResult("http://x/1.png", MediaType.IMAGE),
                                 MediaResult("http://x/2.png", MediaType.IMAGE))))
    await sink.emit(event(Step.DONE, Slot.STATUS, "🛑 Cancelled", job_id="other"))
    text = out.getvalue()
    assert "🎞️ Media: http://x/2.png" in text and "http://x/1.png" not in text
    assert "🛑 Cancelled" in text


async def test_cancel_and_retry_in_the_chat_say_each_thing_once(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    out = io.StringIO()
    sink = ConsoleSink(out, M, tty=False)
    async with running_conversation(sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        chat = ConsoleChat(bot, M, out, language=Language.EN)

        async def typed() -> AsyncIterator[str]:
            yield "a dog running on the beach, video\n"
            yield "/cancel\n"
            yield "/retry\n"
            await bot.pipeline.wait_idle()

        assert await chat.run(typed()) is True
    text = out.getvalue()
    assert text.count("🛑 Cancelled as you asked") == 1 and "❌ Video generation failed" not in text
    assert text.count('\n"a dog running on the be…" (') == 1  # which job, and whether it cost anything,
    assert text.count("Nothing was charged") + text.count("points were charged") == 1  # said once
    assert "OK, starting a new generation" not in text
    assert text.count("OK! Let me make that video for you") == 2  # the request, then the retry
    assert text.count("✅ Your video is ready!") == 1
