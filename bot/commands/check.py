"""``imabot check``: is this set-up ready to go live? One line per check, ✓ or ✗ with what to do; exit 0
when every check passed, 1 otherwise. Nothing is created or charged: IMA is asked for its product list,
Discord for the bot user and its registered commands, Feishu for a tenant token and the bot's info."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from bot.settings import Settings

TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{'✓' if self.ok else '✗'} {self.name}: {self.detail}"
        return text if self.ok or not self.fix else f"{text} — fix: {self.fix}"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings(Path(args.config) if args.config else None)
    except SettingsError as exc:
        for problem in _every_problem(args.config, str(exc)):
            print(Outcome("config", False, problem, "edit the config file (see config.example.toml)").line())
        print("the other checks need a valid config; fix it and run `imabot check` again")
        return 1
    outcomes = asyncio.run(check_all(settings))
    return report(outcomes, sys.stdout)


def report(outcomes: Sequence[Outcome], out: TextIO) -> int:
    for outcome in outcomes:
        print(outcome.line(), file=out)
    failed = sum(not o.ok for o in outcomes)
    print(f"{len(outcomes) - failed} passed, {failed} failed", file=out)
    return 1 if failed else 0


def _every_problem(config: str | None, first: str) -> list[str]:
    """Loading stops at unknown keys; validating the file as well lists the bad values too."""
    import os
    import tomllib

    from pydantic import ValidationError

    from bot.config_check import describe_validation_error
    from bot.settings import Settings

    path = config or os.environ.get("IMABOT_CONFIG")
    try:
        Settings(**tomllib.loads(Path(path).read_text(encoding="utf-8"))) if path else None
    except ValidationError as exc:
        return _problems(f"config file {path}: {describe_validation_error(exc, Settings)}")
    except (OSError, ValueError):
        pass
    return _problems(first)


def _problems(message: str) -> list[str]:
    head, _, rest = message.partition(": ")
    parts = [p.strip() for p in rest.split("; ") if p.strip()] if rest else []
    return [f"{head}: {p}" for p in parts] if len(parts) > 1 else [message]


async def check_all(settings: Settings) -> list[Outcome]:
    outcomes = [Outcome("config", True, "loaded and valid")]
    outcomes += await _ima(settings)
    outcomes += await _discord(settings)
    outcomes += await _feishu(settings)
    outcomes += await asyncio.to_thread(_storage, settings)
    outcomes.append(_ops_port(settings))
    return outcomes


async def _ima(settings: Settings) -> list[Outcome]:
    from adapters.ima.client import ImaClient
    from bot.settings import SettingsError
    from bot.wiring import ima_config
    from core.clock import SystemClock
    from core.errors import ErrorKind, ImabotError
    from core.types import TaskType

    try:
        config = ima_config(settings)
    except SettingsError as exc:
        return [Outcome("IMA key", False, str(exc).split(";")[0],
                        "export IMA_API_KEY=ima_... (https://www.imaclaw.ai/imaclaw/apikey)")]
    checks = [Outcome("IMA key", True, "format looks right")]
    try:
        async with ImaClient(config, clock=SystemClock()) as client:
            leaves = await asyncio.wait_for(client.list_products(TaskType.TEXT_TO_VIDEO), TIMEOUT_S)
    except ImabotError as exc:
        fix = {ErrorKind.AUTH: "IMA refused the key: copy it again from https://www.imaclaw.ai/imaclaw/apikey"}.get(
            exc.kind, f"check the network and [ima] base_url ({settings.ima.base_url})")
        return [*checks, Outcome("IMA product list", False, f"failed ({exc.kind.value})", fix)]
    except TimeoutError:
        return [*checks, Outcome("IMA product list", False, f"no answer within {TIMEOUT_S:.0f} s",
                                 f"check the network and [ima] base_url ({settings.ima.base_url})")]
    return [*checks, Outcome("IMA product list", True, f"{len(leaves)} text-to-video models offered")]


async def _discord(settings: Settings) -> list[Outcome]:
    import httpx

    from adapters.discord.endpoints import normalized_api_base

    token = settings.secrets.discord_bot_token
    if token is None or not settings.discord.enabled:
        return [Outcome("Discord", True, "not configured (DISCORD_BOT_TOKEN unset or disabled)")]
    base = normalized_api_base(settings.discord.api_base_url)
    headers = {"Authorization": f"Bot {token.get_secret_value()}"}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S, trust_env=False) as http:
            me = await http.get(f"{base}/users/@me", headers=headers)
            if me.status_code == 401:
                return [Outcome("Discord token", False, "Discord answered 401 (invalid token)",
                                "copy the bot token again (docs/discord.md) into DISCORD_BOT_TOKEN")]
            me.raise_for_status()
            user = me.json()
            app_id = settings.discord.application_id or user["id"]
            commands = await http.get(f"{base}/applications/{app_id}/commands", headers=headers)
            registered = commands.json() if commands.status_code == 200 else []
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        return [Outcome("Discord token", False, f"cannot ask Discord ({type(exc).__name__})",
                        "check the network, or [discord] api_base_url when using a proxy or a fake")]
    token_ok = Outcome("Discord token", True, f"logged in as {user.get('username', '?')}")
    if registered:
        return [token_ok, Outcome("Discord commands", True, f"{len(registered)} slash commands registered")]
    return [token_ok, Outcome("Discord commands", False, "no slash commands registered",
                              "run `imabot discord sync` (add --guild ID for an instant test server)")]


async def _feishu(settings: Settings) -> list[Outcome]:
    import httpx

    s = settings.secrets
    if not settings.feishu.enabled or s.feishu_app_id is None or s.feishu_app_secret is None:
        return [Outcome("Feishu", True, "not configured (FEISHU_APP_ID / FEISHU_APP_SECRET unset)")]
    domain = settings.feishu.domain.rstrip("/")
    body = {"app_id": s.feishu_app_id.get_secret_value(),
            "app_secret": s.feishu_app_secret.get_secret_value()}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S, trust_env=False) as http:
            token_url = f"{domain}/open-apis/auth/v3/tenant_access_token/internal"
            reply = (await http.post(token_url, json=body)).json()
            if reply.get("code") != 0 or not reply.get("tenant_access_token"):
                return [Outcome("Feishu app", False, f"no tenant token (code {reply.get('code')})",
                                "check FEISHU_APP_ID / FEISHU_APP_SECRET and [feishu] domain (Feishu/Lark)")]
            auth = {"Authorization": f"Bearer {reply['tenant_access_token']}"}
            info = (await http.get(f"{domain}/open-apis/bot/v3/info", headers=auth)).json()
    except (httpx.HTTPError, ValueError) as exc:
        return [Outcome("Feishu app", False, f"cannot ask Feishu ({type(exc).__name__})",
                        f"check the network and [feishu] domain ({domain})")]
    app = Outcome("Feishu app", True, "tenant token issued")
    if info.get("code") != 0:
        return [app, Outcome("Feishu bot", False, f"bot info refused (code {info.get('code')})",
                             "enable the Bot feature and the message scopes in the developer console")]
    name = (info.get("bot") or {}).get("app_name", "?")
    return [app, Outcome("Feishu bot", True, f"bot '{name}' is enabled")]


def _storage(settings: Settings) -> list[Outcome]:
    from adapters.sqlite.db import available_migrations

    data_dir = settings.storage.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".imabot-check"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        return [Outcome("data dir", False, f"{data_dir} is not writable ({why})",
                        "create it and give the bot's user write access, or set [storage] data_dir")]
    outcomes = [Outcome("data dir", True, f"{data_dir} is writable")]
    known = {version for version, _ in available_migrations()}
    path = settings.storage.db_path
    if not path.exists():
        return [*outcomes, Outcome("database", True, f"{path} is created at start ({len(known)} migrations)")]
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            applied = {int(row[0]) for row in conn.execute("SELECT version FROM schema_version")}
    except sqlite3.Error as exc:
        return [*outcomes, Outcome("database", False, f"{path} cannot be read ({exc})",
                                   "restore it from a backup or move it away to start a new one")]
    newer = applied - known
    if newer:
        return [*outcomes, Outcome("database", False, f"{path} has migrations unknown here {sorted(newer)}",
                                   "run the imabot version that wrote it, or a newer one")]
    pending = len(known - applied)
    detail = "schema current" if not pending else f"{pending} migrations will be applied at start"
    return [*outcomes, Outcome("database", True, f"{path}: {detail}")]


def _ops_port(settings: Settings) -> Outcome:
    from adapters.embedded_http import listen_socket

    ops = settings.ops
    if not ops.enabled:
        return Outcome("ops port", True, "ops server disabled")
    if ops.port == 0:
        return Outcome("ops port", True, "any free port (logged at start)")
    try:
        listen_socket(ops.host, ops.port).close()
    except OSError as exc:
        return Outcome("ops port", False, f"{ops.host}:{ops.port} is not free ({exc.strerror})",
                       "stop what uses it or set [ops] port (0 = any free port)")
    return Outcome("ops port", True, f"{ops.host}:{ops.port} is free")


def configure_health(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait (default 3)")
    parser.set_defaults(handler=run_health)


def run_health(args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request

    from bot.settings import SettingsError, load_settings

    try:
        ops = load_settings(Path(args.config) if args.config else None).ops
    except SettingsError as exc:
        print(f"imabot health: {exc}", file=sys.stderr)
        return 2
    host = "127.0.0.1" if ops.host in ("0.0.0.0", "", "::") else ops.host
    url = f"http://{host}:{ops.port}/healthz"
    try:
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        with direct.open(url, timeout=args.timeout) as reply:
            ok = reply.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"imabot health: {url} does not answer ({type(exc).__name__})", file=sys.stderr)
        return 1
    return 0 if ok else 1
