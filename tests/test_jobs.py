from __future__ import annotations

import pytest

from core.errors import ErrorKind
from core.jobs import ALLOWED_TRANSITIONS, Job, JobState, TransitionError
from core.request import GenerationRequest, PreferenceIntent, Tier
from core.types import Attachment, AttachmentKind, Language, MediaType, TaskType
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
