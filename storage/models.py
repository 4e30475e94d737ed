"""SQLAlchemy models: places, residents, drafts, tickets, their timeline, the inbox and outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use the clock")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Place(Base):
    """A county, township, village or grid, mirrored from config/places.toml."""

    __tablename__ = "places"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(16))  # county | township | village | grid
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("places.id"), default=None)
    admin_chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    group_chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Resident(Base):
    """A person who writes to the bot, known by their Telegram user id."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(256), default="")
    place_id: Mapped[str | None] = mapped_column(ForeignKey("places.id"), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Draft(Base):
    """A resident's message not yet submitted; kept in the database so a restart loses nothing."""

    __tablename__ = "drafts"
    # Never reuse an id: preview buttons name the draft by (id, revision).
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # awaiting_text (a photo or location came alone) | awaiting_place | ready
    state: Mapped[str] = mapped_column(String(32))
    # Bumped on every change; buttons carry it so a stale preview cannot submit newer content.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str | None] = mapped_column(String(32), default=None)  # set by /ts /jy /zx /qz
    category: Mapped[str | None] = mapped_column(String(64), default=None)  # resident's override
    photo_file_ids: Mapped[list[str]] = mapped_column(default=list)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TicketCounter(Base):
    """The last sequence number handed out in a year, for numbers like 2026-000123."""

    __tablename__ = "ticket_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    """One matter a resident raised, from report to closure."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_place_status", "place_id", "status"),
        # One message opens at most one ticket, however often its update is redelivered.
        Index("uq_tickets_source_message", "source_chat_id", "source_message_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    place_id: Mapped[str] = mapped_column(ForeignKey("places.id"))
    source: Mapped[str] = mapped_column(String(16))  # private | group
    source_chat_id: Mapped[int] = mapped_column(BigInteger)
    source_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    complexity: Mapped[str] = mapped_column(String(16))  # simple | complex | urgent
    keywords: Mapped[list[str]] = mapped_column(default=list)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), index=True)
    level: Mapped[str] = mapped_column(String(16), default="village")
    photo_file_ids: Mapped[list[str]] = mapped_column(default=list)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    admin_chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    admin_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(index=True)
    due_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Bumped by every transition: the compare-and-set that lets exactly one of two cadres win.
    version: Mapped[int] = mapped_column(Integer, default=1)
    handler_telegram_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    handler_name: Mapped[str] = mapped_column(String(256), default="")
    unsatisfied_here: Mapped[int] = mapped_column(Integer, default=0)  # 不满意 at this level
    answers: Mapped[int] = mapped_column(Integer, default=0)  # ratings name the answer they rate
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)

    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )


class TicketEvent(Base):
    """One entry of a ticket's timeline: who did what, when (全程留痕)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(16))  # resident | cadre | system
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class TicketMessage(Base):
    """A message exchanged about a ticket, in either direction."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    chat_id: Mapped[int] = mapped_column(BigInteger)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    author_telegram_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    photo_file_id: Mapped[str | None] = mapped_column(String(256), default=None)


class TicketSupporter(Base):
    """A resident who joined an open ticket as "same problem" instead of opening another."""

    __tablename__ = "ticket_supporters"
    __table_args__ = (UniqueConstraint("ticket_id", "resident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    at: Mapped[datetime]


class InboxUpdate(Base):
    """An update from Telegram, stored before Telegram is told it arrived; handled until done."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_state_update_id", "state", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(16))  # pending | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(default=None)


class OutboxMessage(Base):
    """A message the desk must send, written with the change that causes it; sent until sent."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_id", "state", "id"),
        # A reply to one of the bot's messages is about the ticket that message was about.
        Index("ix_outbox_chat_sent", "chat_id", "sent_message_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Matches the ids RETURNING hands back (in any order) to the rows of a batch insert:
    # SQLite cannot return them in order without one INSERT per row.
    token: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(32))
    # What the Bot API call needs (text, buttons, photo, coordinates, message to edit).
    payload: Mapped[dict[str, Any]] = mapped_column()
    priority: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    # Sent as a reply to the message another row sent (a card's photos under the card).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), default=None)
    # One line standing for this message when a busy chat gets several combined into one.
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    # A newer pending row with the same key makes this one unnecessary (an older preview).
    supersede_key: Mapped[str | None] = mapped_column(String(64), default=None)
    state: Mapped[str] = mapped_column(String(16))  # pending | sent | failed | superseded
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(String(256), default=None)


class Staff(Base):
    """A cadre: a role and a jurisdiction (a place and everything under it)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(256), default="")
    role: Mapped[str] = mapped_column(String(16))
    place_id: Mapped[str] = mapped_column(ForeignKey("places.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OneTimeCode(Base):
    """A staff invitation or a chat-binding code: used once, then spent."""

    __tablename__ = "one_time_codes"

    code: Mapped[str] = mapped_column(String(48), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # invite | bind_admin | bind_group
    place_id: Mapped[str] = mapped_column(ForeignKey("places.id"))
    role: Mapped[str | None] = mapped_column(String(16), default=None)  # for an invitation
    created_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(BigInteger, default=None)  # a person or a chat
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class ChatBinding(Base):
    """A chat linked to a place with /bind; it wins over config/places.toml."""

    __tablename__ = "chat_bindings"

    place_id: Mapped[str] = mapped_column(ForeignKey("places.id"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)  # admin | group
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime]


class Ban(Base):
    """A sender whose messages are kept but open no tickets."""

    __tablename__ = "bans"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    by_telegram_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class AuditEvent(Base):
    """Who granted, revoked, invited, bound or banned what, and when."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class KeptMessage(Base):
    """What a banned sender wrote: kept, never turned into a ticket."""

    __tablename__ = "kept_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class Rating(Base):
    """A resident's 满意 / 基本满意 / 不满意 on one answer; one per person per answer."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("ticket_id", "answer", "resident_telegram_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    answer: Mapped[int] = mapped_column(Integer)
    resident_telegram_id: Mapped[int] = mapped_column(BigInteger)
    rating: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class CategoryCorrection(Base):
    """A cadre moved a ticket to another category: the text and both labels, to learn from."""

    __tablename__ = "category_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    text: Mapped[str] = mapped_column(Text)
    old_category: Mapped[str] = mapped_column(String(64))
    new_category: Mapped[str] = mapped_column(String(64))
    by_telegram_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]


class PendingInput(Base):
    """Someone the desk waits on for words: a cadre's answer, note or reason after pressing
    回复 / 办结 / 驳回 / 备注, or a comment on a rating. One per person per chat."""

    __tablename__ = "pending_inputs"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
