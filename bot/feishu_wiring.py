"""Start the Feishu / Lark adapter from settings (used by ``imabot run``)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from adapters.feishu.adapter import FeishuAdapter, FeishuConfig
from adapters.media.probe import PyAvProbe
from bot.app_context import AppContext
from bot.platform_start import register_and_run
from bot.settings import SettingsError
from core.errors import ErrorKind, PlatformError
from core.ops.observed import ObservedDedupeStore
from core.types import Language, Platform


def start_feishu(ctx: AppContext) -> AbstractAsyncContextManager[None] | None:
    """None unless FEISHU_APP_ID and FEISHU_APP_SECRET are set and ``feishu.enabled`` is true.

    The sink and the attachment fetcher are registered right away, before anything is received;
    entering the returned context opens the intake.
    """
    settings = ctx.settings
    feishu, secrets = settings.feishu, settings.secrets
    if not feishu.enabled or secrets.feishu_app_id is None or secrets.feishu_app_secret is None:
        return None
    encrypt_key = secrets.feishu_encrypt_key.get_secret_value() if secrets.feishu_encrypt_key else ""
    token = secrets.feishu_verification_token.get_secret_value() if secrets.feishu_verification_token else ""
    if feishu.intake == "webhook" and not (encrypt_key or token):
        raise SettingsError("feishu.intake = 'webhook' needs FEISHU_ENCRYPT_KEY and/or "
                            "FEISHU_VERIFICATION_TOKEN so forged requests can be rejected")
    config = FeishuConfig(
        app_id=secrets.feishu_app_id.get_secret_value(),
        app_secret=secrets.feishu_app_secret.get_secret_value(),
        domain=feishu.domain,
        intake=feishu.intake,
        webhook_host=feishu.webhook_host,
        webhook_port=feishu.webhook_port,
        webhook_path=feishu.webhook_path,
        encrypt_key=encrypt_key,
        verification_token=token,
        patch_interval_s=feishu.patch_interval_s,
        default_language=Language(settings.bot.default_language),
        temp_dir=settings.storage.data_dir / "tmp",
        media_origins=settings.ima.origins,
        inbox_hold_s=settings.storage.lease_s,
    )
    dedupe = ObservedDedupeStore(Platform.FEISHU, ctx.stores.dedupe, ctx.telemetry)
    adapter = FeishuAdapter(config, ctx.service, dedupe, ctx.clock,
                            probe=PyAvProbe(timeout_s=settings.media.probe_timeout_s),
                            telemetry=ctx.telemetry, inbox=ctx.stores.inbox)
    return register_and_run(ctx, Platform.FEISHU, adapter, _refusal)


def _refusal(exc: BaseException) -> SettingsError | None:
    if isinstance(exc, PlatformError) and exc.kind is ErrorKind.AUTH:
        return SettingsError("Feishu refused FEISHU_APP_ID / FEISHU_APP_SECRET (no access token); check "
                             "the app credentials and feishu.domain (Feishu or Lark)")
    return None
