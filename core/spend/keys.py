"""Users' own IMA keys (``[billing]``): link (checked against the live product list first), remove,
and choose the key a user's job runs with. Keys are only ever shown as ``ima_…last4``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.clock import Clock
from core.errors import ErrorKind, ImabotError
from core.messages import Messages
from core.ports import ImaGateway
from core.spend.policy import BillingMode
from core.spend.ports import KeyCipher, KeyedGateways, StoredKey, UserKeyStore
from core.types import Conversation, Language, TaskType

KEY_PATTERN = re.compile(r"\bima_[A-Za-z0-9][A-Za-z0-9_\-]{7,}")
# IMA refusing the key itself, or the account behind it: the user's own key or credits are meant.
OWN_KEY_KINDS = frozenset({ErrorKind.AUTH, ErrorKind.INSUFFICIENT_POINTS, ErrorKind.SUBSCRIPTION_REQUIRED})


def mask_key(key: str) -> str:
    return f"ima_…{key[-4:]}" if len(key) >= 8 else "ima_…"


def find_key(text: str) -> str | None:
    match = KEY_PATTERN.search(text)
    return match.group(0) if match else None


class Payer(StrEnum):
    OPERATOR = "operator"
    USER = "user"
    NOBODY = "nobody"  # user_key_required and no usable key


@dataclass(frozen=True, slots=True)
class KeyChoice:
    payer: Payer
    gateway: ImaGateway | None = None  # None: the operator's
    masked: str = ""


class UserKeys:
    def __init__(
        self,
        mode: BillingMode,
        store: UserKeyStore,
        cipher: KeyCipher | None,
        gateways: KeyedGateways | None,
        clock: Clock,
        messages: Messages,
    ) -> None:
        self.mode = mode
        self._store = store
        self._cipher = cipher
        self._gateways = gateways
        self._clock = clock
        self._m = messages

    async def link(self, conversation: Conversation, key: str, language: Language) -> str:
        """Check the key against the product list, then store it encrypted. Returns the reply."""
        m = self._m
        if self.mode is BillingMode.OPERATOR:
            return m.text("spend.key.off", language)
        if self._cipher is None or self._gateways is None:
            return m.text("spend.key.no_secret", language)
        key = key.strip()
        if not KEY_PATTERN.fullmatch(key):
            return m.text("spend.key.malformed", language)
        try:
            await self._gateways.for_key(key).list_products(TaskType.TEXT_TO_IMAGE)
        except ImabotError as exc:
            if exc.kind in OWN_KEY_KINDS:
                return m.text("spend.key.rejected", language, key=mask_key(key))
            return m.text("spend.key.unchecked", language)
        stored = StoredKey(ciphertext=self._cipher.encrypt(key), last4=key[-4:], linked_at=self._clock.now())
        await self._store.put(conversation.platform.value, conversation.user_id, stored)
        return m.text("spend.key.linked", language, key=mask_key(key))

    async def remove(self, conversation: Conversation, language: Language) -> str:
        removed = await self._store.remove(conversation.platform.value, conversation.user_id)
        return self._m.text("spend.key.removed" if removed else "spend.key.none", language)

    async def describe(self, conversation: Conversation, language: Language) -> str | None:
        stored = await self._store.get(conversation.platform.value, conversation.user_id)
        if stored is None:
            return None
        key = "spend.key.status_invalid" if stored.invalid else "spend.key.status"
        return self._m.text(key, language, key=f"ima_…{stored.last4}")

    async def choose(self, conversation: Conversation, *, existing_task: bool = False) -> KeyChoice:
        """The key a job of this user creates (or, ``existing_task``, polls) with. A key IMA refused
        after it was linked is skipped for new tasks (the mode decides the fallback)."""
        if self.mode is BillingMode.OPERATOR or self._cipher is None or self._gateways is None:
            return KeyChoice(Payer.OPERATOR)
        stored = await self._store.get(conversation.platform.value, conversation.user_id)
        if stored is not None and (existing_task or not stored.invalid):
            try:
                plain = self._cipher.decrypt(stored.ciphertext)
            except ValueError:  # the master key changed: the stored key is unusable, as if refused
                plain = None
            if plain is not None:
                return KeyChoice(Payer.USER, self._gateways.for_key(plain), f"ima_…{stored.last4}")
        if self.mode is BillingMode.USER_KEY_REQUIRED:
            return KeyChoice(Payer.NOBODY)
        return KeyChoice(Payer.OPERATOR)

    async def refused(
        self, conversation: Conversation, kind: ErrorKind, masked: str, language: Language
    ) -> str:
        """The line added to a failure caused by the user's own key or account. A 401 marks the key
        invalid; the first time, the user also learns what happens next."""
        m = self._m
        line = m.text(f"spend.key.failed.{kind.value}", language, key=masked)
        if kind is ErrorKind.AUTH and await self._store.mark_invalid(
            conversation.platform.value, conversation.user_id
        ):
            follow = "required" if self.mode is BillingMode.USER_KEY_REQUIRED else "fallback"
            line += "\n" + m.text(f"spend.key.invalid_{follow}", language)
        return line
