"""``imabot admin …``: the operators' spend commands on the bot's database (usage report per user,
chat and day; set or clear a user's budget; pause or resume a chat; list jobs; cancel a job that has not
created its task yet - a running job is stopped from chat, ``/imabot-admin cancel`` or ``管理 取消``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings, SettingsError, load_settings
from core.types import Language


def add_parser(subparsers: Any) -> None:
    configure(subparsers.add_parser("admin", help="spend and usage administration (budgets, pause, jobs)"))


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--language", choices=("en", "zh"), default="en", help="language of the output")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    usage = verbs.add_parser("usage", help="points, jobs and failures per user, chat and day")
    usage.add_argument("--period", default="today", help="today, month or a number of days like 7d")
    budget = verbs.add_parser("budget", help="set or clear one user's budget")
    budget.add_argument("user", help="platform:user id, e.g. discord:1234 or feishu:ou_abc")
    budget.add_argument("--day", help="points per day ('-' for no limit)")
    budget.add_argument("--month", help="points per month ('-' for no limit)")
    budget.add_argument("--clear", action="store_true", help="back to the [quota] defaults")
    for name, text in (("pause", "pause generation in a chat"), ("resume", "resume generation in a chat")):
        verbs.add_parser(name, help=text).add_argument("chat", help="platform:chat id, e.g. discord:5678")
    verbs.add_parser("jobs", help="jobs running, queued or awaiting confirmation")
    verbs.add_parser("cancel", help="cancel a job not created yet").add_argument("job", help="job id")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from core.spend.admin import AdminCommand, AdminInputError, AdminVerb, points, usage_period

    try:
        settings = load_settings(Path(args.config) if getattr(args, "config", None) else None)
        verb = AdminVerb(args.verb)
        if verb is AdminVerb.USAGE:
            command = AdminCommand(verb, period=usage_period(args.period))
        elif verb is AdminVerb.BUDGET:
            clear = args.clear or (args.day is None and args.month is None)
            command = AdminCommand(verb, target=args.user, clear=clear,
                                   day_points=points(args.day) if args.day else None,
                                   month_points=points(args.month) if args.month else None)
        else:
            command = AdminCommand(verb, target=getattr(args, "chat", None) or getattr(args, "job", None))
    except SettingsError as exc:
        print(f"imabot admin: {exc}", file=sys.stderr)
        return 2
    except AdminInputError as exc:
        print(f"imabot admin: cannot use {exc}", file=sys.stderr)
        return 2
    print(asyncio.run(_run(settings, command, Language(args.language))))
    return 0


async def _run(settings: Settings, command: Any, language: Language) -> str:
    from bot.spend_wiring import build_spend
    from bot.storage import open_stores
    from core.clock import SystemClock
    from core.jobs import PRE_CREATE_STATES, Job, JobState
    from core.messages import Messages
    from core.spend.hooks import SettlingJobStore
    from core.spend.operators import run_admin

    clock, messages = SystemClock(), Messages.from_package()
    async with open_stores(settings, clock) as stores:
        spend = build_spend(settings, stores.spend, clock, messages, None)
        jobs = SettlingJobStore(stores.jobs, spend.gate)

        async def cancel(job: Job) -> bool:
            # Offline, only a job with nothing created can be ended here; the running bot resumes the rest.
            if job.state not in PRE_CREATE_STATES and job.state is not JobState.AWAITING_CONFIRMATION:
                return False
            await jobs.save(job.advance(JobState.CANCELLED, clock.now(), error_kind=None))
            return True

        return await run_admin(command, gate=spend.gate, jobs=jobs, messages=messages, language=language,
                               platform="cli", chat_id=None, cancel=cancel)
