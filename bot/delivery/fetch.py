"""Long polling: updates are stored in the inbox before Telegram is told they arrived.

Telegram forgets an update only when a later getUpdates names a higher offset; this loop asks
for that offset only after the batch is committed to the inbox. A crash in between means
Telegram sends the batch again, and the inbox recognises what it already holds. A webhook
endpoint would do the same: store, then answer 200.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError

from bot.delivery.inbox import Inbox
from storage.queues import StoredUpdate

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0


class Fetcher:
    """Polls getUpdates, stores each batch, hands the new updates to `deliver`."""

    def __init__(
        self,
        bot: Bot,
        inbox: Inbox,
        deliver: Callable[[list[StoredUpdate], dict[int, Update]], None],
        allowed_updates: list[str],
        timeout: int = 30,
    ) -> None:
        self._bot = bot
        self._inbox = inbox
        self._deliver = deliver
        self._allowed = allowed_updates
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self.highest = 0  # the newest update id stored (or recognised as stored)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="update fetcher")

    async def stop(self) -> None:
        """Stop polling. An answer in flight is dropped unconfirmed: Telegram sends it again."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        offset = 0  # unconfirmed updates come first: what a crash left with Telegram
        failures = 0
        while True:
            try:
                updates = await self._bot.get_updates(
                    offset=offset,
                    timeout=self._timeout,
                    allowed_updates=self._allowed,
                    read_timeout=self._timeout + 10,
                )
                failures = 0
            except InvalidToken:
                log.error("Telegram refuses the bot token; stopped fetching updates")
                raise
            except (NetworkError, Conflict, TelegramError) as exc:
                failures += 1
                delay = min(2.0**failures, MAX_BACKOFF)
                log.warning("getUpdates failed (%s); again in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                continue
            if not updates:
                continue
            batch = [(u.update_id, u.to_dict()) for u in updates]
            try:
                new = await self._inbox.store(batch)
            except Exception:
                # Not confirmed to Telegram: the same batch comes again.
                log.exception("could not store %d updates; fetching them again", len(batch))
                await asyncio.sleep(1.0)
                continue
            self._deliver(
                [StoredUpdate(uid, payload, 0) for uid, payload in batch if uid in new],
                {u.update_id: u for u in updates if u.update_id in new},
            )
            # A redelivered older update must not move either back.
            self.highest = max(self.highest, *(uid for uid, _ in batch))
            offset = max(offset, self.highest + 1)
