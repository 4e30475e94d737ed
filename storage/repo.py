"""Queries over the desk's tables; the only place that speaks SQL. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Draft,
    Place,
    Resident,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketMessage,
    TicketSupporter,
)


async def sync_places(session: AsyncSession, places: Iterable[Place]) -> None:
    """Make the places table mirror the configured tree (insert or update by id)."""
    for place in places:
        await session.merge(place)


async def get_resident(session: AsyncSession, telegram_id: int) -> Resident | None:
    result = await session.execute(select(Resident).where(Resident.telegram_id == telegram_id))
    return result.scalar_one_or_none()


async def upsert_resident(
    session: AsyncSession, telegram_id: int, display_name: str, now: datetime
) -> Resident:
    """The resident with this Telegram id, created on first contact, name kept current.

    One INSERT ... ON CONFLICT statement, so two updates of the same person handled at the
    same time cannot both try to create them.
    """
    insert = _insert_for(session)
    stmt = (
        insert(Resident)
        .values(telegram_id=telegram_id, display_name=display_name, created_at=now, updated_at=now)
        .on_conflict_do_update(
            index_elements=[Resident.telegram_id], set_={"display_name": display_name}
        )
        .returning(Resident)
    )
    result = await session.scalars(stmt, execution_options={"populate_existing": True})
    resident: Resident = result.one()
    return resident


async def get_draft(session: AsyncSession, resident_id: int) -> Draft | None:
    result = await session.execute(select(Draft).where(Draft.resident_id == resident_id))
    return result.scalar_one_or_none()


async def delete_draft(session: AsyncSession, draft: Draft) -> None:
    await session.delete(draft)
    await session.flush()


async def next_ticket_seq(session: AsyncSession, year: int) -> int:
    """Atomically hand out the next number of the year, safe across several bot processes."""
    insert = _insert_for(session)
    stmt = (
        insert(TicketCounter)
        .values(year=year, last=1)
        .on_conflict_do_update(
            index_elements=[TicketCounter.year], set_={"last": TicketCounter.last + 1}
        )
        .returning(TicketCounter.last)
    )
    result = await session.execute(stmt)
    return int(result.scalar_one())


def _insert_for(session: AsyncSession) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (both SQLite and PostgreSQL speak it)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def add_ticket(session: AsyncSession, ticket: Ticket) -> Ticket:
    session.add(ticket)
    await session.flush()
    return ticket


async def add_event(
    session: AsyncSession,
    ticket_id: int,
    at: datetime,
    actor: str,
    action: str,
    detail: dict[str, Any] | None = None,
    actor_telegram_id: int | None = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket_id,
        at=at,
        actor=actor,
        action=action,
        detail=detail or {},
        actor_telegram_id=actor_telegram_id,
    )
    session.add(event)
    return event


async def add_message(session: AsyncSession, message: TicketMessage) -> None:
    session.add(message)


async def ticket_by_number(session: AsyncSession, number: str) -> Ticket | None:
    result = await session.execute(select(Ticket).where(Ticket.number == number))
    return result.scalar_one_or_none()


async def set_card(session: AsyncSession, ticket_id: int, chat_id: int, message_id: int) -> None:
    """Remember where a ticket's card is, without loading the ticket."""
    await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(admin_chat_id=chat_id, admin_message_id=message_id)
    )


async def ticket_by_id(session: AsyncSession, ticket_id: int) -> Ticket | None:
    return await session.get(Ticket, ticket_id)


def _involves(resident_id: int) -> Any:
    """Tickets the resident opened or joined as a supporter."""
    joined = select(TicketSupporter.ticket_id).where(TicketSupporter.resident_id == resident_id)
    return (Ticket.resident_id == resident_id) | Ticket.id.in_(joined)


async def tickets_of_resident(
    session: AsyncSession, resident_id: int, limit: int
) -> Sequence[Ticket]:
    """The resident's own tickets and those they joined as a supporter, newest first."""
    result = await session.execute(
        select(Ticket).where(_involves(resident_id)).order_by(Ticket.id.desc()).limit(limit)
    )
    return result.scalars().all()


async def involved_ticket_ids(
    session: AsyncSession, resident_id: int, ticket_ids: Sequence[int]
) -> set[int]:
    """Which of these tickets the resident opened or joined."""
    if not ticket_ids:
        return set()
    result = await session.execute(
        select(Ticket.id).where(Ticket.id.in_(ticket_ids), _involves(resident_id))
    )
    return set(result.scalars().all())


async def events_of(session: AsyncSession, ticket_id: int) -> Sequence[TicketEvent]:
    result = await session.execute(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    )
    return result.scalars().all()


async def list_tickets(
    session: AsyncSession, since: datetime | None = None, status: str | None = None
) -> Sequence[Ticket]:
    query = select(Ticket).order_by(Ticket.id)
    if since is not None:
        query = query.where(Ticket.created_at >= since)
    if status is not None:
        query = query.where(Ticket.status == status)
    result = await session.execute(query)
    return result.scalars().all()


async def supporter_counts(session: AsyncSession, ticket_ids: Sequence[int]) -> dict[int, int]:
    if not ticket_ids:
        return {}
    result = await session.execute(
        select(TicketSupporter.ticket_id, func.count())
        .where(TicketSupporter.ticket_id.in_(ticket_ids))
        .group_by(TicketSupporter.ticket_id)
    )
    return {ticket_id: count for ticket_id, count in result.all()}


async def resident_names(session: AsyncSession, resident_ids: Sequence[int]) -> dict[int, str]:
    if not resident_ids:
        return {}
    result = await session.execute(
        select(Resident.id, Resident.display_name).where(Resident.id.in_(resident_ids))
    )
    return {rid: name for rid, name in result.all()}


async def tickets_by_ids(session: AsyncSession, ticket_ids: Sequence[int]) -> Sequence[Ticket]:
    if not ticket_ids:
        return []
    result = await session.execute(select(Ticket).where(Ticket.id.in_(ticket_ids)))
    return result.scalars().all()


async def active_tickets_after(
    session: AsyncSession, after_id: int, since: datetime, statuses: Sequence[str]
) -> Sequence[Ticket]:
    """Tickets newer than `after_id`, still in one of `statuses`, created since `since`."""
    result = await session.execute(
        select(Ticket)
        .where(Ticket.id > after_id, Ticket.created_at >= since, Ticket.status.in_(statuses))
        .order_by(Ticket.id)
    )
    return result.scalars().all()


async def add_supporter(
    session: AsyncSession, ticket_id: int, resident_id: int, at: datetime
) -> bool:
    """Add the resident as a supporter; False if they already were one."""
    exists = await session.execute(
        select(TicketSupporter.id).where(
            TicketSupporter.ticket_id == ticket_id, TicketSupporter.resident_id == resident_id
        )
    )
    if exists.first() is not None:
        return False
    session.add(TicketSupporter(ticket_id=ticket_id, resident_id=resident_id, at=at))
    await session.flush()
    return True
