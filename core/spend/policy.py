"""What an operator configures about spending, as immutable values (built from ``bot.settings``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class BillingMode(StrEnum):
    OPERATOR = "operator"  # every job uses the operator's key
    USER_KEY = "user_key"  # a user's own key when linked, else the operator's
    USER_KEY_REQUIRED = "user_key_required"  # only users with a linked key can generate


class DisallowedReply(StrEnum):
    IGNORE = "ignore"  # no answer at all
    NOTICE_ONCE = "notice_once"  # one short notice per place, then silence


class PolicyError(ValueError):
    """A spend setting cannot be used (negative or absurd); the message names the setting."""


MAX_POINTS = 10_000_000  # above this a budget is a typo, not a policy
MAX_JOBS = 1_000


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    user_day_points: int | None = None
    user_month_points: int | None = None
    chat_day_points: int | None = None
    space_day_points: int | None = None  # a Discord guild or a Feishu tenant
    running_per_user: int = 2
    queued_per_user: int = 5
    utc_offset_hours: int = 0  # where "today" and "this month" start

    def __post_init__(self) -> None:
        for name in ("user_day_points", "user_month_points", "chat_day_points", "space_day_points"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= MAX_POINTS:
                raise PolicyError(f"quota.{name} must be between 0 and {MAX_POINTS} (got {value})")
        if not 1 <= self.running_per_user <= MAX_JOBS:
            raise PolicyError(f"quota.running_per_user must be between 1 and {MAX_JOBS}")
        if not 0 <= self.queued_per_user <= MAX_JOBS:
            raise PolicyError(f"quota.queued_per_user must be between 0 and {MAX_JOBS}")
        if not -12 <= self.utc_offset_hours <= 14:
            raise PolicyError("quota.utc_offset_hours must be between -12 and 14")

    @property
    def open_per_user(self) -> int:
        return self.running_per_user + self.queued_per_user


@dataclass(frozen=True, slots=True)
class ConfirmPolicy:
    enabled: bool = True
    above_points: int = 100  # ask when the cost is at or above this
    expiry_s: float = 600.0

    def __post_init__(self) -> None:
        if not 0 <= self.above_points <= MAX_POINTS:
            raise PolicyError(f"spend.confirm_above_points must be between 0 and {MAX_POINTS}")
        if not 10.0 <= self.expiry_s <= 86_400.0:
            raise PolicyError("spend.confirm_expiry_s must be between 10 and 86400 seconds")


@dataclass(frozen=True, slots=True)
class PlaceRules:
    """Allow/deny lists of one kind of id. An empty allow list allows everything not denied."""

    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()

    def permits(self, value: str | None) -> bool:
        if value is not None and value in self.deny:
            return False
        return not self.allow or (value is not None and value in self.allow)


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    discord_guilds: PlaceRules = field(default_factory=PlaceRules)
    discord_channels: PlaceRules = field(default_factory=PlaceRules)
    discord_roles: PlaceRules = field(default_factory=PlaceRules)
    discord_users: PlaceRules = field(default_factory=PlaceRules)
    feishu_tenants: PlaceRules = field(default_factory=PlaceRules)
    feishu_chats: PlaceRules = field(default_factory=PlaceRules)
    feishu_users: PlaceRules = field(default_factory=PlaceRules)
    admins: frozenset[str] = frozenset()  # "discord:<user id>" / "feishu:<open_id>" / bare ids
    disallowed_reply: DisallowedReply = DisallowedReply.IGNORE


@dataclass(frozen=True, slots=True)
class SpendPolicy:
    quota: QuotaPolicy = field(default_factory=QuotaPolicy)
    confirm: ConfirmPolicy = field(default_factory=ConfirmPolicy)
    access: AccessPolicy = field(default_factory=AccessPolicy)
    billing: BillingMode = BillingMode.OPERATOR
    blocked_words: tuple[str, ...] = ()
    account_url: str = "https://www.imaclaw.ai/imaclaw/subscription"  # the IMA page with the real balance
