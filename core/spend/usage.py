"""Usage answers: a user's own (``describe_usage``) and the operators' report (top spenders, failures)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.messages import Messages
from core.spend import windows
from core.spend.gate import SpendGate
from core.spend.ports import BudgetScope, LedgerEntry, LedgerState, Owner
from core.types import Conversation, Language

TOP = 10


async def describe_usage(
    gate: SpendGate, conversation: Conversation, language: Language, key_line: str | None
) -> str:
    """Spent today / this month through the bot, budget left, jobs running / queued, and where the real
    balance is (the IMA account page)."""
    m, quota, now = gate.t, gate.policy.quota, gate.clock_now()
    owner = Owner.of(conversation)
    limits = {limit.scope: limit for limit in await gate.limits(owner)}
    day = windows.day(now, quota.utc_offset_hours)
    month = windows.month(now, quota.utc_offset_hours)
    lines = [m("spend.usage.head", language)]
    for scope, period in ((BudgetScope.USER_DAY, day), (BudgetScope.USER_MONTH, month)):
        spent = await gate.ledger.spent(scope, owner, period.start)
        limit = limits.get(scope)
        budget = (
            m(
                "spend.usage.budget_left",
                language,
                limit=limit.limit,
                remaining=max(0, limit.limit - spent),
                reset=period.reset_label(quota.utc_offset_hours),
            )
            if limit is not None
            else m("spend.usage.no_budget", language)
        )
        lines.append(m(f"spend.usage.{scope.value}", language, points=spent, budget=budget))
    held, waiting = await gate.ledger.open_counts(owner.platform, owner.user_id)
    lines.append(
        m(
            "spend.usage.jobs",
            language,
            running=held,
            queued=waiting,
            max_running=quota.running_per_user,
            max_queued=quota.queued_per_user,
        )
    )
    lines.append(key_line or m("spend.usage.payer_operator", language))
    lines.append(m("spend.usage.balance", language, url=gate.policy.account_url))
    return "\n".join(lines)


@dataclass
class _Tally:
    points: int = 0
    jobs: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class UsageReport:
    since: float
    until: float
    total: _Tally
    by_user: Sequence[tuple[str, _Tally]] = field(default_factory=tuple)
    by_chat: Sequence[tuple[str, _Tally]] = field(default_factory=tuple)
    by_day: Sequence[tuple[str, _Tally]] = field(default_factory=tuple)
    refused: int = 0  # admitted but ended before anything was created


def build_report(entries: Sequence[LedgerEntry], since: float, until: float) -> UsageReport:
    total = _Tally()
    groups: dict[str, dict[str, _Tally]] = {"user": {}, "chat": {}, "day": {}}
    refused = Counter[str]()
    for entry in entries:
        if entry.state is LedgerState.RELEASED:
            refused["all"] += 1
            continue
        keys = {
            "user": entry.owner.user_key,
            "chat": entry.owner.chat_key,
            "day": windows.utc_date(entry.admitted_at),
        }
        for tally in (total, *(groups[g].setdefault(k, _Tally()) for g, k in keys.items())):
            tally.points += entry.points if entry.state is not LedgerState.WAITING else 0
            tally.jobs += 1
            tally.failed += int(entry.failed)

    def ranked(group: dict[str, _Tally]) -> tuple[tuple[str, _Tally], ...]:
        return tuple(sorted(group.items(), key=lambda kv: (-kv[1].points, kv[0]))[:TOP])

    return UsageReport(
        since,
        until,
        total,
        ranked(groups["user"]),
        ranked(groups["chat"]),
        tuple(sorted(groups["day"].items())),
        refused["all"],
    )


def report_text(report: UsageReport, messages: Messages, language: Language) -> str:
    t = messages.text
    lines = [
        t(
            "spend.admin.report.head",
            language,
            since=windows.utc_date(report.since),
            until=windows.utc_date(report.until - 1),
            points=report.total.points,
            jobs=report.total.jobs,
            failed=report.total.failed,
            refused=report.refused,
        )
    ]
    for title, rows in (("users", report.by_user), ("chats", report.by_chat), ("days", report.by_day)):
        if not rows:
            continue
        lines.append(t(f"spend.admin.report.{title}", language))
        lines.extend(
            t(
                "spend.admin.report.line",
                language,
                who=who,
                points=tally.points,
                jobs=tally.jobs,
                failed=tally.failed,
            )
            for who, tally in rows
        )
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One UTC day's spend of one user in one chat (``imabot usage``, the status page)."""

    day: str  # UTC date, YYYY-MM-DD
    platform: str
    chat_id: str
    user_id: str
    jobs: int  # generations the ledger let start (points reserved or settled)
    points: int
    failed: int


def usage_rows(entries: Sequence[LedgerEntry]) -> list[UsageRow]:
    """The ledger per UTC day (of admission), chat and user, counted as ``build_report`` counts: newest day
    first, then most points."""
    tallies: dict[tuple[str, str, str, str], _Tally] = {}
    for entry in entries:
        if entry.state is LedgerState.RELEASED:
            continue
        owner = entry.owner
        key = (windows.utc_date(entry.admitted_at), owner.platform, owner.chat_id, owner.user_id)
        tally = tallies.setdefault(key, _Tally())
        tally.points += entry.points if entry.state is not LedgerState.WAITING else 0
        tally.jobs += 1
        tally.failed += int(entry.failed)
    rows = [UsageRow(day, platform, chat, user, t.jobs, t.points, t.failed)
            for (day, platform, chat, user), t in tallies.items()]
    rows.sort(key=lambda r: r.points, reverse=True)
    rows.sort(key=lambda r: r.day, reverse=True)
    return rows
