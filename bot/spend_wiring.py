"""Build the spend rules (issue #12) from ``Settings``: the policy values, the SQLite stores, the
moderation check, the Fernet cipher for users' keys and the per-key IMA clients."""

from __future__ import annotations

from pathlib import Path

from adapters.ima.client import ImaClient
from adapters.ima.own_keys import OwnKeyClients
from adapters.secrets.fernet import FernetCipher
from bot.settings import Settings, SettingsError
from bot.storage import SpendStores
from core.clock import Clock
from core.conversation.desk import QuestionDesk
from core.conversation.questions import QuestionKind
from core.messages import Messages
from core.pipeline.service import GenerationService
from core.ports import ImaGateway
from core.spend.gate import SpendGate
from core.spend.hooks import Spend
from core.spend.keys import UserKeys
from core.spend.moderation import ModerationCheck, blocked_words_check
from core.spend.policy import (
    AccessPolicy,
    BillingMode,
    ConfirmPolicy,
    DisallowedReply,
    PlaceRules,
    PolicyError,
    QuotaPolicy,
    SpendPolicy,
)
from core.spend.recent import RecentSettings
from core.types import Conversation, Language


def _rules(allow: list[str], deny: list[str], prefix: str) -> PlaceRules:
    def ids(entries: list[str]) -> frozenset[str]:
        return frozenset(e[len(prefix) :] for e in entries if e.startswith(prefix))

    return PlaceRules(allow=ids(allow), deny=ids(deny))


def access_policy(settings: Settings) -> AccessPolicy:
    a = settings.access
    kinds = {
        f"{p}_{k}s": f"{p}:{k}:"
        for p, k in (
            ("discord", "guild"),
            ("discord", "channel"),
            ("discord", "role"),
            ("discord", "user"),
            ("feishu", "tenant"),
            ("feishu", "chat"),
            ("feishu", "user"),
        )
    }
    rules = {name: _rules(a.allow, a.deny, prefix) for name, prefix in kinds.items()}
    return AccessPolicy(
        **rules, admins=frozenset(a.admins), disallowed_reply=DisallowedReply(a.disallowed_reply)
    )


def read_word_file(path: Path) -> tuple[str, ...]:
    """One word or phrase per line; blank lines and ``#`` comments are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SettingsError(
            f"moderation.blocked_words_file cannot be read: {path} ({exc.strerror})"
        ) from None
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


def spend_policy(settings: Settings) -> SpendPolicy:
    q, s, mod = settings.quota, settings.spend, settings.moderation
    words = tuple(mod.blocked_words)
    if mod.blocked_words_file is not None:
        words += read_word_file(mod.blocked_words_file)
    try:
        return SpendPolicy(
            quota=QuotaPolicy(
                user_day_points=q.user_day_points,
                user_month_points=q.user_month_points,
                chat_day_points=q.chat_day_points,
                space_day_points=q.space_day_points,
                running_per_user=q.running_per_user,
                queued_per_user=q.queued_per_user,
                utc_offset_hours=q.utc_offset_hours,
            ),
            confirm=ConfirmPolicy(
                enabled=s.confirm, above_points=s.confirm_above_points, expiry_s=s.confirm_expiry_s
            ),
            access=access_policy(settings),
            billing=BillingMode(settings.billing.mode),
            blocked_words=words,
            account_url=s.account_url,
        )
    except PolicyError as exc:
        raise SettingsError(str(exc)) from None


def build_spend(
    settings: Settings,
    stores: SpendStores,
    clock: Clock,
    messages: Messages,
    gateway: ImaGateway | None,
    moderation: ModerationCheck | None = None,
) -> Spend:
    policy = spend_policy(settings)
    secret = settings.secrets.imabot_secret_key
    try:
        cipher = FernetCipher(secret.get_secret_value()) if secret is not None else None
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if policy.billing is not BillingMode.OPERATOR and cipher is None:
        raise SettingsError(
            f'billing.mode = "{policy.billing.value}" needs IMABOT_SECRET_KEY in the environment '
            "to store users' keys encrypted"
        )
    gate = SpendGate(
        policy,
        stores.ledger,
        RecentSettings(stores.settings, clock),
        stores.confirmations,
        clock,
        messages,
        moderation or blocked_words_check(policy.blocked_words),
    )
    gateways = OwnKeyClients(gateway) if isinstance(gateway, ImaClient) else None
    keys = UserKeys(policy.billing, stores.keys, cipher, gateways, clock, messages)
    return Spend(gate=gate, keys=keys)


class _DeskAsker:
    """``ConfirmationAsker`` over the conversation layer's ``QuestionDesk``."""

    def __init__(self, desk: QuestionDesk) -> None:
        self._desk = desk

    async def ask(self, conversation: Conversation, job_id: str, language: Language, ttl_s: float) -> None:
        await self._desk.ask(
            conversation, QuestionKind.CONFIRMATION, language, subject_id=job_id, ttl_s=ttl_s
        )

    async def settle(self, conversation: Conversation) -> None:
        await self._desk.withdraw(conversation, frozenset({QuestionKind.CONFIRMATION}))


def connect_question_memory(service: GenerationService, desk: QuestionDesk) -> None:
    """Spend confirmations asked through the conversation layer's question memory, and its answers
    (words: "yes / 好的 / no / 不用") routed back to the spend desk."""
    spend = service.spend
    if spend is None:
        return
    desk.handle(QuestionKind.CONFIRMATION, spend)
    spend.gate.attach_questions(_DeskAsker(desk))
