"""Queries about people and chats: staff, one-time codes, chat bindings, bans, the audit trail
and kept messages. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditEvent,
    Ban,
    ChatBinding,
    KeptMessage,
    OneTimeCode,
    Resident,
    Staff,
    Ticket,
)

# --- staff ----------------------------------------------------------------------------------


async def get_staff(session: AsyncSession, telegram_id: int) -> Staff | None:
    """The staff row of a person, active or not."""
    result = await session.execute(select(Staff).where(Staff.telegram_id == telegram_id))
    return result.scalar_one_or_none()


async def active_staff(session: AsyncSession, telegram_id: int) -> Staff | None:
    result = await session.execute(
        select(Staff).where(Staff.telegram_id == telegram_id, Staff.active.is_(True))
    )
    return result.scalar_one_or_none()


async def put_staff(
    session: AsyncSession,
    telegram_id: int,
    display_name: str,
    role: str,
    place_id: str,
    now: datetime,
) -> Staff:
    """Make the person active staff with this role and place (a former member comes back)."""
    staff = await get_staff(session, telegram_id)
    if staff is None:
        staff = Staff(telegram_id=telegram_id, created_at=now)
        session.add(staff)
    elif not staff.active:
        staff.created_at = now  # "since" counts from the latest appointment
    staff.display_name = display_name or staff.display_name or ""
    staff.role, staff.place_id, staff.active, staff.updated_at = role, place_id, True, now
    await session.flush()
    return staff


async def deactivate_staff(session: AsyncSession, telegram_id: int, now: datetime) -> bool:
    """False when the person was not active staff."""
    result = await session.execute(
        update(Staff)
        .where(Staff.telegram_id == telegram_id, Staff.active.is_(True))
        .values(active=False, updated_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def list_staff(session: AsyncSession) -> Sequence[Staff]:
    """Active staff, by place then role then when they joined."""
    result = await session.execute(
        select(Staff)
        .where(Staff.active.is_(True))
        .order_by(Staff.place_id, Staff.role, Staff.created_at, Staff.id)
    )
    return result.scalars().all()


# --- one-time codes -------------------------------------------------------------------------


async def add_code(session: AsyncSession, code: OneTimeCode) -> None:
    session.add(code)
    await session.flush()


async def spend_code(
    session: AsyncSession, code: str, purposes: Iterable[str], used_by: int, now: datetime
) -> OneTimeCode | None:
    """Mark an unspent, unexpired code of one of `purposes` spent and return it; None for an
    unknown, spent or expired one. A compare-and-set, so two uses at once cannot both win."""
    wanted = list(purposes)
    result = await session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.code == code,
            OneTimeCode.purpose.in_(wanted),
            OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > now,
        )
        .values(used_by=used_by, used_at=now)
    )
    if not getattr(result, "rowcount", 0):
        return None
    return await session.get(OneTimeCode, code, populate_existing=True)


# --- chat bindings --------------------------------------------------------------------------


async def chat_bindings(session: AsyncSession) -> Sequence[ChatBinding]:
    result = await session.execute(select(ChatBinding).order_by(ChatBinding.at))
    return result.scalars().all()


async def bind_chat(
    session: AsyncSession, place_id: str, purpose: str, chat_id: int, now: datetime
) -> None:
    """Link the chat to the place for `purpose`, replacing the place's earlier chat."""
    await session.execute(
        delete(ChatBinding).where(
            (ChatBinding.chat_id == chat_id)
            | ((ChatBinding.place_id == place_id) & (ChatBinding.purpose == purpose))
        )
    )
    session.add(ChatBinding(place_id=place_id, purpose=purpose, chat_id=chat_id, at=now))
    await session.flush()


# --- bans and what banned people wrote ----------------------------------------------------


async def put_ban(
    session: AsyncSession, telegram_id: int, by_telegram_id: int, reason: str, now: datetime
) -> bool:
    """Ban the person; False when they were banned already (the reason is updated)."""
    ban = await session.get(Ban, telegram_id)
    if ban is not None:
        ban.reason, ban.by_telegram_id, ban.at = reason, by_telegram_id, now
        return False
    session.add(Ban(telegram_id=telegram_id, by_telegram_id=by_telegram_id, reason=reason, at=now))
    await session.flush()
    return True


async def lift_ban(session: AsyncSession, telegram_id: int) -> bool:
    """False when the person was not banned."""
    result = await session.execute(delete(Ban).where(Ban.telegram_id == telegram_id))
    return bool(getattr(result, "rowcount", 0))


async def banned_among(session: AsyncSession, telegram_ids: Iterable[int]) -> set[int]:
    ids = set(telegram_ids)
    if not ids:
        return set()
    result = await session.execute(select(Ban.telegram_id).where(Ban.telegram_id.in_(ids)))
    return set(result.scalars().all())


async def is_banned(session: AsyncSession, telegram_id: int) -> bool:
    return bool(await banned_among(session, [telegram_id]))


async def keep_messages(session: AsyncSession, messages: Iterable[KeptMessage]) -> None:
    session.add_all(list(messages))
    await session.flush()


async def kept_messages(session: AsyncSession, telegram_id: int) -> Sequence[KeptMessage]:
    result = await session.execute(
        select(KeptMessage).where(KeptMessage.telegram_id == telegram_id).order_by(KeptMessage.id)
    )
    return result.scalars().all()


# --- tickets, as far as bans need them ------------------------------------------------------


class Reporter(NamedTuple):
    """Who reported a ticket, and where."""

    number: str
    place_id: str
    telegram_id: int


async def reporter_of_number(session: AsyncSession, number: str) -> Reporter | None:
    return await _reporter(session, Ticket.number == number)


async def reporter_of_card(session: AsyncSession, chat_id: int, message_id: int) -> Reporter | None:
    """The reporter of the ticket whose card is this message."""
    return await _reporter(
        session, (Ticket.admin_chat_id == chat_id) & (Ticket.admin_message_id == message_id)
    )


async def _reporter(session: AsyncSession, where: Any) -> Reporter | None:
    result = await session.execute(
        select(Ticket.number, Ticket.place_id, Resident.telegram_id)
        .join(Resident, Resident.id == Ticket.resident_id)
        .where(where)
        .limit(1)
    )
    row = result.first()
    return Reporter(row[0], row[1], row[2]) if row is not None else None


# --- the audit trail ------------------------------------------------------------------------


async def audit(
    session: AsyncSession,
    at: datetime,
    actor_telegram_id: int | None,
    action: str,
    subject: str,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            at=at,
            actor_telegram_id=actor_telegram_id,
            action=action,
            subject=subject,
            detail=detail or {},
        )
    )


async def audit_events(session: AsyncSession) -> Sequence[AuditEvent]:
    result = await session.execute(select(AuditEvent).order_by(AuditEvent.id))
    return result.scalars().all()
