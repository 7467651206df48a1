"""The stores spend decisions need, each a small Protocol (SQLite in ``adapters.sqlite``; PostgreSQL
ports implement the same contracts), and the value types they exchange.

The ledger is ONE table of entries, one per admitted job: ``waiting`` (admitted, counts against the
queue), ``held`` (running: its points are reserved), then ``settled`` (charged points recorded) or
``released`` (nothing was created, nothing charged). Every check-and-change is atomic in the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core.ports import ImaGateway
from core.spend.admin import AdminCommand
from core.types import Conversation, Language


@dataclass(frozen=True, slots=True)
class Owner:
    """Who a job's points count against."""

    platform: str
    user_id: str
    chat_id: str
    space_id: str | None = None  # Discord guild / Feishu tenant

    @classmethod
    def of(cls, conversation: Conversation) -> Owner:
        return cls(
            conversation.platform.value, conversation.user_id, conversation.chat_id, conversation.space_id
        )

    @property
    def user_key(self) -> str:
        return f"{self.platform}:{self.user_id}"

    @property
    def chat_key(self) -> str:
        return f"{self.platform}:{self.chat_id}"


class LedgerState(StrEnum):
    WAITING = "waiting"
    HELD = "held"
    SETTLED = "settled"
    RELEASED = "released"


class BudgetScope(StrEnum):
    USER_DAY = "user_day"
    USER_MONTH = "user_month"
    CHAT_DAY = "chat_day"
    SPACE_DAY = "space_day"

    @property
    def subject(self) -> str:
        return {"user_day": "user", "user_month": "user", "chat_day": "chat", "space_day": "space"}[
            self.value
        ]


@dataclass(frozen=True, slots=True)
class BudgetLimit:
    scope: BudgetScope
    limit: int
    since: float  # period start
    resets_at: float


class StartVerdict(StrEnum):
    STARTED = "started"  # points reserved, the job may create its task
    WAIT = "wait"  # the running cap is reached or older jobs are ahead
    OVER_BUDGET = "over_budget"
    GONE = "gone"  # no admitted entry (released meanwhile)


@dataclass(frozen=True, slots=True)
class StartResult:
    verdict: StartVerdict
    limit: BudgetLimit | None = None
    spent: int = 0  # points already counted in ``limit``'s period


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    job_id: str
    owner: Owner
    state: LedgerState
    points: int
    admitted_at: float
    started_at: float | None = None
    settled_at: float | None = None
    failed: bool = False
    model_id: str | None = None


class Ledger(Protocol):
    async def admit(self, job_id: str, owner: Owner, now: float, max_open: int) -> bool:
        """Add a ``waiting`` entry unless the owner already has ``max_open`` open ones (waiting +
        held). True when admitted (or already admitted earlier: idempotent)."""
        ...

    async def at_gate(self, job_id: str) -> None:
        """The job is ready to create: from now on it has a place in its owner's queue."""
        ...

    async def ahead_of(self, job_id: str) -> int:
        """How many of the same owner's jobs at the gate were admitted before this one."""
        ...

    async def try_start(
        self,
        job_id: str,
        points: int,
        model_id: str | None,
        now: float,
        running_cap: int,
        limits: Sequence[BudgetLimit],
    ) -> StartResult:
        """Atomically: if fewer than ``running_cap`` of the owner's jobs are held, none admitted earlier
        is waiting at the gate, and ``points`` fit in every limit (held + settled points since the
        limit's period start), move the entry to ``held`` with ``points`` reserved."""
        ...

    async def settle(self, job_id: str, points: int, failed: bool, now: float) -> None:
        """Record what was charged (idempotent: only an open entry changes)."""
        ...

    async def release(self, job_id: str, now: float) -> None:
        """Nothing was created: the entry charges nothing (idempotent)."""
        ...

    async def spent(self, scope: BudgetScope, owner: Owner, since: float) -> int: ...

    async def open_counts(self, platform: str, user_id: str) -> tuple[int, int]:
        """(held, waiting) entries of one user."""
        ...

    async def entries(self, since: float, until: float) -> Sequence[LedgerEntry]:
        """Every entry admitted in [since, until), oldest first (usage reports)."""
        ...

    async def get(self, job_id: str) -> LedgerEntry | None: ...


