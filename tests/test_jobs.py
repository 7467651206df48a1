from __future__ import annotations

from pathlib import Path

import pytest

from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from core.errors import ErrorKind
from core.jobs import ALLOWED_TRANSITIONS, Job, JobState, TransitionError
from core.request import GenerationRequest, PreferenceIntent, Tier
from core.types import Attachment, AttachmentKind, Language, MediaResult, MediaType, TaskType
from tests.support.conversations import conversation


def make_job(job_id: str = "j1", key: str = "console:m1") -> Job:
    request = GenerationRequest(
        media_type=MediaType.VIDEO, task_type=TaskType.IMAGE_TO_VIDEO, prompt="一只猫在跳舞",
        language=Language.ZH, model_id="wan2.6-i2v", tier=Tier.FAST, params={"duration": 5},
        preference=PreferenceIntent.SAVE,
        attachments=(Attachment(AttachmentKind.IMAGE, "cat.png", "/tmp/cat.png", size=10,
                                role="first_frame"),),
        notices=("注意",),
    )
    return Job(job_id=job_id, idempotency_key=key, conversation=conversation(message_id="m1"),
               request=request, state=JobState.RECEIVED, created_at=100.0, updated_at=100.0)


def test_terminal_states_allow_no_way_out() -> None:
    for state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT):
        assert ALLOWED_TRANSITIONS[state] == frozenset()
        assert state.terminal


def test_forbidden_transition_raises_and_allowed_one_stamps_finish_time() -> None:
    job = make_job()
    with pytest.raises(TransitionError):
        job.advance(JobState.RUNNING, 101.0)
    failed = job.advance(JobState.FAILED, 102.0, error_kind=ErrorKind.NETWORK)
    assert failed.finished_at == 102.0 and failed.updated_at == 102.0


def test_delivering_can_only_finish_as_done() -> None:
    assert ALLOWED_TRANSITIONS[JobState.DELIVERING] == frozenset({JobState.DONE})


async def test_store_round_trips_every_field(db: Database) -> None:
    store = SqliteJobStore(db)
    job = make_job()
    stored, inserted = await store.insert(job)
    assert inserted and stored == job
    done = (job.advance(JobState.ACKNOWLEDGED, 101.0).with_ref("status", "msg-1", 101.0)
            .advance(JobState.SUBMITTING, 102.0, model_id="m", model_name="Wan 2.6", credits=25,
                     eta_s=(60, 120))
            .advance(JobState.SUBMITTED, 103.0, task_id="t-1", submitted_at=103.0)
            .advance(JobState.DELIVERING, 150.0, result=(MediaResult("https://x/v.mp4", MediaType.VIDEO,
                                                                      cover_url="https://x/c.jpg"),))
            .advance(JobState.DONE, 151.0))
    done = done.update(151.0, notes=("n1",), hints=("h1",), from_preference=True, polls=4)
    await store.save(done)
    assert await store.get("j1") == done
    assert await store.by_key("console:m1") == done


async def test_repeated_idempotency_key_returns_the_first_job(db: Database) -> None:
    store = SqliteJobStore(db)
    await store.insert(make_job("j1"))
    again, inserted = await store.insert(make_job("j2"))
    assert not inserted and again.job_id == "j1"
    assert await store.get("j2") is None


async def test_unfinished_lists_only_live_jobs_and_survives_reopen(db_path: Path) -> None:
    async with Database(db_path) as db:
        store = SqliteJobStore(db)
        await store.insert(make_job("a", "k1"))
        b, _ = await store.insert(make_job("b", "k2"))
        await store.save(b.advance(JobState.FAILED, 120.0, error_kind=ErrorKind.AUTH))
    async with Database(db_path) as db:
        live = await SqliteJobStore(db).unfinished()
    assert [j.job_id for j in live] == ["a"]
