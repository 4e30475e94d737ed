"""Telegram's flood limits, as sliding windows over the sends the emulator performed.

Telegram documents roughly 30 messages per second overall, one message per second to the same
private chat, and 20 messages per minute to the same group; past them it answers
`429 Too Many Requests: retry after N` and does not perform the call.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# The calls that put a message on somebody's screen. Callback answers, polling, chat actions
# and settings do not count towards the flood windows.
COUNTED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendLocation",
        "sendMediaGroup",
        "sendDocument",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)


@dataclass(frozen=True)
class FloodLimits:
    """How many counted calls each sliding window allows (`sends` per `window` seconds)."""

    global_sends: int = 30
    global_window: float = 1.0
    private_sends: int = 1
    private_window: float = 1.0
    group_sends: int = 20
    group_window: float = 60.0
    methods: frozenset[str] = COUNTED_METHODS


class _Window:
    """The times of the sends still inside one sliding window."""

    def __init__(self, sends: int, seconds: float) -> None:
        self.sends = sends
        self.seconds = seconds
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more send fits (0 when it fits now)."""
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.sends:
            return 0.0
        # The send that has to leave the window before a new one fits.
        return self.times[len(self.times) - self.sends] + self.seconds - now

    def add(self, now: float) -> None:
        self.times.append(now)


class FloodGate:
    """Decides whether a counted call may go ahead; only performed calls enter the windows."""

    def __init__(self, limits: FloodLimits, monotonic: Callable[[], float]) -> None:
        self.limits = limits
        self._monotonic = monotonic
        self._global = _Window(limits.global_sends, limits.global_window)
        self._chats: dict[int, _Window] = {}

    def counts(self, method: str) -> bool:
        return method in self.limits.methods

    def _chat_window(self, chat_id: int, chat_type: str) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            if chat_type == "private":
                window = _Window(self.limits.private_sends, self.limits.private_window)
            else:
                # Groups, supergroups and channels share the per-minute limit.
                window = _Window(self.limits.group_sends, self.limits.group_window)
            self._chats[chat_id] = window
        return window

    def retry_after(self, chat_id: int | None, chat_type: str | None) -> int | None:
        """Whole seconds to wait (ceil, at least 1) if a send now would break a window."""
        now = self._monotonic()
        wait = self._global.wait(now)
        if chat_id is not None and chat_type is not None:
            wait = max(wait, self._chat_window(chat_id, chat_type).wait(now))
        if wait <= 0:
            return None
        return max(1, math.ceil(wait))

    def performed(self, chat_id: int | None, chat_type: str | None) -> None:
        now = self._monotonic()
        self._global.add(now)
        if chat_id is not None and chat_type is not None:
            self._chat_window(chat_id, chat_type).add(now)