class SpendSettingsStore(Protocol):
    """Small named values per subject: a user's budget override and "don't ask me" choice, a chat's
    pause, the once-notices already sent. ``scope`` is "user", "chat" or "notice"."""

    async def values(self, scope: str, subject: str) -> Mapping[str, str]: ...

    async def put(self, scope: str, subject: str, name: str, value: str | None) -> None:
        """Set (or with None delete) one value."""
        ...

    async def put_once(self, scope: str, subject: str, name: str, value: str) -> bool:
        """Set the value unless it exists; True when this call set it."""
        ...


class ConfirmState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Confirmation:
    job_id: str
    owner: Owner
    points: int
    reasons: tuple[str, ...]
    asked_at: float
    expires_at: float
    state: ConfirmState = ConfirmState.PENDING


class ConfirmationStore(Protocol):
    async def ask(self, confirmation: Confirmation) -> None:
        """Record a pending question (asking again for the same job replaces it)."""
        ...

    async def get(self, job_id: str) -> Confirmation | None: ...

    async def latest_pending(self, platform: str, user_id: str, chat_id: str) -> Confirmation | None: ...

    async def answer(self, job_id: str, state: ConfirmState) -> bool:
        """Move a PENDING confirmation to ``state``; False when it was not pending (answered twice)."""
        ...

    async def expired(self, now: float) -> Sequence[Confirmation]:
        """Pending confirmations whose time is up."""
        ...


@dataclass(frozen=True, slots=True)
class StoredKey:
    ciphertext: str
    last4: str
    linked_at: float
    invalid: bool = False  # IMA refused it after it was linked; the user has been told


class UserKeyStore(Protocol):
    async def get(self, platform: str, user_id: str) -> StoredKey | None: ...

    async def put(self, platform: str, user_id: str, key: StoredKey) -> None: ...

    async def remove(self, platform: str, user_id: str) -> bool: ...

    async def mark_invalid(self, platform: str, user_id: str) -> bool:
        """True only the first time (so the user is told once)."""
        ...


class KeyCipher(Protocol):
    def encrypt(self, plain: str) -> str: ...

    def decrypt(self, token: str) -> str: ...


class KeyedGateways(Protocol):
    """IMA clients that call with a user's own key (sharing the operator client's connections)."""

    def for_key(self, api_key: str) -> ImaGateway: ...


class SpendDeskPort(Protocol):
    """What platforms and the conversation layer ask of the spend rules (``GenerationService.spend``)."""

    async def describe_usage(self, conversation: Conversation, language: Language) -> str: ...

    async def link_key(self, conversation: Conversation, key: str, language: Language) -> str: ...

    async def remove_key(self, conversation: Conversation, language: Language) -> str: ...

    def is_admin(self, conversation: Conversation) -> bool: ...

    async def admin(self, conversation: Conversation, command: AdminCommand, language: Language) -> str: ...

    async def answer_pending(self, conversation: Conversation, yes: bool) -> str | None: ...


def spend_desk_of(service: object) -> SpendDeskPort | None:
    """The spend desk of a service that has one (platform adapters take any ``BotService``; the
    conversation layer's pipeline holds it)."""
    desk = getattr(service, "spend", None) or getattr(getattr(service, "pipeline", None), "spend", None)
    return desk if desk is not None and hasattr(desk, "describe_usage") else None


class ConfirmationAsker(Protocol):
    """The conversation layer's question memory: a confirmation asked here is also answerable in words
    there (``core.conversation`` routes "yes / 好的 / no / 不用" to ``SpendDesk.on_answer``)."""

    async def ask(self, conversation: Conversation, job_id: str, language: Language,
                  ttl_s: float) -> None: ...

    async def settle(self, conversation: Conversation) -> None:
        """The confirmation was answered on our side (a button): its question is no longer open."""
        ...


class AnsweredQuestion(Protocol):
    @property
    def subject_id(self) -> str: ...


class YesNo(Protocol):
    @property
    def yes(self) -> bool | None: ...
