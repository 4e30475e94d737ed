"""Telegram's flood limits as sliding windows: when may the next message go to a chat.

Telegram allows about 30 messages a second in all, one a second in a private chat and 20 a
minute in a group; past them it answers 429 with a time to wait. The sender asks `ready_at`
before each send instead of finding out the hard way.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    total: int = 30
    total_window: float = 1.0
    private: int = 1
    private_window: float = 1.0
    group: int = 20
    group_window: float = 60.0
    # A group's minute is not spent in its first seconds: at most this many messages in the
    # same share of the window (3 in 9 s). A burst of reports then finds the group with room
    # left, and what waits meanwhile is combined into one message instead of waiting a minute.
    group_burst: int = 3
    # Our clock and the server's differ by the request's travel time: keep a margin.
    margin: float = 0.1


class _Window:
    def __init__(self, count: int, length: float) -> None:
        self.count = count
        self.length = length
        self.times: deque[float] = deque()

    def ready_at(self, now: float) -> float:
        while self.times and now - self.times[0] >= self.length:
            self.times.popleft()
        if len(self.times) < self.count:
            return now
        return self.times[-self.count] + self.length

    def record(self, at: float) -> None:
        self.times.append(at)


class Pacer:
    """Tracks what was sent where, and when each chat may be written to next."""

    def __init__(self, limits: Limits, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self.monotonic = monotonic
        margin = 1.0 + limits.margin
        self._total = _Window(limits.total, limits.total_window * margin)
        self._chats: dict[int, list[_Window]] = {}
        self._held: dict[int, float] = {}

    def _chat(self, chat_id: int) -> list[_Window]:
        windows = self._chats.get(chat_id)
        if windows is None:
            limits, margin = self._limits, 1.0 + self._limits.margin
            if chat_id > 0:
                windows = [_Window(limits.private, limits.private_window * margin)]
            else:
                share = limits.group_window * limits.group_burst / limits.group
                windows = [
                    _Window(limits.group, limits.group_window * margin),
                    _Window(limits.group_burst, share * margin),
                ]
            self._chats[chat_id] = windows
        return windows

    def chat_ready_at(self, chat_id: int, now: float) -> float:
        """When the chat's own limit (or a 429's wait) allows the next message."""
        ready = max(window.ready_at(now) for window in self._chat(chat_id))
        return max(ready, self._held.get(chat_id, now))

    def total_ready_at(self, now: float) -> float:
        return self._total.ready_at(now)

    def sent(self, chat_id: int) -> None:
        """Count a message to the chat, at the moment it is handed to the network."""
        now = self.monotonic()
        for window in (*self._chat(chat_id), self._total):
            window.record(now)

    def landed(self, chat_id: int) -> None:
        """The chat's last message was answered: Telegram counted it at some moment up to now.
        Counting it from now keeps the next one a whole window after it however long the
        request travelled (one message per chat is in flight at a time)."""
        now = self.monotonic()
        for window in self._chat(chat_id):
            if window.times:
                window.times[-1] = max(window.times[-1], now)

    def refused(self, chat_id: int) -> None:
        """The last message counted for the chat was refused (429): it never went out, so it
        takes no place in the windows."""
        for window in (*self._chat(chat_id), self._total):
            if window.times:
                window.times.pop()

    def sent_earlier(self, chat_id: int, seconds_ago: float) -> None:
        """Count a message sent before this process started (the windows outlive a restart)."""
        at = self.monotonic() - seconds_ago
        for window in (*self._chat(chat_id), self._total):
            window.times.append(at)
            # Rows come in any order: keep each window sorted.
            if len(window.times) > 1 and window.times[-2] > at:
                window.times = deque(sorted(window.times))

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said to wait (429 retry_after): nothing goes to the chat until then."""
        self._held[chat_id] = self.monotonic() + seconds

    def backlog_allowance(self, chat_id: int) -> int:
        """How many more messages the chat's windows take right now (0 when at a limit)."""
        now = self.monotonic()
        room = []
        for window in self._chat(chat_id):
            window.ready_at(now)  # drops what has left the window
            room.append(max(window.count - len(window.times), 0))
        return min(room)
