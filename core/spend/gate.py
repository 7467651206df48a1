"""Budgets, the per-user queue and confirmations: the decisions the pipeline asks before it spends.

``SpendGate`` is used by the service (intake: access, pause, moderation, queue admission) and by the
runner (after the quote: budget pre-check and confirmation; right before the create: the queue turn and
the atomic reservation; at the end: settlement). Texts come from ``spend.*`` catalog keys.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from core.clock import Clock
from core.messages import Messages
from core.spend import windows
from core.spend.access import is_admin, is_allowed, place_key
from core.spend.moderation import ModerationCheck, blocked_words_check
from core.spend.policy import DisallowedReply, SpendPolicy
from core.spend.ports import (
    BudgetLimit,
    BudgetScope,
    Confirmation,
    ConfirmationAsker,
    ConfirmationStore,
    ConfirmState,
    Ledger,
    Owner,
    SpendSettingsStore,
    StartVerdict,
)
from core.types import Conversation, Language

USER, CHAT, NOTICE = "user", "chat", "notice"
DAY_POINTS, MONTH_POINTS, SKIP_CONFIRM, PAUSED = "day_points", "month_points", "skip_confirm", "paused"
QUEUE_RECHECK_S = 30.0  # a waiting job re-reads the ledger this often even without a local wake-up


class Entry(StrEnum):
    """What intake does with a message before parsing it."""

    GO = "go"
    IGNORE = "ignore"  # disallowed place, silent (or its one notice was already sent)
    NOTICE = "notice"  # answer with ``IntakeVerdict.text`` and stop


@dataclass(frozen=True, slots=True)
class IntakeVerdict:
    entry: Entry
    text: str = ""


@dataclass(frozen=True, slots=True)
class ConfirmFacts:
    """What the runner knows after the quote, for the confirmation rule."""

    points: int
    model_replaced: bool = False  # an unknown / unavailable model was replaced by another
    option_changed: bool = False  # an aspect ratio or resolution the model does not offer
    followup_other_model: bool = False  # reuses an earlier result with a different model


class SpendGate:
    def __init__(
        self,
        policy: SpendPolicy,
        ledger: Ledger,
        settings: SpendSettingsStore,
        confirmations: ConfirmationStore,
        clock: Clock,
        messages: Messages,
        moderation: ModerationCheck | None = None,
    ) -> None:
        self.policy = policy
        self.ledger = ledger
        self.settings = settings
        self.confirmations = confirmations
        self._clock = clock
        self._m = messages
        self._moderation = moderation or blocked_words_check(policy.blocked_words)
        self._changed = asyncio.Event()
        self.questions: ConfirmationAsker | None = None  # the conversation layer's question memory

    def attach_questions(self, asker: ConfirmationAsker) -> None:
        """Ask confirmations through the conversation layer too (its words route back to us)."""
        self.questions = asker

    def t(self, key: str, language: Language, **params: object) -> str:
        return self._m.text(key, language, **params)

    def clock_now(self) -> float:
        return self._clock.now()

    # ------------------------------------------------------------ intake
    async def intake(self, conversation: Conversation, language: Language) -> IntakeVerdict:
        """Access lists first (a disallowed place never learns more), then a chat paused by an admin."""
        if not is_allowed(self.policy.access, conversation):
            if (
                self.policy.access.disallowed_reply is DisallowedReply.NOTICE_ONCE
                and await self.settings.put_once(NOTICE, place_key(conversation), "access", "1")
            ):
                return IntakeVerdict(Entry.NOTICE, self.t("spend.access.notice", language))
            return IntakeVerdict(Entry.IGNORE)
        values = await self.settings.values(CHAT, place_key(conversation))
        if values.get(PAUSED) and not is_admin(self.policy.access, conversation):
            return IntakeVerdict(Entry.NOTICE, self.t("spend.paused", language))
        return IntakeVerdict(Entry.GO)

    def moderation_refusal(self, prompt: str, language: Language) -> str | None:
        return self.t("spend.moderation.refused", language) if self._moderation(prompt) else None

    async def admit(self, job_id: str, conversation: Conversation, language: Language) -> str | None:
        """Take a place among the user's open jobs; the refusal text when running + queued are full."""
        quota = self.policy.quota
        owner = Owner.of(conversation)
        if await self.ledger.admit(job_id, owner, self._clock.now(), quota.open_per_user):
            return None
        held, waiting = await self.ledger.open_counts(owner.platform, owner.user_id)
        return self.t(
            "spend.queue.full",
            language,
            running=held,
            queued=waiting,
            max_running=quota.running_per_user,
            max_queued=quota.queued_per_user,
        )

    # ------------------------------------------------------------ budgets
    async def limits(self, owner: Owner) -> list[BudgetLimit]:
        quota, now = self.policy.quota, self._clock.now()
        override = await self.settings.values(USER, owner.user_key)
        day, month = windows.day(now, quota.utc_offset_hours), windows.month(now, quota.utc_offset_hours)
        wanted: list[tuple[BudgetScope, int | None, windows.Period]] = [
            (BudgetScope.USER_DAY, _int(override.get(DAY_POINTS), quota.user_day_points), day),
            (BudgetScope.USER_MONTH, _int(override.get(MONTH_POINTS), quota.user_month_points), month),
            (BudgetScope.CHAT_DAY, quota.chat_day_points, day),
            (BudgetScope.SPACE_DAY, quota.space_day_points if owner.space_id else None, day),
        ]
        return [
            BudgetLimit(scope, limit, period.start, period.end)
            for scope, limit, period in wanted
            if limit is not None
        ]

    async def budget_refusal(self, owner: Owner, points: int, language: Language) -> str | None:
        """The early, friendly check (the reservation re-checks atomically)."""
        for limit in await self.limits(owner):
            spent = await self.ledger.spent(limit.scope, owner, limit.since)
            if spent + points > limit.limit:
                return self.over_budget_text(limit, spent, points, language)
        return None

    def over_budget_text(self, limit: BudgetLimit, spent: int, points: int, language: Language) -> str:
        reset = windows.Period(limit.since, limit.resets_at).reset_label(self.policy.quota.utc_offset_hours)
        return self.t(
            f"spend.budget.{limit.scope.value}",
            language,
            points=points,
            spent=spent,
            limit=limit.limit,
            remaining=max(0, limit.limit - spent),
            reset=reset,
        )

    # ------------------------------------------------------------ confirmation
    async def confirmation_reasons(
        self, job_id: str, conversation: Conversation, facts: ConfirmFacts, language: Language
    ) -> tuple[str, ...]:
        """Why this job must be confirmed (empty: go ahead). A confirmation already given for at
        least these points (a resumed or restarted job) counts."""
        policy = self.policy.confirm
        if not policy.enabled:
            return ()
        given = await self.confirmations.get(job_id)
        if given is not None and given.state is ConfirmState.CONFIRMED and given.points >= facts.points:
            return ()
        reasons = []
        skip = (await self.settings.values(USER, Owner.of(conversation).user_key)).get(SKIP_CONFIRM)
        if facts.points >= policy.above_points and not skip:
            reasons.append(self.t("spend.confirm.reason.expensive", language, points=facts.points))
        if facts.model_replaced:
            reasons.append(self.t("spend.confirm.reason.model_replaced", language))
        if facts.option_changed:
            reasons.append(self.t("spend.confirm.reason.option_changed", language))
        if facts.followup_other_model:
            reasons.append(self.t("spend.confirm.reason.other_model", language))
        return tuple(reasons)

    async def ask(
        self, job_id: str, conversation: Conversation, points: int, reasons: Sequence[str], language: Language
    ) -> Confirmation:
        now = self._clock.now()
        confirmation = Confirmation(
            job_id=job_id,
            owner=Owner.of(conversation),
            points=points,
            reasons=tuple(reasons),
            asked_at=now,
            expires_at=now + self.policy.confirm.expiry_s,
        )
        await self.confirmations.ask(confirmation)
        if self.questions is not None:
            await self.questions.ask(conversation, job_id, language, self.policy.confirm.expiry_s)
        return confirmation

    def question_text(self, confirmation: Confirmation, language: Language) -> str:
        minutes = max(1, round(self.policy.confirm.expiry_s / 60))
        return self.t(
            "spend.confirm.ask",
            language,
            points=confirmation.points,
            reasons="\n".join(f"• {r}" for r in confirmation.reasons),
            minutes=minutes,
        )

    async def set_skip_confirm(self, conversation: Conversation, skip: bool) -> None:
        await self.settings.put(USER, Owner.of(conversation).user_key, SKIP_CONFIRM, "1" if skip else None)

    # ------------------------------------------------------------ the queue and the reservation
    async def wait_turn(
        self,
        job_id: str,
        owner: Owner,
        points: int,
        model_id: str | None,
        on_position: Callable[[int | None], Awaitable[None]],
    ) -> tuple[BudgetLimit, int] | None:
        """Wait until this job may create its task and reserve ``points``. ``on_position`` hears the
        number of the user's jobs ahead whenever it changes (None: waiting only for a running job to
        end). Returns (limit, spent) when a budget refuses the job."""
        quota = self.policy.quota
        await self.ledger.at_gate(job_id)
        self.wake()  # jobs already waiting see one more ahead of them
        shown: int | bool | None = False  # False: nothing shown yet
        while True:
            wake = self._changed
            limits = await self.limits(owner)
            result = await self.ledger.try_start(
                job_id, points, model_id, self._clock.now(), quota.running_per_user, limits
            )
            if result.verdict is StartVerdict.STARTED or result.verdict is StartVerdict.GONE:
                return None
            if result.verdict is StartVerdict.OVER_BUDGET and result.limit is not None:
                return result.limit, result.spent
            ahead = await self.ledger.ahead_of(job_id)
            position = ahead if ahead else None
            if shown is False or position != shown:
                await on_position(position)
                shown = position
            await self._wait_change(wake)

    async def _wait_change(self, wake: asyncio.Event) -> None:
        changed = asyncio.ensure_future(wake.wait())
        recheck = asyncio.ensure_future(self._clock.sleep(QUEUE_RECHECK_S))
        try:
            await asyncio.wait({changed, recheck}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (changed, recheck):
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter

    def queue_text(self, position: int | None, language: Language) -> str:
        if position is None:
            return self.t("spend.queue.waiting_running", language)
        return self.t("spend.queue.position", language, ahead=position)

    async def finished(self, job_id: str, charged: int | None, created: bool, failed: bool) -> None:
        """Settle (a created task is charged what was quoted, also when it failed: facts §3 say
        nothing about refunds) or release, then wake the queue."""
        now = self._clock.now()
        if created:
            await self.ledger.settle(job_id, charged or 0, failed, now)
        else:
            await self.ledger.release(job_id, now)
        self.wake()

    def wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


def _int(raw: str | None, default: int | None) -> int | None:
    if raw is None:
        return default
    return None if raw == "none" else int(raw)
