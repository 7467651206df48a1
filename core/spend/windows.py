"""Budget periods: the current day and month in the operator's UTC offset, and when they reset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone


@dataclass(frozen=True, slots=True)
class Period:
    start: float  # epoch seconds
    end: float  # the reset moment

    def reset_label(self, offset_hours: int) -> str:
        """``2026-12-07 00:00 UTC+8``: what a user reads under "resets at"."""
        tz = timezone(timedelta(hours=offset_hours))
        stamp = datetime.fromtimestamp(self.end, tz).strftime("%Y-%m-%d %H:%M")
        sign = "+" if offset_hours >= 0 else "-"
        return f"{stamp} UTC{sign}{abs(offset_hours)}" if offset_hours else f"{stamp} UTC"


def day(now: float, offset_hours: int) -> Period:
    # A fixed offset has no daylight saving: every local day is 86,400 s (checked at every spend check)
    shift = offset_hours * 3600
    start = (now + shift) // 86_400 * 86_400 - shift
    return Period(start, start + 86_400)


def month(now: float, offset_hours: int) -> Period:
    tz = timezone(timedelta(hours=offset_hours))
    local = datetime.fromtimestamp(now, tz)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return Period(start.timestamp(), following.timestamp())


def utc_date(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
