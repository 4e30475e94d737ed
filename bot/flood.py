"""Flood control: how many reports one person may open in a while before the desk slows them.

Past the rate, what they send is still kept (attached to their latest ticket, or merged into
their draft) and they get one polite notice per window, not one per message. Kept in memory:
after a restart a flooder simply starts a fresh window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

MAX_KEYS = 10_000  # people remembered before the quiet ones are forgotten


class Verdict(Enum):
    ALLOW = "allow"
    NOTICE = "notice"  # over the rate: keep it, and say so this once
    QUIET = "quiet"  # over the rate, already told


@dataclass(frozen=True)
class FloodLimit:
    count: int = 5
    window: timedelta = timedelta(minutes=2)


class FloodGate:
    """Sliding-window counts per key (a person in a chat)."""

    def __init__(self, limit: FloodLimit = FloodLimit()) -> None:
        self._limit = limit
        self._seen: dict[object, deque[datetime]] = {}
        self._told: dict[object, datetime] = {}

    def check(self, key: object, now: datetime) -> Verdict:
        """Count one message of `key` at `now` and say whether it may open something new."""
        if len(self._seen) > MAX_KEYS:
            self._forget_quiet(now)
        seen = self._seen.setdefault(key, deque())
        while seen and now - seen[0] >= self._limit.window:
            seen.popleft()
        if len(seen) < self._limit.count:
            seen.append(now)
            self._told.pop(key, None)
            return Verdict.ALLOW
        told = self._told.get(key)
        if told is not None and now - told < self._limit.window:
            return Verdict.QUIET
        self._told[key] = now
        return Verdict.NOTICE

    def _forget_quiet(self, now: datetime) -> None:
        quiet = [
            k for k, seen in self._seen.items() if not seen or now - seen[-1] >= self._limit.window
        ]
        for key in quiet:
            del self._seen[key]
            self._told.pop(key, None)
