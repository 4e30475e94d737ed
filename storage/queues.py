"""The inbox (updates in) and the outbox (messages out): the queries over both tables.

Callers own the transaction, as in `storage.repo`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxUpdate, OutboxMessage
from storage.repo import insert_for

PENDING, DONE, FAILED = "pending", "done", "failed"
_OUTBOX = cast(Table, OutboxMessage.__table__)
SENT, SUPERSEDED = "sent", "superseded"


@dataclass(frozen=True)
class StoredUpdate:
    """An inbox row as the dispatcher needs it."""

    update_id: int
    payload: dict[str, Any]
    attempts: int


# --- inbox ---------------------------------------------------------------------------------------


async def store_updates(
    session: AsyncSession, updates: Sequence[tuple[int, dict[str, Any]]], now: datetime
) -> set[int]:
    """Insert updates not seen before; returns the ids that are new."""
    if not updates:
        return set()
    stmt = insert_for(session)(InboxUpdate).on_conflict_do_nothing(
        index_elements=[InboxUpdate.update_id]
    )
    result = await session.execute(
        stmt.returning(InboxUpdate.update_id),
        [
            {
                "update_id": update_id,
                "payload": payload,
                "received_at": now,
                "state": PENDING,
                "attempts": 0,
            }
            for update_id, payload in updates
        ],
    )
    return set(result.scalars().all())


async def pending_updates(session: AsyncSession, limit: int = 10_000) -> list[StoredUpdate]:
    """Updates not handled yet, oldest first (after a restart: what a crash left behind)."""
    result = await session.execute(
        select(InboxUpdate.update_id, InboxUpdate.payload, InboxUpdate.attempts)
        .where(InboxUpdate.state == PENDING)
        .order_by(InboxUpdate.update_id)
        .limit(limit)
    )
    return [StoredUpdate(u, p, a) for u, p, a in result.all()]


async def claim_updates(
    session: AsyncSession, update_ids: Iterable[int], now: datetime
) -> set[int]:
    """Mark updates done inside the transaction that acts on them.

    Returns the ids that were already done (or failed): their effects happened before, so the
    caller must not act again. Ids the inbox does not hold are not guarded and count as claimed.
    """
    ids = set(update_ids)
    if not ids:
        return set()
    result = await session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.update_id.in_(ids), InboxUpdate.state == PENDING)
        .values(state=DONE, done_at=now)
        .returning(InboxUpdate.update_id)
    )
    claimed = set(result.scalars().all())
    if len(claimed) == len(ids):
        return set()
    rest = await session.execute(
        select(InboxUpdate.update_id).where(InboxUpdate.update_id.in_(ids - claimed))
    )
    return set(rest.scalars().all())


async def finish_updates(
    session: AsyncSession, update_ids: Sequence[int], state: str, now: datetime
) -> None:
    """Mark updates done or failed, unless a handler's transaction already did."""
    if update_ids:
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(update_ids), InboxUpdate.state == PENDING)
            .values(state=state, done_at=now)
        )


async def count_attempt(session: AsyncSession, update_id: int) -> None:
    await session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.update_id == update_id)
        .values(attempts=InboxUpdate.attempts + 1)
    )


async def prune_inbox(session: AsyncSession, before: datetime) -> int:
    """Forget handled updates older than `before`; Telegram never redelivers those."""
    result = await session.execute(
        delete(InboxUpdate).where(InboxUpdate.state != PENDING, InboxUpdate.done_at < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- outbox --------------------------------------------------------------------------------------


async def add_messages(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert outbox rows in one statement; their ids in the order of `rows`."""
    if not rows:
        return []
    tokens = [uuid.uuid4().hex for _ in rows]
    result = await session.execute(
        insert(cast(Table, OutboxMessage.__table__)).returning(
            OutboxMessage.token, OutboxMessage.id
        ),
        [{**row, "token": token} for row, token in zip(rows, tokens, strict=True)],
    )
    ids = {token: row_id for token, row_id in result.all()}
    return [ids[token] for token in tokens]


async def pending_messages(session: AsyncSession) -> Sequence[OutboxMessage]:
    """Messages not yet sent, oldest first."""
    result = await session.execute(
        select(OutboxMessage).where(OutboxMessage.state == PENDING).order_by(OutboxMessage.id)
    )
    return result.scalars().all()


async def settle_messages(session: AsyncSession, outcomes: Sequence[dict[str, Any]]) -> None:
    """Record what became of messages: each dict has id, state and the fields to set."""
    if outcomes:
        fields: dict[str, Any] = {key: bindparam(key) for key in outcomes[0] if key != "id"}
        await session.execute(
            update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row")).values(fields),
            [{**{k: v for k, v in o.items() if k != "id"}, "row": o["id"]} for o in outcomes],
        )


async def sent_message_id(session: AsyncSession, outbox_id: int) -> int | None:
    result = await session.execute(
        select(OutboxMessage.sent_message_id).where(OutboxMessage.id == outbox_id)
    )
    return result.scalar_one_or_none()


async def messages_of_ticket(session: AsyncSession, ticket_id: int) -> Sequence[OutboxMessage]:
    result = await session.execute(
        select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id).order_by(OutboxMessage.id)
    )
    return result.scalars().all()


async def counts(session: AsyncSession) -> dict[str, dict[str, int]]:
    """How many inbox and outbox rows are in each state (for operators)."""
    found: dict[str, dict[str, int]] = {}
    for name, model in (("inbox", InboxUpdate), ("outbox", OutboxMessage)):
        result = await session.execute(select(model.state, func.count()).group_by(model.state))
        found[name] = {state: int(n) for state, n in result.all()}
    return found


async def recent_sends(session: AsyncSession, since: datetime) -> list[tuple[int, datetime]]:
    """(chat, when) of the messages sent since `since`, for the flood limits after a restart."""
    # Rows combined into one message share its id: count the message once.
    result = await session.execute(
        select(OutboxMessage.chat_id, func.max(OutboxMessage.sent_at))
        .where(OutboxMessage.state == SENT, OutboxMessage.sent_at >= since)
        .group_by(OutboxMessage.chat_id, OutboxMessage.sent_message_id)
    )
    return [(chat_id, sent_at) for chat_id, sent_at in result.all() if sent_at is not None]
