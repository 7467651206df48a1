"""Admin commands as values, and the words that spell them (Feishu DMs; the CLI and Discord build
``AdminCommand`` directly). ``admin usage 7d`` / ``管理 用量 本月`` / ``admin budget discord:42 200 3000``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.spend.policy import MAX_POINTS
from core.spend.windows import Period, day, month


class AdminVerb(StrEnum):
    USAGE = "usage"
    BUDGET = "budget"  # set (day / month points) or clear a user's budget
    PAUSE = "pause"
    RESUME = "resume"
    JOBS = "jobs"
    CANCEL = "cancel"
    HELP = "help"


@dataclass(frozen=True, slots=True)
class AdminCommand:
    verb: AdminVerb
    target: str | None = None  # user / chat / job id ("platform:id" or a bare id on the admin's platform)
    day_points: int | None = None
    month_points: int | None = None
    clear: bool = False
    period: str = "today"  # usage: "today", "month" or "<N>d"


class AdminInputError(ValueError):
    """The command was understood as an admin command but its arguments are wrong."""


_PREFIX = re.compile(r"^\s*/?(admin|管理)\b\s*", re.IGNORECASE)
_VERBS = {
    "usage": AdminVerb.USAGE,
    "用量": AdminVerb.USAGE,
    "budget": AdminVerb.BUDGET,
    "额度": AdminVerb.BUDGET,
    "pause": AdminVerb.PAUSE,
    "暂停": AdminVerb.PAUSE,
    "resume": AdminVerb.RESUME,
    "恢复": AdminVerb.RESUME,
    "jobs": AdminVerb.JOBS,
    "任务": AdminVerb.JOBS,
    "cancel": AdminVerb.CANCEL,
    "取消": AdminVerb.CANCEL,
    "help": AdminVerb.HELP,
    "帮助": AdminVerb.HELP,
}
_PERIODS = {"today": "today", "今天": "today", "month": "month", "本月": "month"}
_DAYS = re.compile(r"^(\d{1,3})\s*(d|天)$", re.IGNORECASE)
_CLEAR = {"clear", "none", "清除", "取消"}


def parse_admin(text: str) -> AdminCommand | None:
    """None when the text is not an admin command; raises ``AdminInputError`` for bad arguments."""
    match = _PREFIX.match(text)
    if match is None:
        return None
    words = text[match.end() :].split()
    if not words:
        return AdminCommand(AdminVerb.HELP)
    verb = _VERBS.get(words[0].casefold())
    if verb is None:
        raise AdminInputError(words[0])
    args = words[1:]
    if verb is AdminVerb.USAGE:
        return AdminCommand(verb, period=usage_period(args[0]) if args else "today")
    if verb is AdminVerb.BUDGET:
        if len(args) < 2:
            raise AdminInputError("budget")
        if args[1].casefold() in _CLEAR:
            return AdminCommand(verb, target=args[0], clear=True)
        return AdminCommand(
            verb,
            target=args[0],
            day_points=points(args[1]),
            month_points=points(args[2]) if len(args) > 2 else None,
        )
    if verb is AdminVerb.CANCEL and not args:
        raise AdminInputError("cancel")
    return AdminCommand(verb, target=args[0] if args else None)


def usage_period(word: str) -> str:
    if word.casefold() in _PERIODS:
        return _PERIODS[word.casefold()]
    found = _DAYS.match(word)
    if found is None or not 1 <= int(found.group(1)) <= 366:
        raise AdminInputError(word)
    return f"{int(found.group(1))}d"


def points(word: str) -> int | None:
    """A budget value: a whole number of points, or "-" for no limit in that period."""
    if word in ("-", "none", "无"):
        return None
    if not word.isdigit() or int(word) > MAX_POINTS:
        raise AdminInputError(word)
    return int(word)


def report_period(period: str, now: float, offset_hours: int) -> Period:
    if period == "month":
        return month(now, offset_hours)
    today = day(now, offset_hours)
    if period.endswith("d"):
        return Period(today.end - int(period[:-1]) * 86_400, today.end)
    return today


def qualified(target: str, platform: str) -> tuple[str, str]:
    """("discord", "42") from "discord:42" or from "42" said on Discord."""
    if ":" in target:
        head, _, rest = target.partition(":")
        return head, rest
    return platform, target
