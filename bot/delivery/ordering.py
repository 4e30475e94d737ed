"""Update processing: different chats at the same time, one chat's updates in their order.

Handled one after another, every update waits for the Telegram round trips of all before it
(and for the rate limiter's pauses on a busy group). In parallel but unordered, a resident's
"submit" could overtake the text it submits. So: a lock per conversation, concurrency across
them. In a private chat the conversation is the chat; in a group it is one member's messages
there, since residents of one village group report independent matters (and a burst in one
group is exactly when the desk must keep up).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

DEFAULT_CONCURRENCY = 64

ConversationKey = int | tuple[int, int]


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Runs updates of different chats concurrently and those of one chat in arrival order."""

    def __init__(self, max_concurrent_updates: int = DEFAULT_CONCURRENCY) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[ConversationKey, asyncio.Lock] = {}
        self._users: dict[ConversationKey, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = conversation_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            # asyncio.Lock wakes waiters first come, first served: the arrival order holds.
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def conversation_key(update: object) -> ConversationKey:
    """What must stay in order: a private chat, or one member in a group."""
    if isinstance(update, Update):
        chat, user = update.effective_chat, update.effective_user
        if chat is not None and user is not None and chat.type != chat.PRIVATE:
            return (chat.id, user.id)
        if chat is not None:
            return chat.id
        if user is not None:
            return user.id
    return 0
