"""The status page: plain server-rendered HTML; a few lines of script re-fetch the live part every two
seconds (``/status/live``) and swap it in, so progress moves without a reload. No front-end build."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from bot.ops.live import LiveView
from core.clock import Clock
from core.jobs import TERMINAL_STATES, Job, JobState
from core.messages import Messages
from core.ops.history import JobFilter, JobHistory, user_hash
from core.spend.ports import Ledger
from core.spend.usage import UsageRow, usage_rows
from core.types import Language
from core.ux.error_text import reason_text
from core.ux.renderer import progress_percent

ACTIVE_STATES = tuple(s for s in JobState if s not in TERMINAL_STATES)
FAILED_STATES = (JobState.FAILED, JobState.TIMED_OUT)
USAGE_DAYS = 7
EXCERPT_CHARS = 40
REFRESH_MS = 2000

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>imabot status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }}
h1 {{ font-size: 1.4em; }} h2 {{ font-size: 1.1em; margin-top: 1.6em; }}
table {{ border-collapse: collapse; min-width: 40em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }} .up {{ color: #15803d; }} .down {{ color: #b91c1c; }}
progress {{ width: 8em; }} .muted {{ color: #777; }}
</style></head>
<body><h1>imabot status</h1>
<div id="live">{live}</div>
<script>
setInterval(async () => {{
  const reply = await fetch("/status/live" + location.search, {{ cache: "no-store" }});
  if (reply.ok) document.getElementById("live").innerHTML = await reply.text();
}}, {refresh});
</script></body></html>
"""


@dataclass(frozen=True, slots=True)
class StatusPage:
    history: JobHistory
    ledger: Ledger  # the one record of spend: usage is read from it
    live: LiveView
    messages: Messages
    language: Language
    clock: Clock

    async def page(self) -> str:
        return _PAGE.format(live=await self.live_part(), refresh=REFRESH_MS)

    async def live_part(self) -> str:
        now = self.clock.now()
        active = await self.history.find(JobFilter(states=ACTIVE_STATES, limit=100))
        failed = await self.history.find(JobFilter(states=FAILED_STATES, limit=10))
        usage = usage_rows(await self.ledger.entries(now - USAGE_DAYS * 86_400, now + 1))
        return "".join([self._platforms(), self._active(active, now), self._failures(failed),
                        _usage(usage), f'<p class="muted">updated {_clock(now)} UTC</p>'])

    def _platforms(self) -> str:
        rows = [f'<tr><td>{escape(p.value)}</td><td class="{"up" if up else "down"}">'
                f'{"connected" if up else "disconnected"}</td></tr>'
                for p, up in sorted(self.live.connected().items())]
        return _table("Platforms", ["platform", "connection"], rows, "no platform is running")

    def _active(self, jobs: Sequence[Job], now: float) -> str:
        rows = []
        for job in jobs:
            percent = self._percent(job, now)
            job_id = escape(job.job_id)
            rows.append(
                f'<tr data-job="{job_id}"><td>{job_id}</td><td>{escape(job.state.value)}</td>'
                f'<td><progress max="100" value="{percent}"></progress>'
                f' <span class="pct">{percent}%</span></td>'
                f"{_who(job)}<td>{escape(job.model_name or '-')}</td><td>{_excerpt(job)}</td>"
                f"<td>{int(now - job.created_at)} s</td></tr>")
        return _table("Running and queued jobs", ["job", "state", "progress", "platform", "chat", "user",
                                                  "model", "prompt", "age"], rows, "nothing is running")

    def _percent(self, job: Job, now: float) -> int:
        """The last progress shown in the chat, moved on by the chat's own formula between updates."""
        shown = self.live.progress.get(job.job_id, 0)
        if job.submitted_at is None or not job.eta_s:
            return shown
        return max(shown, progress_percent(now - job.submitted_at, job.eta_s[1]))

    def _failures(self, jobs: Sequence[Job]) -> str:
        rows = []
        for job in jobs:
            kind = job.error_kind
            reason = reason_text(self.messages, kind, job.media_type, self.language) if kind else "-"
            at = _clock(job.finished_at or job.updated_at)
            rows.append(f"<tr><td>{at}</td><td>{escape(job.job_id)}</td>{_who(job)}"
                        f"<td>{escape(kind.value if kind else '-')}</td><td>{escape(reason)}</td></tr>")
        heads = ["at (UTC)", "job", "platform", "chat", "user", "error kind", "reason"]
        return _table("Last failures", heads, rows, "no failures")


def _usage(rows: Sequence[UsageRow]) -> str:
    lines = [f"<tr><td>{escape(r.day)}</td><td>{escape(r.platform)}</td><td>{escape(r.chat_id)}</td>"
             f"<td>{user_hash(r.platform, r.user_id)}</td><td>{r.jobs}</td><td>{r.points}</td>"
             f"<td>{r.failed}</td></tr>" for r in rows]
    return _table(f"Usage per user and chat per day (last {USAGE_DAYS} days, UTC)",
                  ["day", "platform", "chat", "user", "jobs", "points", "failed"], lines, "no usage yet")


def _who(job: Job) -> str:
    c = job.conversation
    return (f"<td>{escape(c.platform.value)}</td><td>{escape(c.chat_id)}</td>"
            f"<td>{user_hash(c.platform.value, c.user_id)}</td>")


def _excerpt(job: Job) -> str:
    prompt = " ".join(job.request.prompt.split())
    return escape(prompt if len(prompt) <= EXCERPT_CHARS else prompt[:EXCERPT_CHARS] + "…")


def _clock(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))


def _table(title: str, heads: list[str], rows: list[str], empty: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    body = "".join(rows) or f'<tr><td colspan="{len(heads)}" class="muted">{escape(empty)}</td></tr>'
    return f"<h2>{escape(title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
