"""Issue #12 through the real service, SQLite stores and the in-process simulator: budgets, the queue,
confirmations (buttons, words, expiry, restart), moderation, access, pause, 429 on create."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from functools import partial
from pathlib import Path

from adapters.conversation_stores import SqlQuestionStore
from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from bot.spend_wiring import connect_question_memory
from core.clock import FakeClock
from core.conversation.desk import QuestionDesk
from core.conversation.questions import QuestionAnswer, QuestionKind
from core.errors import ErrorKind
from core.jobs import JobState
from core.messages import Messages
from core.platform import ActionKind, ActionOutcome, Step, UxEvent
from core.spend.policy import (
    AccessPolicy,
    BillingMode,
    ConfirmPolicy,
    DisallowedReply,
    PlaceRules,
    QuotaPolicy,
    SpendPolicy,
)
from core.spend.ports import Ledger
from core.types import Attachment, AttachmentKind, Conversation, Language, Platform
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.sinks import RecordingSink
from tests.support.spend import GatewayTap, spend_service

CAT = "用Seedream生成一只猫的图片"  # 5 points
NO_CONFIRM = ConfirmPolicy(enabled=False)


def chat(user: str = "u1", chat_id: str = "c1", **kw: object) -> Conversation:
    return conversation(user_id=user, chat_id=chat_id, is_direct=False, **kw)  # type: ignore[arg-type]


async def test_daily_budget_refuses_before_anything_is_created_and_says_what_is_left(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    policy = SpendPolicy(quota=QuotaPolicy(user_day_points=12), confirm=NO_CONFIRM)
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, policy) as (service, _):
        for _ in range(2):
            job = await service.wait_for(await service.handle_message(chat(), CAT) or "")
            assert job is not None and job.state is JobState.DONE and job.credits == 5
        refused_id = await service.handle_message(chat(), CAT)
        refused = await service.wait_for(refused_id or "")
    assert (
        refused is not None and refused.state is JobState.FAILED and refused.error_kind is ErrorKind.REFUSED
    )
    text = sink.of_step(Step.FAILURE, refused.job_id)[0].text
    assert "已用 10 / 12，还剩 2" in text and "重置" in text and "未扣积分" in text
    assert len(await sim.tasks()) == 2  # the third never reached IMA
    assert all(e.credits is None for e in sink.for_job(refused.job_id))  # no cost shown for it


async def test_hundred_concurrent_requests_from_one_user_get_exactly_the_caps(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    policy = SpendPolicy(quota=QuotaPolicy(running_per_user=2, queued_per_user=5), confirm=NO_CONFIRM)
    held_at_create: list[int] = []
    ledger: list[Ledger] = []

    async def note_held() -> None:  # how many of the user's jobs hold a reservation at every create
        held_at_create.append((await ledger[0].open_counts("console", "u1"))[0])

    tap = partial(GatewayTap, before_create=note_held)
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, policy, wrap_gateway=tap) as (
            service, spend):
        ledger.append(spend.gate.ledger)
        ids = await asyncio.gather(*(service.handle_message(chat(), CAT) for _ in range(100)))
        accepted = [i for i in ids if i is not None]
        open_at_intake = await spend.gate.ledger.open_counts("console", "u1")
        await service.wait_idle()
        jobs = [await service.job(i) for i in accepted]
    assert len(accepted) == 7 and sum(open_at_intake) == 7
    refusals = [e for e in sink.of_step(Step.NOTICE) if "上限" in e.text]
    assert len(refusals) == 93 and all("没有创建任务" in e.text for e in refusals)
    assert all(j is not None and j.state is JobState.DONE for j in jobs)
    assert len(await sim.tasks()) == 7
    assert len(held_at_create) == 7 and max(held_at_create) == 2  # never more than 2 running at once
    print(f"\nconcurrency: 100 requests -> {len(accepted)} accepted, {len(refusals)} refused, "
          f"{len(await sim.tasks())} tasks created, at most {max(held_at_create)} running")


async def test_queue_position_is_shown_and_moves(sim: SimHarness, db: Database, clock: FakeClock,
                                                 sink: RecordingSink) -> None:
    policy = SpendPolicy(quota=QuotaPolicy(running_per_user=1, queued_per_user=5), confirm=NO_CONFIRM)
    release = asyncio.Event()

    def queue_lines(job_id: str | None) -> list[str]:
        return [e.text.rsplit("\n", 1)[-1] for e in sink.for_job(job_id or "") if "排队中" in e.text]

    one_ahead = asyncio.Event()

    class Watching:
        async def emit(self, event: UxEvent) -> str | None:
            if "前面还有 1 个" in event.text:  # only the third job can have one ahead of it
                one_ahead.set()
            return await sink.emit(event)

    async with spend_service(sim, db, clock, {Platform.CONSOLE: Watching()}, policy,
                             wrap_gateway=partial(GatewayTap, before_poll=release.wait)) as (service, spend):
        ids = [await service.handle_message(chat(), CAT) for _ in range(3)]
        await one_ahead.wait()
        assert await spend.gate.ledger.open_counts("console", "u1") == (1, 2)
        assert queue_lines(ids[1]) == ["⏳ 排队中，等你正在运行的任务完成后开始"]
        release.set()
        await service.wait_idle()
    third = queue_lines(ids[2])
    assert third[-2:] == ["⏳ 排队中，前面还有 1 个", "⏳ 排队中，等你正在运行的任务完成后开始"], third
    assert len(await sim.tasks()) == 3


async def test_expensive_job_waits_for_a_yes_in_words(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5))
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, policy) as (service, _):
        job_id = await service.handle_message(chat(), CAT) or ""
        job = await service.wait_for(job_id)
        assert job is not None and job.state is JobState.AWAITING_CONFIRMATION
        question = sink.for_job(job_id)[-1]
        assert "5 积分" in question.text and question.actions == (ActionKind.CONFIRM, ActionKind.DECLINE)
        assert "我可以这样为你生成" in question.text  # an offer: nothing is said to have started
        assert "开始生成" not in question.text and "请稍候" not in question.text
        assert await sim.tasks() == []
        assert await service.handle_message(chat(), "好的") is None
        await service.wait_idle()
        done = await service.job(job_id)
    assert done is not None and done.state is JobState.DONE
    assert "已确认" in sink.all_text() and len(await sim.tasks()) == 1


async def test_confirmation_by_button_only_for_the_requester_and_only_once(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5))
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, policy) as (service, _):
        job_id = await service.handle_message(chat(), CAT) or ""
        await service.wait_for(job_id)
        other = await service.handle_action(chat(user="u2"), job_id, ActionKind.CONFIRM)
        assert other.outcome is ActionOutcome.NOT_OWNER and await sim.tasks() == []
        first = await service.handle_action(chat(), job_id, ActionKind.CONFIRM)
        second = await service.handle_action(chat(), job_id, ActionKind.CONFIRM)
        await service.wait_idle()
    assert first.outcome is ActionOutcome.STARTED
    assert second.outcome is ActionOutcome.NOT_ALLOWED and "已经确认过" in second.text
    assert len(await sim.tasks()) == 1


async def test_declined_confirmation_creates_nothing(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5))
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, policy) as (service, spend):
        job_id = await service.handle_message(chat(), CAT) or ""
        await service.wait_for(job_id)
        reply = await service.handle_action(chat(), job_id, ActionKind.DECLINE)
        again = await service.handle_message(chat(), "yes")  # nothing pending any more: a new request
        await service.wait_idle()
        job = await service.job(job_id)
        entry = await spend.gate.ledger.get(job_id)
    assert reply.outcome is ActionOutcome.CANCELLED and "未扣积分" in reply.text
    assert job is not None and job.state is JobState.CANCELLED
    assert entry is not None and entry.state.value == "released" and entry.points == 0
    assert again is None  # "yes" with nothing pending is not an order
    assert await sim.tasks() == []


async def test_an_answer_after_expiry_says_so_and_creates_nothing(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5, expiry_s=600))
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, policy) as (service, _):
        job_id = await service.handle_message(chat(), CAT) or ""
        await service.wait_for(job_id)
        clock.advance(601)
        reply = await service.handle_action(chat(), job_id, ActionKind.CONFIRM)
        job = await service.job(job_id)
    assert reply.outcome is ActionOutcome.NOT_ALLOWED and "已过期" in reply.text
    assert job is not None and job.state is JobState.CANCELLED
    assert await sim.tasks() == []


async def test_pending_confirmation_survives_a_restart(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5))
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, policy) as (service, _):
        job_id = await service.handle_message(chat(), CAT) or ""
        await service.wait_for(job_id)
    stored = await SqliteJobStore(db).get(job_id)
    assert stored is not None and stored.state is JobState.AWAITING_CONFIRMATION
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, policy) as (service, _):
        await service.handle_message(chat(), "yes")
        await service.wait_idle()
        job = await service.job(job_id)
    assert job is not None and job.state is JobState.DONE and len(await sim.tasks()) == 1


async def test_unknown_model_and_unsupported_resolution_need_confirmation_even_when_cheap(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, SpendPolicy()) as (service, _):
        runway = await service.handle_message(chat(), "用Runway Gen-4生成一只猫在弹钢琴的视频") or ""
        hailuo = await service.handle_message(chat(), "用海螺2.3生成竖屏视频，一只猫在弹钢琴") or ""
        jobs = [await service.wait_for(runway), await service.wait_for(hailuo)]
    assert all(j is not None and j.state is JobState.AWAITING_CONFIRMATION for j in jobs)
    assert "你指定的模型不可用" in sink.for_job(runway)[-1].text
    assert "画面比例或分辨率" in sink.for_job(hailuo)[-1].text
    assert await sim.tasks() == []


async def test_dont_ask_me_again_is_remembered(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5))
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, policy) as (service, _):
        first = await service.handle_message(chat(), CAT) or ""
        await service.wait_for(first)
        await service.handle_message(chat(), "不用确认")  # confirms the pending one and remembers
        await service.wait_idle()
        second = await service.handle_message(chat(), CAT) or ""
        await service.wait_idle()
        jobs = [await service.job(first), await service.job(second)]
    assert all(j is not None and j.state is JobState.DONE for j in jobs)
    assert "不再询问" in sink.all_text()


async def test_blocked_words_are_refused_politely_before_anything_is_created(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    policy = SpendPolicy(blocked_words=("Forbidden Thing",), confirm=NO_CONFIRM)
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, policy) as (service, _):
        zh = await service.handle_message(chat(), "用Seedream生成一张ｆｏｒｂｉｄｄｅｎ ｔｈｉｎｇ的图片")
        en = await service.handle_message(chat(), "generate an image of a forbidden thing with seedream")
    assert zh is None and en is None
    notices = [e for e in sink.of_step(Step.NOTICE)]
    assert "不允许生成" in notices[0].text and "isn't allowed to generate" in notices[1].text
    assert await sim.tasks() == []


async def test_disallowed_places_are_ignored_or_told_once(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    access = AccessPolicy(
        discord_guilds=PlaceRules(allow=frozenset({"g-ok"})),
        discord_users=PlaceRules(deny=frozenset({"bad"})),
        disallowed_reply=DisallowedReply.NOTICE_ONCE,
    )
    policy = SpendPolicy(access=access, confirm=NO_CONFIRM)

    def discord(guild: str, user: str = "u1") -> Conversation:
        return replace(conversation(Platform.DISCORD, user_id=user, is_direct=False), space_id=guild)

    async with spend_service(sim, db, clock, {Platform.DISCORD: sink}, policy) as (service, _):
        assert await service.handle_message(discord("g-other"), CAT) is None
        assert await service.handle_message(discord("g-other"), CAT) is None
        assert await service.handle_message(replace(discord("g-ok", "bad"), chat_id="c9"), CAT) is None
        allowed = await service.handle_message(discord("g-ok"), CAT)
        await service.wait_idle()
    refusals = [e.conversation.chat_id for e in sink.of_step(Step.NOTICE) if "不能使用" in e.text]
    assert refusals == ["chat-1", "c9"]  # once per place, then silence
    assert allowed is not None and len(await sim.tasks()) == 1


async def test_create_refused_with_429_waits_and_retries(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    await sim.set_faults(["create:http=429:retry_after=20:times=2"])
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, SpendPolicy(confirm=NO_CONFIRM)) as (
        service,
        _,
    ):
        started = clock.now()
        job = await service.wait_for(await service.handle_message(chat(), CAT) or "")
    assert job is not None and job.state is JobState.DONE
    assert job.submitted_at is not None and job.submitted_at - started >= 40  # two Retry-After waits
    busy = [e for e in sink.for_job(job.job_id) if "服务繁忙，正在重试" in e.text]
    assert len(busy) == 2 and len(await sim.tasks()) == 1


async def test_create_refused_with_429_three_times_fails_with_the_translated_text(
    sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    await sim.set_faults(["create:http=429:retry_after=5"])
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, SpendPolicy(confirm=NO_CONFIRM)) as (
        service,
        spend,
    ):
        job = await service.wait_for(await service.handle_message(chat(), CAT) or "")
        entry = await spend.gate.ledger.get(job.job_id if job else "")
    assert job is not None and job.state is JobState.FAILED and job.error_kind is ErrorKind.RATE_LIMITED
    assert (await sim.calls()).get("tasks/create") == 3 and await sim.tasks() == []
    failure = sink.of_step(Step.FAILURE, job.job_id)[0].text
    assert "429" not in failure and failure.strip()
    assert entry is not None and entry.state.value == "released"  # nothing created, nothing charged


async def test_confirmation_is_answerable_through_the_conversation_question_memory(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    policy = SpendPolicy(confirm=ConfirmPolicy(above_points=5))
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, policy) as (service, _):
        desk = QuestionDesk(SqlQuestionStore(db), clock, Messages.from_package())
        connect_question_memory(service, desk)
        job_id = await service.handle_message(chat(), CAT) or ""
        await service.wait_for(job_id)
        question = await desk.pending(chat())
        assert question is not None and question.kind is QuestionKind.CONFIRMATION
        assert question.subject_id == job_id
        stranger = await desk.answer(question, QuestionAnswer(yes=True), chat(user="u2"))
        reply = await desk.answer(question, QuestionAnswer(yes=True), chat())
        await service.wait_idle()
        job = await service.job(job_id)
    assert stranger.outcome is ActionOutcome.NOT_OWNER
    assert reply.outcome is ActionOutcome.STARTED and job is not None and job.state is JobState.DONE
    assert len(await sim.tasks()) == 1


async def test_a_key_refused_later_is_told_once_and_jobs_fall_back_to_the_operator(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    policy = SpendPolicy(confirm=NO_CONFIRM, billing=BillingMode.USER_KEY)
    own = "ima_carol_key_0000beef"
    dm = conversation(user_id="carol", chat_id="dm-carol", is_direct=True)
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, policy) as (service, _):
        assert await service.handle_message(dm, f"key {own}") is None
        await sim.set_faults(["create:http=401:once"])
        first_id = await service.handle_message(replace(dm, message_id="m-a"), CAT)
        first = await service.wait_for(first_id or "")  # refused by IMA: the key is marked invalid
        second_id = await service.handle_message(replace(dm, message_id="m-b"), CAT)
        second = await service.wait_for(second_id or "")
        usage = await service.spend.describe_usage(dm, Language.ZH) if service.spend else ""
    assert first is not None and first.state is JobState.FAILED and first.error_kind is ErrorKind.AUTH
    failure = sink.of_step(Step.FAILURE, first.job_id)[0].text
    assert "你自己的 IMA 密钥 ima_…beef" in failure and "改用机器人管理员的账户" in failure
    assert second is not None and second.state is JobState.DONE
    (task,) = await sim.tasks()
    assert task["key"].startswith("ima_te")  # the operator's account paid for the second job
    assert sink.all_text().count("改用机器人管理员的账户") == 1  # told once
    assert "已被 IMA 拒绝" in usage
    assert own not in sink.all_text()


async def test_a_refused_attachment_never_shows_a_cost(sim: SimHarness, db: Database, clock: FakeClock,
                                                       sink: RecordingSink, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"this is not a picture" * 10)  # the probe cannot read it
    frame = Attachment(kind=AttachmentKind.IMAGE, name="broken.png", ref=str(broken))
    async with spend_service(sim, db, clock, {Platform.CONSOLE: sink}, SpendPolicy(confirm=NO_CONFIRM),
                             media_dir=tmp_path / "work") as (service, spend):
        job = await service.wait_for(await service.handle_message(chat(), "让这张图动起来", (frame,)) or "")
        entry = await spend.gate.ledger.get(job.job_id if job else "")
    assert job is not None and job.state is JobState.FAILED and job.error_kind is ErrorKind.INVALID_INPUT
    assert all(e.credits is None for e in sink.for_job(job.job_id))  # checked before any cost was shown
    assert "pts" not in " ".join(sink.texts(job.job_id))
    assert entry is not None and entry.state.value == "released" and await sim.tasks() == []
