"""Group commit (bot/batching.py): who is written with whom, and what each caller gets back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.batching import GroupCommit


class Store:
    """A fake write: records each batch; can be held open, and refuses the word "bad"."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, batch: Sequence[str]) -> list[str]:
        self.batches.append(list(batch))
        await self.gate.wait()
        if "bad" in batch:
            raise ValueError("bad request")
        return [item.upper() for item in batch]


async def test_a_lone_request_is_written_at_once() -> None:
    store = Store()
    commit = GroupCommit(store.write)
    assert await asyncio.wait_for(commit.submit("a"), 1) == "A"
    assert store.batches == [["a"]]


async def test_requests_arriving_during_a_write_go_together_in_the_next() -> None:
    store = Store()
    commit = GroupCommit(store.write)
    store.gate.clear()
    first = asyncio.create_task(commit.submit("a"))
    await asyncio.sleep(0.01)
    assert store.batches == [["a"]], "the first write started without waiting"
    rest = [asyncio.create_task(commit.submit(x)) for x in ("b", "c", "d")]
    await asyncio.sleep(0.01)
    store.gate.set()
    assert await first == "A"
    assert [await task for task in rest] == ["B", "C", "D"]
    assert store.batches == [["a"], ["b", "c", "d"]]


async def test_a_failed_batch_is_retried_one_by_one_so_only_the_bad_request_fails() -> None:
    store = Store()
    commit = GroupCommit(store.write)
    store.gate.clear()
    first = asyncio.create_task(commit.submit("a"))
    await asyncio.sleep(0.01)
    tasks = [asyncio.create_task(commit.submit(x)) for x in ("b", "bad", "c")]
    await asyncio.sleep(0.01)
    store.gate.set()
    results = await asyncio.gather(first, *tasks, return_exceptions=True)
    assert results[:2] == ["A", "B"] and results[3] == "C"
    assert isinstance(results[2], ValueError)
    assert store.batches == [["a"], ["b", "bad", "c"], ["b"], ["bad"], ["c"]]


async def test_batches_are_capped() -> None:
    store = Store()
    commit = GroupCommit(store.write, max_batch=2)
    store.gate.clear()
    tasks = [asyncio.create_task(commit.submit(x)) for x in "abcde"]
    await asyncio.sleep(0.01)
    store.gate.set()
    assert await asyncio.gather(*tasks) == list("ABCDE")
    assert store.batches == [["a", "b"], ["c", "d"], ["e"]]


async def test_a_write_returning_the_wrong_number_of_results_fails_every_caller() -> None:
    async def short(batch: Sequence[str]) -> list[str]:
        return []

    commit: GroupCommit[str, str] = GroupCommit(short)
    with pytest.raises(RuntimeError, match="0 results for 1"):
        await commit.submit("a")


async def test_a_caller_giving_up_does_not_cancel_the_others_write() -> None:
    store = Store()
    commit = GroupCommit(store.write)
    store.gate.clear()
    impatient = asyncio.create_task(commit.submit("a"))
    patient = asyncio.create_task(commit.submit("b"))
    await asyncio.sleep(0.01)
    impatient.cancel()
    await asyncio.sleep(0.01)
    store.gate.set()
    assert await patient == "B"
    assert store.batches == [["a", "b"]], "the batch was written whole"
    with pytest.raises(asyncio.CancelledError):
        await impatient


async def test_close_waits_for_queued_writes() -> None:
    store = Store()
    commit = GroupCommit(store.write)
    store.gate.clear()
    tasks = [asyncio.create_task(commit.submit(x)) for x in "ab"]
    await asyncio.sleep(0.01)
    closing = asyncio.create_task(commit.close())
    await asyncio.sleep(0.01)
    assert not closing.done()
    store.gate.set()
    await asyncio.wait_for(closing, 1)
    assert all(task.done() for task in tasks)
    await commit.close()  # nothing queued: returns at once


async def test_a_cancelled_writer_leaves_nobody_waiting() -> None:
    store = Store()
    commit = GroupCommit(store.write)
    store.gate.clear()
    first = asyncio.create_task(commit.submit("a"))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(commit.submit("b"))
    await asyncio.sleep(0.01)
    worker = commit._worker
    assert worker is not None
    worker.cancel()
    for task in (first, second):
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 1)
