"""When a ticket must be answered: 3 or 5 local days, or hours when urgent."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from nlp.classifier import Classification

# Used only when categories.toml gives no urgent_hours: the same day, as the seeds require.
FALLBACK_URGENT_HOURS = 4


def due_at(created: datetime, result: Classification, tz: ZoneInfo) -> datetime:
    """The reply deadline: the end of the Nth local day, or N hours for urgent matters."""
    return due_in(created, tz, result.deadline_days, result.deadline_hours if result.urgent else 0)


def due_in(start: datetime, tz: ZoneInfo, days: int, urgent_hours: int | None) -> datetime:
    """`urgent_hours` from `start` when it is not 0 (None: the fallback), else the end of
    the `days`th local day."""
    if urgent_hours != 0:
        return start + timedelta(hours=urgent_hours or FALLBACK_URGENT_HOURS)
    local_day = start.astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(local_day, time(23, 59, 59), tz).astimezone(start.tzinfo)
