"""Queries over the desk's tables; the only place that speaks SQL. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Base,
    Draft,
    OutboxMessage,
    PendingInput,
    Place,
    Rating,
    Resident,
    Staff,
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
    result = await session.scalars(
        _upsert_residents(session).returning(Resident),
        [_resident_row(telegram_id, display_name, None, now)],
        execution_options={"populate_existing": True},
    )
    resident: Resident = result.one()
    return resident


async def upsert_residents(
    session: AsyncSession, people: Iterable[tuple[int, str, str | None]], now: datetime
) -> dict[int, int]:
    """Many residents (telegram id, name, village) in one statement: telegram id → resident id.

    The village is recorded only for a resident who has none yet.
    """
    # One row per person: PostgreSQL refuses to update the same row twice in one statement.
    rows = {tid: _resident_row(tid, name, place, now) for tid, name, place in people}
    if not rows:
        return {}  # an INSERT of no rows is not valid SQL
    result = await session.execute(
        _upsert_residents(session).returning(Resident.telegram_id, Resident.id),
        list(rows.values()),
    )
    return {telegram_id: resident_id for telegram_id, resident_id in result.all()}


def _resident_row(
    telegram_id: int, display_name: str, place_id: str | None, now: datetime
) -> dict[str, Any]:
    return {
        "telegram_id": telegram_id,
        "display_name": display_name,
        "place_id": place_id,
        "created_at": now,
        "updated_at": now,
    }


def _upsert_residents(session: AsyncSession) -> Any:
    # Parameters come at execution (executemany): one compiled statement for any batch size.
    stmt = insert_for(session)(Resident)
    return stmt.on_conflict_do_update(
        index_elements=[Resident.telegram_id],
        set_={
            "display_name": stmt.excluded.display_name,
            "place_id": func.coalesce(Resident.place_id, stmt.excluded.place_id),
        },
    )


async def get_draft(session: AsyncSession, resident_id: int) -> Draft | None:
    result = await session.execute(select(Draft).where(Draft.resident_id == resident_id))
    return result.scalar_one_or_none()


async def delete_draft(session: AsyncSession, draft: Draft) -> None:
    await session.delete(draft)
    await session.flush()


async def next_ticket_seq(session: AsyncSession, year: int, count: int = 1) -> int:
    """Atomically reserve the next `count` numbers of the year; returns the last of them.

    Safe across several bot processes: the row is locked until the caller's transaction ends.
    """
    insert = insert_for(session)
    stmt = (
        insert(TicketCounter)
        .values(year=year, last=count)
        .on_conflict_do_update(
            index_elements=[TicketCounter.year], set_={"last": TicketCounter.last + count}
        )
        .returning(TicketCounter.last)
    )
    result = await session.execute(stmt)
    return int(result.scalar_one())


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def insert_for(session: AsyncSession) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (both SQLite and PostgreSQL speak it)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def insert_tickets(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert many tickets in one statement; their ids, in the order of `rows`."""
    # executemany with RETURNING: SQLAlchemy sends it as multi-row INSERTs ("insertmanyvalues")
    # from one cached compiled statement. The order of returned rows is not promised, so ids
    # are matched back through the unique number.
    result = await session.execute(insert(Ticket).returning(Ticket.number, Ticket.id), list(rows))
    ids = {number: ticket_id for number, ticket_id in result.all()}
    return [ids[row["number"]] for row in rows]


async def insert_rows(
    session: AsyncSession, model: type[TicketEvent] | type[TicketMessage], rows: Sequence[Any]
) -> None:
    """Many timeline events or messages in one executemany, no objects kept in the session."""
    if rows:
        # Core, not the ORM's bulk insert: nothing is loaded back, and it costs half the CPU.
        await session.execute(insert(_table(model)), list(rows))


async def add_message(session: AsyncSession, message: TicketMessage) -> None:
    session.add(message)


async def ticket_by_number(session: AsyncSession, number: str) -> Ticket | None:
    result = await session.execute(select(Ticket).where(Ticket.number == number))
    return result.scalar_one_or_none()


async def set_cards(session: AsyncSession, cards: Sequence[tuple[int, int, int]]) -> None:
    """Remember where tickets' cards are (ticket id, chat, message), without loading them."""
    table = _table(Ticket)
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("ticket"))
        .values(admin_chat_id=bindparam("chat"), admin_message_id=bindparam("message")),
        [{"ticket": t, "chat": chat, "message": msg} for t, chat, msg in cards],
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


