"""One typed settings model: a TOML file plus environment overrides.

Non-secret values come from the TOML file (``--config`` / ``IMABOT_CONFIG``) and can be overridden by
env variables ``IMABOT_<SECTION>__<FIELD>`` (e.g. ``IMABOT_IMA__BASE_URL``). Secrets come from the
environment only (``IMA_API_KEY``, ``DISCORD_BOT_TOKEN``, ``FEISHU_APP_ID``, ``FEISHU_APP_SECRET``,
``FEISHU_ENCRYPT_KEY``, ``FEISHU_VERIFICATION_TOKEN``); a secret found in the TOML file is refused.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config_check import describe_validation_error, unknown_keys
from bot.defaults import DEFAULT_LANGUAGE, DEFAULT_MEDIA_TYPE, ENV_PREFIX
from bot.errors import SettingsError

__all__ = ["Settings", "SettingsError", "ima_api_key", "load_settings"]

SECRET_ENV_NAMES = (
    "IMA_API_KEY",
    "DISCORD_BOT_TOKEN",
    "FEISHU_APP_ID",
    "FEISHU_APP_SECRET",
    "FEISHU_ENCRYPT_KEY",
    "FEISHU_VERIFICATION_TOKEN",
    "OPS_STATUS_TOKEN",
    "IMABOT_SECRET_KEY",
    "PGPASSWORD",  # the PostgreSQL password for ``[storage] url`` (libpq's own variable name)
)
IMA_KEY_SHAPE = re.compile(r"ima_[^\s]+")
_SECRET_FIELD_NAMES = {"api_key", "token", "app_id", "app_secret", "encrypt_key", "verification_token",
                       "status_token", "secret_key", "password"}


class Section(BaseModel):
    """Base of every settings section: unknown keys, NaN and infinities are refused (a typo must not
    silently fall back to a default). Every section model derives from it (tests/test_settings.py)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


Seconds = Annotated[float, Field(gt=0, le=86_400)]
Bytes = Annotated[int, Field(gt=0)]
Port = Annotated[int, Field(ge=0, le=65_535)]
HttpUrl = Annotated[str, Field(pattern=r"^https?://[^\s/]+")]


class ImaSettings(Section):
    base_url: HttpUrl = "https://api.imastudio.com"
    upload_base_url: HttpUrl = "https://imapi.liveme.com"
    language: Literal["en", "zh"] = "en"
    app_source: str = Field(default="ima_skills", min_length=1)
    request_timeout_s: Seconds = 30.0
    verify_timeout_s: Seconds = 300.0
    upload_timeout_s: Seconds = 60.0
    product_cache_ttl_s: float = Field(default=600.0, ge=0, le=86_400)
    max_upload_bytes: Bytes = 200 * 1024 * 1024
    # Requests to IMA in flight at once; more queue inside the bot (never a pool timeout). Status polls
    # have their own connections so a burst of creates/uploads cannot starve them (docs/performance.md).
    poll_connections: int = Field(default=64, ge=1, le=1000)
    call_connections: int = Field(default=16, ge=1, le=1000)
    # "split": status polls over aiohttp's connector (half the CPU at scale), each create over aiohttp on a
    # new connection (never one the server may be closing), the rest over httpx's pool; "httpx" / "aiohttp":
    # one pool for all.
    transport: Literal["split", "httpx", "aiohttp"] = "split"

    @property
    def origins(self) -> frozenset[str]:
        """The IMA hosts the operator configured (a local simulator serves its media there): the safe
        fetcher trusts them by origin."""
        return frozenset({self.base_url, self.upload_base_url})


