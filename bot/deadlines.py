"""When a ticket must be answered: 3 or 5 local days, or hours when urgent."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from nlp.classifier import Classification

# Used only when categories.toml gives no urgent_hours: the same day, as the seeds require.
FALLBACK_URGENT_HOURS = 4


def due_at(created: datetime, result: Classification, tz: ZoneInfo) -> datetime:
    """The reply deadline: the end of the Nth local day, or N hours for urgent matters."""
    if result.urgent:
        return created + timedelta(hours=result.deadline_hours or FALLBACK_URGENT_HOURS)
    local_day = created.astimezone(tz).date() + timedelta(days=result.deadline_days)
    return datetime.combine(local_day, time(23, 59, 59), tz).astimezone(created.tzinfo)
