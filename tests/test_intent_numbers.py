"""Odd numbers (issue #13 item 8): lengths no clip has become the model's default with a notice before
anything is charged, and never stay in the prompt; counts become ``n`` only where the model offers it."""

from __future__ import annotations

import pytest

from adapters.sqlite.db import Database
from core.catalog.models import ModelCatalog
from core.clock import FakeClock
from core.intent import parse
from core.jobs import JobState
from core.platform import Step
from core.types import Platform
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink

CATALOG = ModelCatalog.load_default()


@pytest.mark.parametrize(
    ("text", "words", "prompt"),
    [
        ("1e308 seconds video of a cat", "1e308 seconds", "a cat"),
        ("99999秒的视频，一只猫在弹钢琴", "99999秒", "一只猫在弹钢琴"),
        ("0秒 视频 一只猫在弹钢琴", "0秒", "一只猫在弹钢琴"),
        ("-5秒 视频 一只猫在弹钢琴", "-5秒", "一只猫在弹钢琴"),
        ("a -5 second clip of waves", "-5 second", "waves"),
    ],
)
def test_lengths_no_clip_has_are_set_aside_not_clamped(text: str, words: str, prompt: str) -> None:
    request = parse(text, catalog=CATALOG)
    assert request.params == {"duration_rejected": words}
    assert request.prompt == prompt


def test_a_usable_length_next_to_an_odd_one_wins() -> None:
    assert parse("10秒视频，不是0秒，一只猫", catalog=CATALOG).params["duration"] == 10


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("画4张小狗的插画", 4),
        ("写两首歌，关于夏天", 2),
        ("generate 4 images of a fox", 4),
        ("two versions of a logo", 2),
    ],
)
def test_counts_become_n(text: str, n: int) -> None:
    assert parse(text, catalog=CATALOG).params["n"] == n


@pytest.mark.parametrize("text", ["两只猫在打架的视频", "三个人在跳舞的视频", "画一张猫"])
def test_counted_subjects_are_no_counts(text: str) -> None:
    assert "n" not in parse(text, catalog=CATALOG).params


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        (
            "1e308 seconds video of a cat",
            "Wan 2.6 can make 5–15 s clips; “1e308 seconds” is not a length it can do,"
            " so using the default 5 s.",
        ),
        (
            "99999秒的视频，一只猫在弹钢琴",
            "万相 Wan 2.6 可生成 5–15 秒的视频，“99999秒”不是它能做的时长，将使用默认的 5 秒。",
        ),
    ],
)
async def test_odd_length_costs_the_default_and_says_so_before_the_charge(
    text: str, notice: str, sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        plain = await service.handle_message(conversation(message_id="plain"), "一只猫在弹钢琴的视频")
        odd = await service.handle_message(conversation(message_id="odd"), text)
        assert plain is not None and odd is not None
        plain_job, odd_job = await service.wait_for(plain), await service.wait_for(odd)
    assert plain_job is not None and odd_job is not None and odd_job.state is JobState.DONE
    assert odd_job.credits == plain_job.credits  # the default length's price, not the longest one's
    plain_task, odd_task = await sim.tasks()
    assert (
        odd_task["payload"]["parameters"][0]["parameters"]["duration"]
        == (plain_task["payload"]["parameters"][0]["parameters"]["duration"])
    )
    pregen = sink.of_step(Step.PREGEN, odd)[0]
    assert notice in pregen.text
    assert odd_task["payload"]["parameters"][0]["parameters"]["prompt"] in ("a cat", "一只猫在弹钢琴")


def _inner(task: dict[str, object]) -> dict[str, object]:
    payload = task["payload"]
    assert isinstance(payload, dict)
    inner = payload["parameters"][0]["parameters"]
    assert isinstance(inner, dict)
    return inner


async def _run(
    service_text: str, sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> str:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        job_id = await service.handle_message(conversation(), service_text)
        assert job_id is not None
        job = await service.wait_for(job_id)
    assert job is not None and job.state is JobState.DONE, job
    return job_id


async def test_a_count_the_model_offers_is_one_task_with_n_and_n_times_the_credits(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    job_id = await _run("写两首歌，关于夏天的海边", sim, db, clock, sink)
    (task,) = await sim.tasks()
    assert _inner(task)["n"] == 2
    pregen = sink.of_step(Step.PREGEN, job_id)[0]
    assert "将一次生成 2 个结果，积分为单个结果的 2 倍。" in pregen.text
    cast = _inner(task)["cast"]
    assert isinstance(cast, dict)
    assert pregen.credits == 2 * cast["points"] == task["points"]  # the simulator charges points × n


async def test_a_count_the_model_does_not_offer_is_said_before_the_charge(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    job_id = await _run("draw 4 images of a fox in the snow", sim, db, clock, sink)
    (task,) = await sim.tasks()
    assert _inner(task)["n"] == 1
    pregen = sink.of_step(Step.PREGEN, job_id)[0]
    assert (
        "makes one result at a time (you asked for 4); making 1 now — say “again” for another." in pregen.text
    )


async def test_speaking_speed_reaches_the_payload_as_audio_params(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    await _run("语速快一点，读：今天是个好日子", sim, db, clock, sink)
    (task,) = await sim.tasks()
    inner = _inner(task)
    assert inner["audio_params"] == {"speech_rate": 20}
    assert inner["prompt"] == "今天是个好日子"


async def test_a_voice_the_model_cannot_choose_gets_a_notice(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    job_id = await _run("用男声朗读：欢迎收听今天的节目", sim, db, clock, sink)
    pregen = sink.of_step(Step.PREGEN, job_id)[0]
    assert "不支持设置男声/女声，将使用默认值。" in pregen.text