class StorageSettings(Section):
    data_dir: Path = Path("data")
    db_file: str = Field(default="imabot.sqlite3", min_length=1, pattern=r"^[^/\\]+$")
    # PostgreSQL for several replicas ("postgresql://imabot@db:5432/imabot"); unset = the SQLite file above.
    # The password comes from the environment (PGPASSWORD), never from this URL.
    url: str | None = None
    pool_size: int = Field(default=10, ge=1, le=200)
    # A replica holds each job it runs for lease_s, renewed every lease_s / 3; a crashed replica's jobs
    # are taken over by another within about lease_s.
    lease_s: float = Field(default=30.0, ge=1.0, le=600.0)
    # Unset: "local" with SQLite (one process; a restart takes its jobs back at once); with PostgreSQL a
    # name unique to this process (host, pid, random). Set it to a stable name per replica (a
    # StatefulSet pod name) so a restarted replica takes its own jobs back without waiting for leases.
    replica_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,64}$")

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError("must start with postgresql:// (leave it unset for SQLite)")
        if parts.password:
            raise ValueError("must not contain a password; set PGPASSWORD in the environment instead")
        return value

    @property
    def db_path(self) -> Path:
        return self.data_dir / self.db_file

    @property
    def backend(self) -> Literal["sqlite", "postgresql"]:
        return "postgresql" if self.url else "sqlite"


class BotSettings(Section):
    default_media_type: Literal["video", "image", "music", "speech"] = DEFAULT_MEDIA_TYPE
    default_language: Literal["zh", "en"] = DEFAULT_LANGUAGE
    # "all" offers every live model; a non-empty allowlist restricts selection (e.g. Sevio/Seedance-only).
    model_profile: Literal["all", "allowlist"] = "all"
    allowed_models: list[str] = Field(default_factory=list)
    max_attachment_bytes: Bytes = 50 * 1024 * 1024
    max_concurrent_jobs: int = Field(default=200, ge=1, le=100_000)


class CatalogSettings(Section):
    # model_id -> [min_s, max_s]; overrides the estimated time of the bundled model catalog.
    estimated_seconds: dict[str, tuple[Annotated[int, Field(gt=0)], Annotated[int, Field(gt=0)]]] = Field(
        default_factory=dict)

    @field_validator("estimated_seconds")
    @classmethod
    def _ordered(cls, value: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        for model_id, (low, high) in value.items():
            if low > high:
                raise ValueError(f"{model_id}: the first number (minimum) must not exceed the second")
        return value


class MediaSettings(Section):
    # Seedance reference-video pixel cap. The Seedance skill says 927,408 (just above 1280x720); the
    # newer ima-all-ai runtime says 92,740,800. We default to the stricter figure.
    max_video_pixels: int = Field(default=927_408, gt=0)
    probe_timeout_s: Seconds = 15.0
    fetch_timeout_s: Seconds = 30.0
    verify_concurrency: int = Field(default=3, ge=1, le=64)


class ConversationSettings(Section):
    thread_keep: int = Field(default=50, ge=1, le=1000)  # recent generations kept per user and chat
    question_ttl_s: float = Field(default=600.0, ge=30.0, le=86_400.0)  # how long a question waits


class DiscordSettings(Section):
    enabled: bool = True  # used only when DISCORD_BOT_TOKEN is set
    api_base_url: HttpUrl | None = None  # e.g. http://127.0.0.1:8081/api/v10 for a fake Discord
    gateway_url: Annotated[str, Field(pattern=r"^wss?://[^\s/]+")] | None = None  # ws://127.0.0.1:8081/
    # Discord allows about 5 edits per 5 s per message: below ~1 s edits get rate limited.
    edit_interval_s: float = Field(default=3.0, ge=0.2, le=600)
    application_id: int | None = Field(default=None, gt=0)
    # Sharding for large bots (Discord requires it above 2,500 guilds): every replica sets the same
    # shard_count and its own shard_ids (one shard per replica); REST sends work from any replica.
    shard_count: int | None = Field(default=None, ge=1, le=4096)
    shard_ids: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list, max_length=1)

    @model_validator(mode="after")
    def _shards_in_range(self) -> DiscordSettings:
        if self.shard_ids and self.shard_count is None:
            raise ValueError("shard_ids needs shard_count")
        if any(s >= (self.shard_count or 1) for s in self.shard_ids):
            raise ValueError(f"shard_ids must be below shard_count ({self.shard_count})")
        return self


