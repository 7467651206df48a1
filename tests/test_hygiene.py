"""Text hygiene at intake (core.intent.hygiene.clean_text): what any client can send is cleaned before it
is parsed or stored, so random unicode can no longer crash intake (unpaired surrogates used to raise
``UnicodeEncodeError`` when the job row was written)."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.intent.hygiene import MAX_TEXT_CHARS, clean_name, clean_text
from core.jobs import JobState
from core.platform import Step
from core.types import Platform
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink


def test_unpaired_surrogates_and_controls_go_newlines_and_tabs_stay() -> None:
    assert clean_text("画\ud800一只猫\x00\x07\x1b[31m\r\n在\t弹琴\udfff") == "画一只猫[31m\n在\t弹琴"


def test_a_split_surrogate_pair_becomes_its_character_and_text_is_nfc() -> None:
    assert clean_text("cat \ud83d\ude00") == "cat 😀"
    assert clean_text("cafe\u0301") == "café" == unicodedata.normalize("NFC", "cafe\u0301")


def test_length_is_capped_and_names_are_one_short_line() -> None:
    assert len(clean_text("猫" * 50_000)) == MAX_TEXT_CHARS
    assert clean_name("my\ncat\ud800 .png") == "my cat .png"
    assert len(clean_name("a" * 1_000)) == 200


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=300))
def test_any_text_comes_out_encodable_and_stable(text: str) -> None:
    cleaned = clean_text(text)
    cleaned.encode("utf-8")  # never raises
    assert clean_text(cleaned) == cleaned
    assert all(ch in "\n\t" or unicodedata.category(ch) != "Cc" for ch in cleaned)


async def test_a_message_with_surrogates_is_taken_in_and_generated(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        job_id = await service.handle_message(conversation(), "画一只\ud800可爱的橘猫\x00\udfff")
        assert job_id is not None
        await service.wait_idle()
        job = await service.job(job_id)
        notices = len(sink.of_step(Step.NOTICE))
        await service.handle_message(conversation(), "\ud83d\x00")  # nothing left to create: asked
        assert len(sink.of_step(Step.NOTICE)) == notices + 1
    assert job is not None and job.state is JobState.DONE
    assert "\ud800" not in job.request.prompt and "橘猫" in job.request.prompt
    assert Step.SUCCESS in sink.steps(job_id)
