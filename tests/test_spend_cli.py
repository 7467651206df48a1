"""``imabot admin …`` on a real database file, and the start-up checks of the spend settings."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pydantic
import pytest

from adapters.sqlite.db import Database
from adapters.sqlite.ledger import SqliteLedger
from adapters.sqlite.spend_settings import SqliteSpendSettings
from bot.cli import main
from bot.settings import Settings, SettingsError
from bot.spend_wiring import build_spend, spend_policy
from core.clock import FakeClock
from core.messages import Messages
from core.spend.ports import Owner
from tests.support.stores import sqlite_stores


def config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "imabot.toml"
    path.write_text(f'[storage]\ndata_dir = "{tmp_path / "data"}"\n{extra}', encoding="utf-8")
    return path


async def seed(db_path: Path) -> None:
    async with Database(db_path) as db:
        ledger = SqliteLedger(db)
        now = time.time()
        for n, (user, points, failed) in enumerate((("42", 120, False), ("42", 30, True), ("7", 5, False))):
            owner = Owner("discord", user, "c1", "g1")
            assert await ledger.admit(f"j{n}", owner, now, 10)
            await ledger.try_start(f"j{n}", points, "m", now, 10, ())
            await ledger.settle(f"j{n}", points, failed, now)


def test_usage_report_lists_top_spenders_and_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path)
    asyncio.run(seed(tmp_path / "data" / "imabot.sqlite3"))
    assert main(["--config", str(cfg), "admin", "usage", "--period", "7d"]) == 0
    out = capsys.readouterr().out
    assert "3 jobs, 155 points, 1 failed" in out
    lines = out.splitlines()
    assert lines.index("• discord:42: 150 points, 2 jobs, 1 failed") < lines.index(
        "• discord:7: 5 points, 1 jobs, 0 failed"
    )  # top spender first


def test_budget_and_pause_are_stored_for_the_running_bot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path)
    assert main(["--config", str(cfg), "admin", "budget", "discord:42", "--day", "100", "--month", "-"]) == 0
    assert main(["--config", str(cfg), "admin", "pause", "feishu:oc_group"]) == 0
    assert main(["--config", str(cfg), "admin", "budget", "discord:42", "--day", "lots"]) == 2
    out, err = capsys.readouterr()
    assert "100 per day, - per month" in out and "paused in feishu:oc_group" in out
    assert "cannot use lots" in err
    asyncio.run(stored(tmp_path / "data" / "imabot.sqlite3"))


async def stored(db_path: Path) -> None:
    async with Database(db_path) as db:
        settings = SqliteSpendSettings(db)
        assert await settings.values("user", "discord:42") == {"day_points": "100", "month_points": "none"}
        assert await settings.values("chat", "feishu:oc_group") == {"paused": "1"}


def test_negative_or_absurd_budgets_are_refused_at_start_up() -> None:
    with pytest.raises(pydantic.ValidationError, match="user_day_points"):
        Settings(quota={"user_day_points": -5})
    with pytest.raises(pydantic.ValidationError, match="running_per_user"):
        Settings(quota={"running_per_user": 0})
    with pytest.raises(pydantic.ValidationError, match="chat_day_points"):
        Settings(quota={"chat_day_points": 10**12})
    with pytest.raises(pydantic.ValidationError, match="allow"):
        Settings(access={"allow": ["discord:planet:1"]})


async def test_own_keys_need_the_master_key(tmp_path: Path) -> None:
    settings = Settings(billing={"mode": "user_key"})
    async with Database(tmp_path / "db.sqlite3") as db:
        with pytest.raises(SettingsError, match="IMABOT_SECRET_KEY"):
            build_spend(settings, sqlite_stores(db).spend, FakeClock(), Messages.from_package(), None)


def test_access_lists_become_place_rules() -> None:
    settings = Settings(
        access={
            "allow": ["discord:guild:1", "feishu:chat:oc_a"],
            "deny": ["discord:user:9"],
            "admins": ["discord:5"],
            "disallowed_reply": "notice_once",
        }
    )
    access = spend_policy(settings).access
    assert access.discord_guilds.allow == {"1"} and access.feishu_chats.allow == {"oc_a"}
    assert access.discord_users.deny == {"9"} and access.admins == {"discord:5"}
    assert access.discord_channels.permits("any") and not access.discord_users.permits("9")
