"""``imabot jobs`` (find jobs), ``imabot job ID`` (one job's whole story) and ``imabot usage`` (jobs and
points per day, chat and user, from the spend ledger: the one record of spend, as ``admin usage``
reads it), read from the bot's database. Times are UTC."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from adapters.sqlite.db import Database
    from core.jobs import Job
    from core.ops.history import JobHistory, StateChange
    from core.spend.usage import UsageRow

T = TypeVar("T")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
EXCERPT_CHARS = 40


class SinceError(ValueError):
    pass


def parse_since(text: str, now: float) -> float:
    """``30m``, ``2h``, ``7d``, ``1w`` ago, or a UTC date/time (``2026-12-01``, ``2026-12-01T08:00``)."""
    raw = text.strip().lower()
    found = _DURATION.match(raw)
    if found:
        return now - float(found.group(1)) * _UNITS[found.group(2)]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SinceError(f"--since {text!r}: use a duration such as 30m, 2h, 7d or a date such as "
                         "2026-12-01") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def configure_jobs(jobs: argparse.ArgumentParser) -> None:
    jobs.add_argument("--state", action="append", default=[], metavar="STATE",
                      help="only jobs in this state (repeat or comma-separate: running,failed)")
    jobs.add_argument("--user", help="a platform user id or the user hash shown in logs")
    jobs.add_argument("--since", help="accepted since: 30m, 2h, 7d or a UTC date (2026-12-01)")
    jobs.add_argument("--limit", type=int, default=50, help="at most this many jobs (default 50)")
    jobs.set_defaults(handler=run_jobs)


def configure_job(job: argparse.ArgumentParser) -> None:
    job.add_argument("job_id", help="a job id (from a log line or `imabot jobs`) or its IMA task id")
    job.set_defaults(handler=run_job)


def configure_usage(usage: argparse.ArgumentParser) -> None:
    usage.add_argument("--since", default="7d", help="from: 30m, 2h, 7d (default) or a UTC date")
    usage.set_defaults(handler=run_usage)


def _with_history(args: argparse.Namespace, work: Callable[[JobHistory], Awaitable[int]]) -> int:
    from adapters.sqlite.history import SqliteJobHistory

    return _with_database(args, lambda db: work(SqliteJobHistory(db)))


def _with_database(args: argparse.Namespace, work: Callable[[Database], Awaitable[int]]) -> int:
    from adapters.sqlite.db import Database
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings(Path(args.config) if args.config else None)
    except SettingsError as exc:
        print(f"imabot {args.command}: {exc}", file=sys.stderr)
        return 2
    path = settings.storage.db_path
    if not path.exists():
        print(f"imabot {args.command}: no database at {path} (storage.data_dir); has the bot run here yet?",
              file=sys.stderr)
        return 2

    async def main() -> int:
        async with Database(path) as db:
            return await work(db)

    return asyncio.run(main())


def run_jobs(args: argparse.Namespace) -> int:
    from core.jobs import JobState
    from core.ops.history import JobFilter

    names = [s.strip() for group in args.state for s in group.split(",") if s.strip()]
    try:
        states = tuple(JobState(s) for s in names)
        since = parse_since(args.since, time.time()) if args.since else None
    except ValueError as exc:
        known = ", ".join(s.value for s in JobState)
        detail = str(exc) if isinstance(exc, SinceError) else f"unknown state; use one of {known}"
        print(f"imabot jobs: {detail}", file=sys.stderr)
        return 2
    query = JobFilter(states=states, user=args.user, since=since, limit=max(1, args.limit))

    async def work(history: JobHistory) -> int:
        found = await history.find(query)
        if not found:
            print("no jobs match")
            return 0
        print(f"{'accepted (UTC)':<19}  {'job':<24}  {'state':<12}  {'where':<28}  {'user':<12}  "
              f"{'model':<22}  {'pts':>4}  prompt")
        for job in found:
            print(_job_line(job))
        return 0

    return _with_history(args, work)


def run_job(args: argparse.Namespace) -> int:
    async def work(history: JobHistory) -> int:
        job = await history.lookup(args.job_id)
        if job is None:
            print(f"imabot job: no job or IMA task {args.job_id!r} in this database", file=sys.stderr)
            return 1
        print("\n".join(describe_job(job, await history.changes(job.job_id))))
        return 0

    return _with_history(args, work)


def run_usage(args: argparse.Namespace) -> int:
    try:
        since = parse_since(args.since, time.time())
    except SinceError as exc:
        print(f"imabot usage: {exc}", file=sys.stderr)
        return 2

    async def work(db: Database) -> int:
        from adapters.sqlite.ledger import SqliteLedger
        from core.spend.usage import usage_rows

        entries = await SqliteLedger(db).entries(since, time.time() + 1)
        print("\n".join(describe_usage(usage_rows(entries), since)))
        return 0

    return _with_database(args, work)


def describe_job(job: Job, changes: Sequence[StateChange]) -> list[str]:
    from adapters.ima.errors import redact_text
    from core.messages import Messages
    from core.ops.history import user_hash
    from core.ux.error_text import reason_text

    c, r = job.conversation, job.request
    lines = [f"job {job.job_id}: {job.state.value}",
             f"  where    {c.platform.value} chat {c.chat_id}{' (direct)' if c.is_direct else ''}, "
             f"user {user_hash(c.platform.value, c.user_id)} (id {c.user_id}), message {c.message_id}",
             f"  asked    {r.task_type.value}: {r.prompt!r}"]
    if r.params:
        lines.append(f"  params   {dict(r.params)}")
    if job.model_id:
        eta = f", estimated {job.eta_s[0]}~{job.eta_s[1]} s" if job.eta_s else ""
        lines.append(f"  quote    {job.model_name or job.model_id} ({job.model_id}), "
                     f"{job.credits if job.credits is not None else '?'} points{eta}")
    lines.append(f"  IMA task {job.task_id or '- (never created)'}")
    lines.append("  history")
    start = changes[0].at if changes else job.created_at
    for change in changes:
        lines.append(f"    {_utc(change.at)}  +{change.at - start:7.1f} s  {change.state.value}")
    if job.error_kind is not None:
        reason = reason_text(Messages.from_package(), job.error_kind, job.media_type, r.language)
        lines.append(f"  failure  {job.error_kind.value}: {reason}")
    lines.append("  deliveries " + (", ".join(f"{part} -> {ref or '(sent)'}"
                                             for part, ref in job.message_refs.items()) or "none recorded"))
    for media in job.result:
        lines.append(f"  result   {media.kind.value} {redact_text(media.url)}")
    return lines


def describe_usage(rows: Sequence[UsageRow], since: float) -> list[str]:
    from core.ops.history import user_hash

    lines = [f"usage since {_utc(since)} UTC (from the spend ledger; jobs = generations let start)"]
    if not rows:
        return [*lines, "no jobs"]
    lines.append(f"{'day':<10}  {'platform':<8}  {'chat':<22}  {'user':<12}  {'jobs':>5}  {'points':>7}"
                 "  failed")
    for row in rows:
        who = user_hash(row.platform, row.user_id)
        lines.append(f"{row.day:<10}  {row.platform:<8}  {row.chat_id[:22]:<22}  {who:<12}  {row.jobs:>5}  "
                     f"{row.points:>7}  {row.failed}")
    lines.append(f"total: {sum(r.jobs for r in rows)} jobs, {sum(r.points for r in rows)} points, "
                 f"{sum(r.failed for r in rows)} failed")
    return lines


def _job_line(job: Job) -> str:
    from core.ops.history import user_hash

    c = job.conversation
    prompt = " ".join(job.request.prompt.split())
    excerpt = prompt if len(prompt) <= EXCERPT_CHARS else prompt[:EXCERPT_CHARS] + "…"
    where = f"{c.platform.value}:{c.chat_id}"[:28]
    points = str(job.credits) if job.credits is not None and job.task_id else "-"
    who, model = user_hash(c.platform.value, c.user_id), (job.model_id or "-")[:22]
    return (f"{_utc(job.created_at)}  {job.job_id:<24}  {job.state.value:<12}  {where:<28}  "
            f"{who:<12}  {model:<22}  {points:>4}  {excerpt}")


def _utc(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))