class FeishuSettings(Section):
    enabled: bool = True  # used only when FEISHU_APP_ID and FEISHU_APP_SECRET are set
    domain: HttpUrl = "https://open.feishu.cn"  # https://open.larksuite.com for Lark; a fake in tests
    intake: Literal["long_connection", "webhook"] = "long_connection"
    webhook_host: str = Field(default="127.0.0.1", min_length=1)
    webhook_port: Port = 8090
    webhook_path: str = Field(default="/feishu/events", pattern=r"^/")
    patch_interval_s: float = Field(default=3.0, ge=0.2, le=600)


class EchoSettings(Section):
    enabled: bool = False  # the in-memory chat of adapters/echo (tests drive it; nobody can reach it)


class SimSettings(Section):
    host: str = Field(default="127.0.0.1", min_length=1)
    port: Port = 0
    speed: float = Field(default=30.0, gt=0, le=10_000)
    seed: int = 0


class OpsSettings(Section):
    """The ops HTTP server inside ``imabot run``: /healthz, /readyz, /metrics and the status page."""

    enabled: bool = True
    host: str = "127.0.0.1"  # "0.0.0.0" in a container so the orchestrator can probe it
    port: int = Field(default=9464, ge=0, le=65535)  # 0 = a free port, logged at start-up
    # The status page shows users' prompts and ids: off unless asked for, and only with OPS_STATUS_TOKEN.
    status_page: bool = False
    # /readyz wants a product list fetched from IMA within this many seconds (fetched on demand if older).
    ready_product_age_s: float = Field(default=900.0, gt=0, le=86_400)
    ready_timeout_s: float = Field(default=5.0, gt=0, le=60)


_POINTS = 10_000_000  # a budget above this is a typo (core.spend.policy.MAX_POINTS)
_PLACE = r"^(discord:(guild|channel|role|user)|feishu:(tenant|chat|user)):[A-Za-z0-9_\-]+$"


class SpendSettings(Section):
    confirm: bool = True  # operators can turn confirmations off
    confirm_above_points: int = Field(default=100, ge=0, le=_POINTS)
    confirm_expiry_s: float = Field(default=600.0, ge=10.0, le=86_400.0)
    account_url: str = "https://www.imaclaw.ai/imaclaw/subscription"  # where users see their real balance


class QuotaSettings(Section):
    user_day_points: int | None = Field(default=None, ge=0, le=_POINTS)
    user_month_points: int | None = Field(default=None, ge=0, le=_POINTS)
    chat_day_points: int | None = Field(default=None, ge=0, le=_POINTS)
    # per Discord guild / Feishu tenant
    space_day_points: int | None = Field(default=None, ge=0, le=_POINTS)
    running_per_user: int = Field(default=2, ge=1, le=1000)
    queued_per_user: int = Field(default=5, ge=0, le=1000)
    utc_offset_hours: int = Field(default=0, ge=-12, le=14)


class AccessSettings(Section):
    # "discord:guild:<id>", "discord:channel:<id>", "discord:role:<id>", "discord:user:<id>",
    # "feishu:tenant:<key>", "feishu:chat:<id>", "feishu:user:<open_id>". An empty allow list of a kind
    # allows every id of that kind that is not denied.
    allow: list[Annotated[str, StringConstraints(pattern=_PLACE)]] = Field(default_factory=list)
    deny: list[Annotated[str, StringConstraints(pattern=_PLACE)]] = Field(default_factory=list)
    admins: list[str] = Field(default_factory=list)  # "discord:<user id>" / "feishu:<open_id>"
    disallowed_reply: Literal["ignore", "notice_once"] = "ignore"