async def latest_ticket_from(
    session: AsyncSession, resident_id: int, chat_id: int
) -> Ticket | None:
    """The resident's newest ticket opened from this chat."""
    result = await session.execute(
        select(Ticket)
        .where(Ticket.resident_id == resident_id, Ticket.source_chat_id == chat_id)
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def tickets_from_messages(
    session: AsyncSession, chat_id: int, message_ids: Sequence[int]
) -> Sequence[Ticket]:
    """Tickets already opened from these messages of a chat."""
    if not message_ids:
        return []
    result = await session.execute(
        select(Ticket).where(
            Ticket.source_chat_id == chat_id, Ticket.source_message_id.in_(message_ids)
        )
    )
    return result.scalars().all()


# --- the cadres' desk ----------------------------------------------------------------------------


async def move_ticket(
    session: AsyncSession, ticket_id: int, version: int, values: dict[str, Any]
) -> bool:
    """Compare-and-set: change the ticket only if nobody moved it since `version` was read.
    False when somebody did (the caller re-reads and tells who)."""
    result = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.version == version)
        .values(version=version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return cast(int, getattr(result, "rowcount", 0)) == 1


async def fresh_ticket(session: AsyncSession, ticket_id: int) -> Ticket | None:
    """The ticket as the database has it now, not as this session last saw it."""
    return await session.get(Ticket, ticket_id, populate_existing=True)


async def people_of(session: AsyncSession, ticket: Ticket) -> list[tuple[int, bool]]:
    """Who hears about the ticket: (telegram id, is the reporter), the reporter first."""
    supporters = select(TicketSupporter.resident_id).where(TicketSupporter.ticket_id == ticket.id)
    result = await session.execute(
        select(Resident.id, Resident.telegram_id).where(
            (Resident.id == ticket.resident_id) | Resident.id.in_(supporters)
        )
    )
    rows = sorted(result.all(), key=lambda row: row[0] != ticket.resident_id)
    return [(telegram_id, rid == ticket.resident_id) for rid, telegram_id in rows]


async def sent_about(
    session: AsyncSession, chat_id: int, message_id: int
) -> tuple[int, str] | None:
    """The ticket (and why) of a message the bot sent into the chat, if it was about one."""
    result = await session.execute(
        select(OutboxMessage.ticket_id, OutboxMessage.purpose)
        .where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.sent_message_id == message_id,
            OutboxMessage.ticket_id.is_not(None),
        )
        .limit(1)
    )
    row = result.first()
    return (int(row[0] or 0), str(row[1])) if row is not None else None


async def pending_input(
    session: AsyncSession, chat_id: int, telegram_id: int
) -> PendingInput | None:
    return await session.get(PendingInput, (chat_id, telegram_id))


async def set_pending_input(session: AsyncSession, pending: PendingInput) -> None:
    await session.merge(pending)


async def drop_pending_input(session: AsyncSession, chat_id: int, telegram_id: int) -> None:
    found = await session.get(PendingInput, (chat_id, telegram_id))
    if found is not None:
        await session.delete(found)


async def rating_of(
    session: AsyncSession, ticket_id: int, answer: int, telegram_id: int
) -> Rating | None:
    result = await session.execute(
        select(Rating).where(
            Rating.ticket_id == ticket_id,
            Rating.answer == answer,
            Rating.resident_telegram_id == telegram_id,
        )
    )
    return result.scalar_one_or_none()


async def latest_rating_of(
    session: AsyncSession, ticket_id: int, telegram_id: int
) -> Rating | None:
    result = await session.execute(
        select(Rating)
        .where(Rating.ticket_id == ticket_id, Rating.resident_telegram_id == telegram_id)
        .order_by(Rating.answer.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def tickets_where(
    session: AsyncSession,
    *,
    statuses: Sequence[str],
    admin_chat_id: int | None = None,
    place_ids: Sequence[str] | None = None,
    handler: int | None = None,
    due_before: datetime | None = None,
    words: Sequence[str] = (),
    number: str | None = None,
    limit: int = 30,
) -> tuple[Sequence[Ticket], int]:
    """Tickets for the cadres' lists, most pressing first (earliest deadline), and how many
    matched in all."""
    conditions: list[Any] = [Ticket.status.in_(statuses)]
    if admin_chat_id is not None:
        conditions.append(Ticket.admin_chat_id == admin_chat_id)
    if place_ids is not None:
        conditions.append(Ticket.place_id.in_(place_ids))
    if handler is not None:
        conditions.append(Ticket.handler_telegram_id == handler)
    if due_before is not None:
        conditions.append(Ticket.due_at < due_before)
    for word in words:
        conditions.append(Ticket.text.contains(word, autoescape=True))
    if number is not None:
        conditions.append(Ticket.number == number)
    total = await session.scalar(select(func.count()).select_from(Ticket).where(*conditions))
    result = await session.execute(
        select(Ticket).where(*conditions).order_by(Ticket.due_at, Ticket.id).limit(limit)
    )
    return result.scalars().all(), int(total or 0)


async def staff_in(session: AsyncSession, place_ids: Sequence[str]) -> Sequence[Staff]:
    """Active staff whose jurisdiction is one of these places."""
    result = await session.execute(
        select(Staff)
        .where(Staff.place_id.in_(place_ids), Staff.active.is_(True))
        .order_by(Staff.id)
    )
    return result.scalars().all()


async def prompts_with_buttons(session: AsyncSession, chat_id: int, ticket_id: int) -> list[int]:
    """Messages the desk sent into the chat asking for a ticket's words, buttons still on."""
    result = await session.execute(
        select(OutboxMessage.sent_message_id, OutboxMessage.payload).where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.ticket_id == ticket_id,
            OutboxMessage.purpose == "prompt",
            OutboxMessage.method == "send_message",
            OutboxMessage.sent_message_id.is_not(None),
        )
    )
    return [int(mid) for mid, payload in result.all() if mid and "reply_markup" in payload]


async def open_tickets_of(
    session: AsyncSession, resident_id: int, statuses: Sequence[str], limit: int
) -> Sequence[Ticket]:
    """The resident's own tickets still being handled, newest first."""
    result = await session.execute(
        select(Ticket)
        .where(Ticket.resident_id == resident_id, Ticket.status.in_(statuses))
        .order_by(Ticket.id.desc())
        .limit(limit)
    )
    return result.scalars().all()
