"""Handling stored updates: the Application's handlers run on each, fairly, until it is done.

Updates come from the inbox (new ones from the fetcher, or those a crash left behind). A
handler that acts claims its update in the same transaction (bot/delivery/inbox.py); one that
fails unexpectedly is tried again a few times, then the person is told and the update is
marked failed, so a poisoned update cannot block its conversation for ever.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import logging
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.delivery.inbox import Inbox
from bot.delivery.ordering import ConversationKey, FairQueue, conversation_key
from storage.queues import StoredUpdate

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 32
MAX_ATTEMPTS = 3
RETRY_DELAY = 0.5


@dataclass
class Attempt:
    """One run of the handlers on an update; the error handler notes an unexpected failure."""

    update_id: int
    number: int
    error: BaseException | None = None

    @property
    def last(self) -> bool:
        return self.number >= MAX_ATTEMPTS


current_attempt: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar(
    "current_attempt", default=None
)


class Dispatcher:
    """Runs stored updates through the Application, `concurrency` at a time."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        inbox: Inbox,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._app = app
        self._inbox = inbox
        self._concurrency = concurrency
        self._queue = FairQueue()
        self._known: set[int] = set()  # queued or running, so a redelivery is not queued twice
        self._parsed: dict[int, Update] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = False

    def add(self, updates: list[StoredUpdate], parsed: dict[int, Update] | None = None) -> None:
        """Queue stored updates for handling; `parsed`: the same updates as the fetcher already
        read them, which saves reading them again from the stored JSON."""
        self._parsed.update(parsed or {})
        for stored in updates:
            if stored.update_id in self._known:
                self._parsed.pop(stored.update_id, None)
                continue
            self._known.add(stored.update_id)
            self._queue.put(conversation_key(stored.payload), stored)
        self._pump()

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._running)

    async def stop(self, timeout: float) -> None:  # noqa: ASYNC109 - a shutdown budget
        """Start nothing new; give the running handlers `timeout` seconds. What is left stays
        pending in the inbox and is handled after the next start."""
        self._stopping = True
        if self._running:
            _, late = await asyncio.wait(self._running, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def _pump(self) -> None:
        while not self._stopping and len(self._running) < self._concurrency:
            taken = self._queue.take()
            if taken is None:
                break
            key, stored = taken
            task = asyncio.create_task(self._handle(key, stored))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _handle(self, key: ConversationKey, stored: StoredUpdate) -> None:
        try:
            await self._run(stored)
        except Exception:
            log.exception("update %s could not be handled", stored.update_id)
        finally:
            self._known.discard(stored.update_id)
            self._queue.done(key)
            asyncio.get_running_loop().call_soon(self._pump)

    async def _run(self, stored: StoredUpdate) -> None:
        update = self._parsed.pop(stored.update_id, None) or Update.de_json(
            _copy(stored.payload), self._app.bot
        )
        number = stored.attempts
        while True:
            number += 1
            attempt = Attempt(stored.update_id, number)
            token = current_attempt.set(attempt)
            try:
                await self._app.process_update(update)
            finally:
                current_attempt.reset(token)
            if attempt.error is None:
                await self._inbox.finish(stored.update_id)
                return
            if attempt.last:
                await self._inbox.finish(stored.update_id, failed=True)
                return
            await self._inbox.count_attempt(stored.update_id)
            if self._stopping:
                return  # tried again after the next start
            await asyncio.sleep(RETRY_DELAY * number)


def _copy(payload: dict[str, Any]) -> dict[str, Any]:
    # de_json may pop keys from the dict it is given; the stored payload stays whole.
    return copy.deepcopy(payload)
