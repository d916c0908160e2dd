"""Dates and times as every document shows them: ``30 Nov 2026`` and
``30 Nov 2026, 14:05 GMT`` (local time, with its zone), never ISO."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def _local(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone()


def day(value: Any) -> str:
    """``30 Nov 2026``. A date (or an ISO date) as it is; a time (or an ISO time) in local
    time. Empty for None or ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value.day} {value:%b %Y}"
    local = _local(value)
    return f"{local.day} {local:%b %Y}"


def moment(value: Any) -> str:
    """``30 Nov 2026, 14:05 GMT``: local time with its zone. Empty for None or ""."""
    if value is None or value == "":
        return ""
    local = _local(value)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname() or ''}".rstrip()


def duration(seconds: Any) -> str:
    """How long something took: ``0.4 s``, ``5.3 s``, ``2 min 5 s``."""
    seconds = max(0.0, float(seconds or 0))
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"
