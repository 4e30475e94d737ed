"""The inbox: every update is stored before Telegram is told it arrived, and handled until done.

The transaction that acts on an update claims it (marks it done), so an update redelivered by
Telegram, or handled again after a crash, is never acted on twice (`acting_on`). Updates whose
handlers change nothing are marked done after they ran (`finish`), in batches.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.batching import GroupCommit
from bot.clock import Clock
from bot.delivery.outbox import Outbox, Outgoing
from bot.dto import Origin
from bot.errors import AlreadyHandled
from storage import queues
from storage.db import after_commit
from storage.queues import StoredUpdate

# Telegram keeps an unconfirmed update for 24 hours; a handled one older than that never returns.
KEEP_HANDLED = timedelta(days=2)
# Marking updates done waits this long to mark more at once (nobody waits on it).
FINISH_LINGER = 0.05


class Inbox:
    """Stores updates, claims them for the transaction that acts on them, marks them done."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, outbox: Outbox
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._outbox = outbox
        self._claimed: set[int] = set()  # done by the transaction that acted on them
        self._finished: GroupCommit[tuple[int, str], None] = GroupCommit(
            self._write_finished, linger=FINISH_LINGER
        )

    async def store(self, updates: Sequence[tuple[int, dict[str, Any]]]) -> set[int]:
        """Keep these updates; returns the ids not seen before (the rest are redeliveries)."""
        async with self._sessions() as session, session.begin():
            return await queues.store_updates(session, updates, self._clock.now())

    async def pending(self) -> list[StoredUpdate]:
        """What is stored but not yet handled, oldest first."""
        async with self._sessions() as session:
            return await queues.pending_updates(session)

    @asynccontextmanager
    async def acting_on(self, origin: Origin | None) -> AsyncIterator[AsyncSession]:
        """A transaction that acts on the update; AlreadyHandled if an earlier one did."""
        async with self._sessions() as session, session.begin():
            if origin is not None and origin.update_id is not None:
                await self.claim(session, [origin.update_id])
            yield session

    async def claim(self, session: AsyncSession, update_ids: Sequence[int]) -> set[int]:
        """Claim updates inside the caller's transaction; raises if a single one was handled,
        returns the handled ones of several."""
        done = await queues.claim_updates(session, update_ids, self._clock.now())
        if done and len(update_ids) == 1:
            raise AlreadyHandled
        # Once committed, nothing is left to mark for these: `finish` need not write.
        after_commit(session, "claimed", set(update_ids) - done, self._claimed.update)
        return done

    async def reply(self, origin: Origin, *messages: Outgoing) -> None:
        """Answer an update that changes nothing else: the answer and the claim in one go."""
        async with self.acting_on(origin) as session:
            await self._outbox.put(session, messages)

    async def notify(self, *messages: Outgoing) -> None:
        """Send without claiming an update (telling a person their update failed for good)."""
        async with self._sessions() as session, session.begin():
            await self._outbox.put(session, messages)

    async def finish(self, update_id: int, failed: bool = False) -> None:
        """Mark an update done (or failed) after its handlers ran."""
        if update_id in self._claimed:
            self._claimed.discard(update_id)
            return
        await self._finished.submit((update_id, queues.FAILED if failed else queues.DONE))

    @property
    def busy(self) -> bool:
        """Done marks queued or being written."""
        return self._finished.busy

    async def count_attempt(self, update_id: int) -> None:
        async with self._sessions() as session, session.begin():
            await queues.count_attempt(session, update_id)

    async def prune(self) -> int:
        async with self._sessions() as session, session.begin():
            return await queues.prune_inbox(session, self._clock.now() - KEEP_HANDLED)

    async def close(self) -> None:
        await self._finished.close()

    async def _write_finished(self, items: Sequence[tuple[int, str]]) -> list[None]:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            for state in (queues.DONE, queues.FAILED):
                ids = [update_id for update_id, s in items if s == state]
                await queues.finish_updates(session, ids, state, now)
        return [None] * len(items)
