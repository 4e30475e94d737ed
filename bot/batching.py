"""Group commit: writes that arrive while one is running go to the database together.

A burst (a storm, a power cut: a whole village group writing at once) would otherwise cost one
transaction, and a dozen statements, per ticket. Here the first write starts at once, so a lone
message waits for nothing; what arrives while it runs is written next, as one batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 200


class GroupCommit(Generic[T, R]):
    """Feeds `write` the requests that queued up while it ran; each caller gets its own result.

    `write` gets a batch and returns one result per request, in order, in one transaction. If a
    batch fails, its requests are retried one by one, so one bad request fails alone.
    `linger`: seconds the first write waits for company; for bookkeeping nobody waits on, where
    fewer transactions matter more than a few milliseconds.
    """

    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        max_batch: int = MAX_BATCH,
        linger: float = 0.0,
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._linger = linger
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, request: T) -> R:
        """Queue the request and wait until it is written (or failed)."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if self._worker is None:
            self._worker = asyncio.create_task(self._drain())
        # Shielded: a caller that gives up must not cancel the batch other callers wait on.
        return await asyncio.shield(future)

    @property
    def busy(self) -> bool:
        """Writes queued or running."""
        return self._worker is not None

    async def close(self) -> None:
        """Wait for whatever is queued to be written."""
        while self._worker is not None:
            await asyncio.shield(self._worker)

    async def _drain(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            if self._linger:
                await asyncio.sleep(self._linger)
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._run(batch)
        except BaseException:
            # Cancelled at shutdown: nobody may be left waiting for a write that never comes.
            for _, future in batch + self._pending:
                future.cancel()
            self._pending.clear()
            raise
        finally:
            self._worker = None

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._write([request for request, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            log.warning("a batch of %d writes failed (%s); one by one now", len(batch), exc)
            for item in batch:
                await self._run([item])
            return
        if len(results) != len(batch):
            error = RuntimeError(f"write returned {len(results)} results for {len(batch)}")
            for _, future in batch:
                _settle(future, error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _settle(future: asyncio.Future[R], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
