"""The delivery machinery of a running bot: fetcher → inbox → dispatcher, outbox → sender."""

from __future__ import annotations

import logging

from telegram.ext import Application

from bot.delivery.dispatch import Dispatcher
from bot.delivery.fetch import Fetcher
from bot.delivery.limits import Limits, Pacer
from bot.delivery.sender import Sender
from bot.desk import Desk

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
# SIGTERM must end the process within 10 s: most of it for handlers, the rest for sends.
STOP_BUDGET = 8.0


class Delivery:
    """Starts and stops the fetcher, the dispatcher and the sender together."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        desk: Desk,
        limits: Limits,
        poll_timeout: int,
    ) -> None:
        self._desk = desk
        self.sender = Sender(
            app.bot, desk.sessions, desk.clock, Pacer(limits), desk.messages, desk.tickets
        )
        desk.outbox.subscribe(self.sender.enqueue)
        self.dispatcher = Dispatcher(app, desk.inbox)
        self.fetcher = Fetcher(
            app.bot, desk.inbox, self.dispatcher.add, ALLOWED_UPDATES, poll_timeout
        )

    async def start(self) -> None:
        """Send what is left in the outbox, handle what is left in the inbox, then poll."""
        await self.sender.start()
        left = await self._desk.inbox.pending()
        if left:
            log.info("%d updates left from before; handling them first", len(left))
        self.dispatcher.add(left)
        pruned = await self._desk.inbox.prune()
        if pruned:
            log.info("forgot %d handled updates older than two days", pruned)
        self.fetcher.start()

    async def stop(self, budget: float = STOP_BUDGET) -> None:
        """Stop polling, let running handlers and sends finish within the budget; the rest
        stays in the inbox and the outbox for the next start."""
        await self.fetcher.stop()
        await self.dispatcher.stop(timeout=budget * 0.6)
        await self._desk.inbox.close()
        await self.sender.stop(timeout=budget * 0.3)

    def idle(self, last_update_id: int) -> bool:
        """Every update up to this id stored and handled, and every message sent."""
        return (
            self.fetcher.highest >= last_update_id
            and self.dispatcher.pending == 0
            and not self._desk.inbox.busy
            and self.sender.backlog == 0
            and not self.sender.busy
        )
