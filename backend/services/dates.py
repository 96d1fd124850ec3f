"""The one date helper: what day it is for a patient, in their own timezone."""

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_known_timezone(name: str) -> bool:
    return name in known_timezones()


def now_utc() -> datetime:
    return datetime.now(UTC)


def today_in(timezone: str, now: datetime | None = None) -> date:
    """The calendar date in `timezone` at `now` (default: this instant)."""
    return (now or now_utc()).astimezone(ZoneInfo(timezone)).date()
