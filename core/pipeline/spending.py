"""The runner's spend steps (issue #12), kept beside the runner so its flow stays readable:
budget pre-check before the cost is shown, confirmation, the queue turn and reservation right before
the create, the key a job runs with, and the line a failure caused by the user's own key gets."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

from core.clock import Clock
from core.errors import ErrorKind, ImabotError
from core.jobs import Job, JobState, JobStore
from core.messages import Messages
from core.platform import ActionKind, Slot, Step, UxEvent
from core.ports import ImaGateway
from core.request import GenerationRequest
from core.selection import Selection
from core.spend.gate import ConfirmFacts
from core.spend.hooks import Spend
from core.spend.keys import OWN_KEY_KINDS, KeyChoice, Payer
from core.spend.ports import Owner
from core.ux.renderer import FAILURE_PART, STATUS_PART, UxRenderer

log = logging.getLogger(__name__)
_CHANGED_OPTIONS = ("aspect_ratio", "resolution")
PAYER_SCOPE, PAYER = "job", "payer"  # spend settings: which account created a job's task
_QUEUE_ACTIONS = (ActionKind.CANCEL,)
_CONFIRM_ACTIONS = (ActionKind.CONFIRM, ActionKind.DECLINE)


class RunnerView(Protocol):
    """What the spend steps use of the runner."""

    async def emit(self, job: Job, event: UxEvent, part: str | None, *, required: bool = False) -> Job: ...

    async def finish_failed(self, job: Job, kind: ErrorKind, detail: str | None = None) -> Job: ...


def option_changed(request: GenerationRequest, selection: Selection) -> bool:
    """An aspect ratio or resolution the user asked for that the chosen model does not offer as asked."""
    for key in _CHANGED_OPTIONS:
        wanted = request.params.get(key)
        if wanted is not None and str(selection.params.get(key, "")).casefold() != str(wanted).casefold():
            return True
    return False


class SpendSteps:
    def __init__(
        self,
        runner: RunnerView,
        spend: Spend,
        jobs: JobStore,
        default_gateway: ImaGateway,
        clock: Clock,
        messages: Messages,
    ) -> None:
        self._runner = runner
        self._ux = UxRenderer(messages)
        self._clock = clock
        self._spend = spend
        self._jobs = jobs
        self._gateway = default_gateway

    async def refuse(self, job: Job, text: str, kind: ErrorKind = ErrorKind.REFUSED) -> Job:
        """End a job that a spend rule stopped before anything was created (one message says why)."""
        event = UxEvent(
            job_id=job.job_id,
            conversation=job.conversation,
            step=Step.FAILURE,
            slot=Slot.RESULT,
            text=text,
            language=job.language,
            model_id=job.model_id,
            model_name=job.model_name,
            error_kind=kind,
        )
        job = await self._runner.emit(job, event, FAILURE_PART)
        return await self._runner.finish_failed(job, kind)

    async def precheck(self, job: Job, points: int) -> Job | None:
        """Before the cost is shown: a budget that cannot take it, or no key to pay with, ends the job."""
        keys = self._spend.keys
        if keys is not None and (await keys.choose(job.conversation)).payer is Payer.NOBODY:
            return await self.refuse(job, self._spend.gate.t("spend.key.required", job.language))
        text = await self._spend.gate.budget_refusal(Owner.of(job.conversation), points, job.language)
        return await self.refuse(job, text) if text is not None else None

    async def clear_to_create(self, job: Job, selection: Selection, points: int) -> Job | ImaGateway:
        """Confirmation, then the queue turn and the atomic reservation. Returns the gateway to create
        with, or the job (parked awaiting confirmation, or refused)."""
        gate, request = self._spend.gate, job.request
        parent = await self._jobs.get(job.parent_job_id) if job.parent_job_id else None
        facts = ConfirmFacts(
            points=points,
            model_replaced=bool(request.unknown_model)
            or (request.model_id is not None and selection.source != "user"),
            option_changed=option_changed(request, selection),
            # reuses an earlier result (its media come along) with another model than the one that made it
            followup_other_model=bool(request.attachments)
            and parent is not None
            and parent.model_id not in (None, selection.model_id),
        )
        reasons = await gate.confirmation_reasons(job.job_id, job.conversation, facts, job.language)
        if reasons:
            return await self._ask(job, points, reasons)

        async def show_position(position: int | None) -> None:
            nonlocal job
            text = self._ux.pregen_block(job) + "\n\n" + gate.queue_text(position, job.language)
            job = await self._runner.emit(
                job, replace(self._ux.pregen(job), text=text, actions=_QUEUE_ACTIONS), STATUS_PART
            )

        refused = await gate.wait_turn(
            job.job_id, Owner.of(job.conversation), points, job.model_id, show_position
        )
        if refused is not None:
            limit, spent = refused
            return await self.refuse(job, gate.over_budget_text(limit, spent, points, job.language))
        return await self.creating_gateway(job)

    async def _ask(self, job: Job, points: int, reasons: tuple[str, ...]) -> Job:
        gate = self._spend.gate
        confirmation = await gate.ask(job.job_id, job.conversation, points, reasons, job.language)
        job = job.advance(JobState.AWAITING_CONFIRMATION, self._clock.now())
        await self._jobs.save(job)
        offer = self._ux.pregen_block(job, quote_only=True)  # an offer: nothing starts before a yes
        text = offer + "\n\n" + gate.question_text(confirmation, job.language)
        event = replace(self._ux.pregen(job), text=text, actions=_CONFIRM_ACTIONS)
        return await self._runner.emit(job, event, STATUS_PART)

    async def creating_gateway(self, job: Job) -> ImaGateway:
        """The user's own key when billing uses it (recorded, so polls go to the same account)."""
        keys = self._spend.keys
        choice = await keys.choose(job.conversation) if keys is not None else None
        if choice is None or choice.gateway is None:
            return self._gateway
        await self._spend.gate.settings.put(PAYER_SCOPE, job.job_id, PAYER, Payer.USER.value)
        return choice.gateway

    async def _user_paid(self, job: Job) -> KeyChoice | None:
        keys = self._spend.keys
        if (
            keys is None
            or (await self._spend.gate.settings.values(PAYER_SCOPE, job.job_id)).get(PAYER) is None
        ):
            return None
        choice = await keys.choose(job.conversation, existing_task=True)
        return choice if choice.payer is Payer.USER else None

    async def task_gateway(self, job: Job) -> ImaGateway:
        """Polls go to the account that created the task."""
        choice = await self._user_paid(job)
        return choice.gateway if choice is not None and choice.gateway is not None else self._gateway

    async def failure_detail(self, job: Job, exc: ImabotError, detail: str | None) -> str | None:
        keys = self._spend.keys
        if keys is None or exc.kind not in OWN_KEY_KINDS:
            return detail
        choice = await self._user_paid(job)
        if choice is None:
            return detail
        line = await keys.refused(job.conversation, exc.kind, choice.masked, job.language)
        return f"{detail}\n{line}" if detail else line