class BillingSettings(Section):
    mode: Literal["operator", "user_key", "user_key_required"] = "operator"


class ModerationSettings(Section):
    blocked_words: list[str] = Field(default_factory=list)
    blocked_words_file: Path | None = None  # one word or phrase per line; '#' comments


class Secrets(BaseModel):  # from the environment only; not a file section
    ima_api_key: SecretStr | None = None
    discord_bot_token: SecretStr | None = None
    feishu_app_id: SecretStr | None = None
    feishu_app_secret: SecretStr | None = None
    feishu_encrypt_key: SecretStr | None = None
    feishu_verification_token: SecretStr | None = None
    ops_status_token: SecretStr | None = None
    imabot_secret_key: SecretStr | None = None  # Fernet master key for users' own IMA keys
    pgpassword: SecretStr | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Secrets:
        source = os.environ if env is None else env
        values = {name.lower(): source.get(name) or None for name in SECRET_ENV_NAMES}
        return cls.model_validate(values)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid")

    ima: ImaSettings = Field(default_factory=ImaSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    conversation: ConversationSettings = Field(default_factory=ConversationSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    feishu: FeishuSettings = Field(default_factory=FeishuSettings)
    echo: EchoSettings = Field(default_factory=EchoSettings)
    sim: SimSettings = Field(default_factory=SimSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)
    spend: SpendSettings = Field(default_factory=SpendSettings)
    quota: QuotaSettings = Field(default_factory=QuotaSettings)
    access: AccessSettings = Field(default_factory=AccessSettings)
    billing: BillingSettings = Field(default_factory=BillingSettings)
    moderation: ModerationSettings = Field(default_factory=ModerationSettings)
    secrets: Secrets = Field(default_factory=Secrets, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Env overrides file values; the file arrives through init kwargs (see ``load``).
        return (env_settings, init_settings)


def _reject_secrets(data: dict[str, Any], where: str) -> None:
    for key, value in data.items():
        if isinstance(value, dict):
            _reject_secrets(value, f"{where}.{key}" if where else key)
        elif key in _SECRET_FIELD_NAMES:
            raise SettingsError(
                f"'{where}.{key}' must not be in the config file; set it in the environment instead"
            )


def load_settings(path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read the TOML file (if any), apply env overrides and attach secrets from the environment."""
    file_data: dict[str, Any] = {}
    path = path or (Path(p) if (p := os.environ.get("IMABOT_CONFIG")) else None)
    source = f"config file {path}" if path is not None else "configuration"
    if path is not None:
        try:
            file_data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SettingsError(f"config file not found: {path}") from exc
        except IsADirectoryError as exc:
            raise SettingsError(f"config file {path} is a directory; pass the .toml file itself") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"config file {path} cannot be read ({type(exc).__name__}); check the "
                                "path and its permissions") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc
        _reject_secrets(file_data, "")
        unknown = unknown_keys(file_data, Settings, exclude={"secrets"})
        if unknown:
            raise SettingsError(f"{source}: {'; '.join(unknown)}")
    try:
        settings = Settings(**file_data)
    except ValidationError as exc:
        raise SettingsError(f"{source}: {describe_validation_error(exc, Settings)}") from None
    settings.secrets = Secrets.from_env(env)
    return settings


def ima_api_key(settings: Settings) -> str:
    """The IMA Open API key from the environment; a missing or misshapen key is a setup problem."""
    key = settings.secrets.ima_api_key
    if key is None:
        raise SettingsError("IMA_API_KEY is not set: export your IMA Open API key (see README); to try the "
                            "bot without one, run `imabot demo`")
    if not IMA_KEY_SHAPE.fullmatch(key.get_secret_value()):
        raise SettingsError("IMA_API_KEY does not look like an IMA Open API key (it starts with 'ima_' and "
                            "has no spaces); copy it again from https://www.imaclaw.ai/imaclaw/apikey")
    return key.get_secret_value()
