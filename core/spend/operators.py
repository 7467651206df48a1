"""Carry out an admin command (chat, Discord or the CLI: one implementation). Cancelling a job is the
caller's: a running bot stops it as its cancel button would; the CLI can only end jobs not yet created."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.jobs import Job, JobStore
from core.messages import Messages
from core.spend import admin as words
from core.spend.admin import AdminCommand, AdminVerb
from core.spend.gate import CHAT, DAY_POINTS, MONTH_POINTS, PAUSED, USER, SpendGate
from core.spend.usage import build_report, report_text
from core.types import Language

JOBS_SHOWN = 50

# (job) -> True when it was cancelled
CancelJob = Callable[[Job], Awaitable[bool]]


async def run_admin(
    command: AdminCommand,
    *,
    gate: SpendGate,
    jobs: JobStore,
    messages: Messages,
    language: Language,
    platform: str,
    chat_id: str | None,
    cancel: CancelJob,
) -> str:
    """The reply to an admin's ``command``; ``platform`` / ``chat_id`` qualify bare ids ("this chat")."""
    m, verb = messages, command.verb
    if verb is AdminVerb.USAGE:
        period = words.report_period(command.period, gate.clock_now(), gate.policy.quota.utc_offset_hours)
        entries = await gate.ledger.entries(period.start, period.end)
        return report_text(build_report(entries, period.start, period.end), m, language)
    if verb is AdminVerb.BUDGET and command.target:
        subject = ":".join(words.qualified(command.target, platform))
        if command.clear:
            await gate.settings.put(USER, subject, DAY_POINTS, None)
            await gate.settings.put(USER, subject, MONTH_POINTS, None)
            return m.text("spend.admin.budget_cleared", language, user=subject)
        await gate.settings.put(USER, subject, DAY_POINTS, _stored(command.day_points))
        await gate.settings.put(USER, subject, MONTH_POINTS, _stored(command.month_points))
        return m.text(
            "spend.admin.budget_set",
            language,
            user=subject,
            day=_shown(command.day_points),
            month=_shown(command.month_points),
        )
    if verb in (AdminVerb.PAUSE, AdminVerb.RESUME) and (command.target or chat_id):
        target = command.target or chat_id or ""
        chat = ":".join(words.qualified(target, platform))
        await gate.settings.put(CHAT, chat, PAUSED, "1" if verb is AdminVerb.PAUSE else None)
        return m.text(f"spend.admin.{verb.value}d", language, chat=chat)
    if verb is AdminVerb.JOBS:
        return await jobs_text(jobs, m, language)
    if verb is AdminVerb.CANCEL and command.target:
        job = await jobs.get(command.target)
        if job is None or job.notice_only:
            return m.text("spend.admin.no_job", language, job=command.target)
        key = "spend.admin.cancelled" if await cancel(job) else "spend.admin.not_cancelled"
        return m.text(key, language, job=job.job_id)
    return m.text("spend.admin.help", language)


async def jobs_text(jobs: JobStore, m: Messages, language: Language) -> str:
    unfinished = [j for j in await jobs.unfinished() if not j.notice_only]
    if not unfinished:
        return m.text("spend.admin.jobs.none", language)
    lines = [m.text("spend.admin.jobs.head", language, count=len(unfinished))]
    for job in unfinished[:JOBS_SHOWN]:
        c = job.conversation
        lines.append(
            m.text(
                "spend.admin.jobs.line",
                language,
                job=job.job_id,
                user=f"{c.platform.value}:{c.user_id}",
                state=job.state.value,
                model=job.model_name or "-",
                points=job.credits or "-",
            )
        )
    return "\n".join(lines)


def _stored(points: int | None) -> str:
    return "none" if points is None else str(points)


def _shown(points: int | None) -> str:
    return "-" if points is None else str(points)
