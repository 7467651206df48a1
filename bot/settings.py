"""One typed settings model: a TOML file plus environment overrides.

Non-secret values come from the TOML file (``--config`` / ``IMABOT_CONFIG``) and can be overridden by
env variables ``IMABOT_<SECTION>__<FIELD>`` (e.g. ``IMABOT_IMA__BASE_URL``). Secrets come from the
environment only (``IMA_API_KEY``, ``DISCORD_BOT_TOKEN``, ``FEISHU_APP_ID``, ``FEISHU_APP_SECRET``,
``FEISHU_ENCRYPT_KEY``, ``FEISHU_VERIFICATION_TOKEN``); a secret found in the TOML file is refused.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SECRET_ENV_NAMES = (
    "IMA_API_KEY",
    "DISCORD_BOT_TOKEN",
    "FEISHU_APP_ID",
    "FEISHU_APP_SECRET",
    "FEISHU_ENCRYPT_KEY",
    "FEISHU_VERIFICATION_TOKEN",
    "OPS_STATUS_TOKEN",
)
_SECRET_FIELD_NAMES = {"api_key", "token", "app_id", "app_secret", "encrypt_key", "verification_token",
                       "status_token"}


class SettingsError(ValueError):
    """Configuration cannot be used; the message says which key and why."""


class ImaSettings(BaseModel):
    base_url: str = "https://api.imastudio.com"
    upload_base_url: str = "https://imapi.liveme.com"
    language: Literal["en", "zh"] = "en"
    app_source: str = "ima_skills"
    request_timeout_s: float = 30.0
    verify_timeout_s: float = 300.0
    upload_timeout_s: float = 60.0
    product_cache_ttl_s: float = 600.0
    max_upload_bytes: int = 200 * 1024 * 1024


class StorageSettings(BaseModel):
    data_dir: Path = Path("data")
    db_file: str = "imabot.sqlite3"

    @property
    def db_path(self) -> Path:
        return self.data_dir / self.db_file


class BotSettings(BaseModel):
    default_media_type: Literal["video", "image", "music", "speech"] = "video"
    default_language: Literal["zh", "en"] = "zh"
    # "all" offers every live model; a non-empty allowlist restricts selection (e.g. Sevio/Seedance-only).
    model_profile: Literal["all", "allowlist"] = "all"
    allowed_models: list[str] = Field(default_factory=list)
    max_attachment_bytes: int = 50 * 1024 * 1024
    max_concurrent_jobs: int = 200


class CatalogSettings(BaseModel):
    # model_id -> [min_s, max_s]; overrides the estimated time of the bundled model catalog.
    estimated_seconds: dict[str, tuple[int, int]] = Field(default_factory=dict)


class MediaSettings(BaseModel):
    # Seedance reference-video pixel cap. The Seedance skill says 927,408 (just above 1280x720); the
    # newer ima-all-ai runtime says 92,740,800. We default to the stricter figure.
    max_video_pixels: int = 927_408
    probe_timeout_s: float = 15.0
    fetch_timeout_s: float = 30.0
    verify_concurrency: int = 3


class ConversationSettings(BaseModel):
    thread_keep: int = Field(default=50, ge=1, le=1000)  # recent generations kept per user and chat
    question_ttl_s: float = Field(default=600.0, ge=30.0, le=86_400.0)  # how long a question waits
    account_url: str = "https://www.imaclaw.ai/imaclaw/subscription"  # where users see their real balance


class DiscordSettings(BaseModel):
    enabled: bool = True  # used only when DISCORD_BOT_TOKEN is set
    api_base_url: str | None = None  # e.g. http://127.0.0.1:8081/api/v10 for a fake Discord
    gateway_url: str | None = None  # e.g. ws://127.0.0.1:8081/gateway
    edit_interval_s: float = 3.0
    application_id: int | None = None


class FeishuSettings(BaseModel):
    enabled: bool = True  # used only when FEISHU_APP_ID and FEISHU_APP_SECRET are set
    domain: str = "https://open.feishu.cn"  # https://open.larksuite.com for Lark; a fake in tests
    intake: Literal["long_connection", "webhook"] = "long_connection"
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8090
    webhook_path: str = "/feishu/events"
    patch_interval_s: float = 3.0


class SimSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 0
    speed: float = 30.0
    seed: int = 0


class OpsSettings(BaseModel):
    """The ops HTTP server inside ``imabot run``: /healthz, /readyz, /metrics and the status page."""

    enabled: bool = True
    host: str = "127.0.0.1"  # "0.0.0.0" in a container so the orchestrator can probe it
    port: int = Field(default=9464, ge=0, le=65535)  # 0 = a free port, logged at start-up
    # The status page shows users' prompts and ids: off unless asked for, and only with OPS_STATUS_TOKEN.
    status_page: bool = False
    # /readyz wants a product list fetched from IMA within this many seconds (fetched on demand if older).
    ready_product_age_s: float = Field(default=900.0, gt=0, le=86_400)
    ready_timeout_s: float = Field(default=5.0, gt=0, le=60)


class Secrets(BaseModel):
    ima_api_key: SecretStr | None = None
    discord_bot_token: SecretStr | None = None
    feishu_app_id: SecretStr | None = None
    feishu_app_secret: SecretStr | None = None
    feishu_encrypt_key: SecretStr | None = None
    feishu_verification_token: SecretStr | None = None
    ops_status_token: SecretStr | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Secrets:
        source = os.environ if env is None else env
        values = {name.lower(): source.get(name) or None for name in SECRET_ENV_NAMES}
        return cls.model_validate(values)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IMABOT_", env_nested_delimiter="__", extra="forbid")

    ima: ImaSettings = Field(default_factory=ImaSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    conversation: ConversationSettings = Field(default_factory=ConversationSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    feishu: FeishuSettings = Field(default_factory=FeishuSettings)
    sim: SimSettings = Field(default_factory=SimSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)
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
    if path is not None:
        try:
            file_data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SettingsError(f"config file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc
        _reject_secrets(file_data, "")
    settings = Settings(**file_data)
    settings.secrets = Secrets.from_env(env)
    return settings
