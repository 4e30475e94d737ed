"""The ticket lifecycle applied: numbering, opening, every move, the timeline, and the views.

`bot/lifecycle.py` decides what an action does; `TicketService.move` is the only code that
changes a ticket's status and the only writer of its timeline (`add_event`), as a
compare-and-set on the ticket's version, with what the change causes (the resident's and
supporters' notices, the card edited in place, a new card where the ticket now goes) written
to the outbox in the same transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import buttons, render
from bot.clock import Clock
from bot.deadlines import due_at, due_in
from bot.delivery.kinds import Purpose
from bot.delivery.outbox import Outbox, Outgoing
from bot.dto import EventView, TicketDetail, TicketView
from bot.errors import (
    ActionRefused,
    AlreadyClaimed,
    BadTicketNumber,
    ChangedMeanwhile,
    TicketNotFound,
)
from bot.lifecycle import ACTIVE as ACTIVE_STATUSES
from bot.lifecycle import (
    Action,
    Actor,
    Change,
    Level,
    Rating,
    Refused,
    Role,
    Status,
    TicketState,
    decide,
)
from bot.messages import Messages
from bot.places import PlaceDirectory
from bot.routing import Routing
from bot.texts import Html
from nlp.classifier import Classification, Classifier
from nlp.pii import mask_pii
from storage import repo
from storage.models import CategoryCorrection, Ticket, TicketEvent, TicketMessage

log = logging.getLogger(__name__)

# Still being handled: offered as "same matter?" and open to supporters (bot/lifecycle.py).
ACTIVE = tuple(sorted(ACTIVE_STATUSES))

NUMBER_RE = re.compile(r"^(\d{4})-?(\d{6,})$")
DASHES = str.maketrans({"—": "-", "－": "-", "–": "-", "_": "-"})


def parse_number(raw: str) -> str:
    """Normalise what a person typed (2026-000123, 2026000123, full-width dash) or refuse it."""
    match = NUMBER_RE.match(raw.strip().translate(DASHES))
    if match is None:
        raise BadTicketNumber(raw=raw.strip()[:32])
    return f"{match.group(1)}-{match.group(2)}"


@dataclass(frozen=True)
class NewTicket:
    """What a ticket is opened from: who reported what, where, and how it was classified."""

    resident_id: int
    resident_telegram_id: int
    resident_name: str
    place_id: str
    text: str
    result: Classification
    source: str  # private | group
    chat_id: int
    message_id: int | None = None
    photo_file_ids: Sequence[str] = ()
    location: tuple[float, float] | None = None
    anonymous: bool = False  # the cadres see 匿名居民 and masked contact details


# Timeline events only the cadres see (the resident's /ticket leaves them out).
INTERNAL_EVENTS = frozenset({Action.NOTE.value, Action.REASSIGN.value})


@dataclass(frozen=True)
class Mover:
    """Who moves a ticket: their role, their Telegram id, and the name cadres see."""

    role: Role
    telegram_id: int | None
    name: str = ""


@dataclass(frozen=True)
class Move:
    """What a move asks for beyond the action itself."""

    text: str = ""  # the answer, question, closing note, reason or note
    photos: tuple[str, ...] = ()
    rating: Rating | None = None
    category: str | None = None  # 改类
    to_place: str | None = None  # 转派 to another place's cadres
    to_person: Mover | None = None  # 转派 to one cadre


def _source(new: NewTicket) -> tuple[int, int | None]:
    return (new.chat_id, new.message_id)


def _event_row(
    ticket_id: int,
    at: datetime,
    actor: str,
    action: str,
    detail: dict[str, Any],
    actor_telegram_id: int | None = None,
) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "at": at,
        "actor": actor,
        "action": action,
        "detail": detail,
        "actor_telegram_id": actor_telegram_id,
    }


class TicketService:
    """Opens tickets and answers questions about them; every change is a timeline event."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        places: PlaceDirectory,
        classifier: Classifier,
        tz: ZoneInfo,
        outbox: Outbox,
        messages: Messages,
        routing: Routing | None = None,
    ) -> None:
        self._routing = routing or Routing()
        self._sessions = sessions
        self._clock = clock
        self._places = places
        self._classifier = classifier
        self._tz = tz
        self._outbox = outbox
        self._messages = messages

    async def open_many(
        self, session: AsyncSession, requests: Sequence[NewTicket]
    ) -> list[TicketView | None]:
        """Store new tickets, numbered in order, each with its first timeline event and message,
        and put their cards in the outbox for the cadres.

        Inside the caller's transaction, and a fixed handful of statements however many tickets:
        a burst of reports costs little more than one. A message that already opened a ticket
        opens no second one: None in its place.
        """
        opened = await self._already_opened(session, requests)
        batch = [new for new in requests if _source(new) not in opened]
        if not batch:
            return [None] * len(requests)
        now = self._clock.now()
        year = now.astimezone(self._tz).year
        first = await repo.next_ticket_seq(session, year, len(batch)) - len(batch) + 1
        rows = [self._row(new, f"{year}-{first + i:06d}", now) for i, new in enumerate(batch)]
        ids = await repo.insert_tickets(session, rows)
        await repo.insert_rows(
            session,
            TicketEvent,
            [
                _event_row(
                    ticket_id,
                    now,
                    "resident",
                    "created",
                    {
                        "source": row["source"],
                        "category": row["category"],
                        "kind": row["kind"],
                        "urgent": row["urgent"],
                        "due_at": row["due_at"].isoformat(),
                    },
                    new.resident_telegram_id,
                )
                for ticket_id, row, new in zip(ids, rows, batch, strict=True)
            ],
        )
        await repo.insert_rows(
            session,
            TicketMessage,
            [
                {
                    "ticket_id": ticket_id,
                    "at": now,
                    "direction": "in",
                    "chat_id": new.chat_id,
                    "telegram_message_id": new.message_id,
                    "author_telegram_id": new.resident_telegram_id,
                    "text": new.text,
                    "photo_file_id": new.photo_file_ids[0] if new.photo_file_ids else None,
                }
                for ticket_id, new in zip(ids, batch, strict=True)
            ],
        )
        views: list[TicketView] = []
        cards: list[Outgoing] = []
        for ticket_id, row, new in zip(ids, rows, batch, strict=True):
            log.info("ticket %s opened (%s, %s)", row["number"], row["category"], row["place_id"])
            ticket = Ticket(id=ticket_id, **row)
            view = self.view(ticket, new.resident_name, emergency=new.result.emergency_numbers)
            views.append(view)
            if view.admin_chat_id is None:
                log.warning("ticket %s: place %s has no admin chat", view.number, view.place_id)
                await self.add_event(
                    session, view.id, "system", "card_failed", None, {"reason": "no admin chat"}
                )
            else:
                # `under` counts within one card's messages; here they follow other cards.
                base = len(cards)
                cards += [
                    m if m.under is None else replace(m, under=base + m.under)
                    for m in self._messages.card(view, view.admin_chat_id)
                ]
        await self._outbox.put(session, cards)
        fresh = iter(views)
        return [None if _source(new) in opened else next(fresh) for new in requests]

    async def _already_opened(
        self, session: AsyncSession, batch: Sequence[NewTicket]
    ) -> set[tuple[int, int | None]]:
        by_chat: dict[int, list[int]] = {}
        for new in batch:
            if new.message_id is not None:
                by_chat.setdefault(new.chat_id, []).append(new.message_id)
        found: set[tuple[int, int | None]] = set()  # never holds a None message id
        for chat_id, message_ids in by_chat.items():
            for ticket in await repo.tickets_from_messages(session, chat_id, message_ids):
                found.add((chat_id, ticket.source_message_id))
        return found

    def _row(self, new: NewTicket, number: str, now: datetime) -> dict[str, Any]:
        result = new.result
        level = self._routing.first_level(result.category, result.kind, new.text)
        return {
            "number": number,
            "resident_id": new.resident_id,
            "place_id": new.place_id,
            "source": new.source,
            "source_chat_id": new.chat_id,
            "source_message_id": new.message_id,
            "text": new.text,
            "category": result.category,
            "kind": result.kind,
            "urgent": result.urgent,
            "complexity": result.complexity,
            "keywords": list(result.keywords),
            "confidence": result.confidence,
            "status": Status.OPEN.value,
            "level": level.value,
            "anonymous": new.anonymous,
            "photo_file_ids": list(new.photo_file_ids),
            "latitude": new.location[0] if new.location else None,
            "longitude": new.location[1] if new.location else None,
            "admin_chat_id": self._places.admin_chat_at(new.place_id, level.value),
            "admin_message_id": None,
            "created_at": now,
            "due_at": due_at(now, result, self._tz),
        }

    async def add_event(
        self,
        session: AsyncSession,
        ticket_id: int,
        actor: str,
        action: str,
        actor_telegram_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """One timeline event, inside the caller's transaction (the only way one is written)."""
        await repo.insert_rows(
            session,
            TicketEvent,
            [
                _event_row(
                    ticket_id, self._clock.now(), actor, action, detail or {}, actor_telegram_id
                )
            ],
        )

    async def cards_posted(
        self, session: AsyncSession, cards: Sequence[tuple[int, int, int]]
    ) -> None:
        """The sender delivered these cards (ticket, chat, message): remember where, so later
        actions can edit them. Two statements however many cards."""
        if not cards:
            return
        now = self._clock.now()
        await repo.set_cards(session, cards)
        await repo.insert_rows(
            session,
            TicketEvent,
            [
                _event_row(ticket_id, now, "system", "card_posted", {"chat": chat_id})
                for ticket_id, chat_id, _ in cards
            ],
        )

    async def card_failed(self, session: AsyncSession, ticket_id: int, reason: str) -> None:
        """The card could not be delivered for good (the chat refuses the bot)."""
        await self.add_event(
            session, ticket_id, "system", "card_failed", None, {"reason": reason[:200]}
        )

    async def of_resident(self, telegram_id: int, limit: int = 20) -> list[TicketView]:
        """The tickets a resident opened or supports, newest first."""
        async with self._sessions() as session:
            resident = await repo.get_resident(session, telegram_id)
            if resident is None:
                return []
            tickets = await repo.tickets_of_resident(session, resident.id, limit)
            return await self.views(session, tickets)

    async def for_owner(self, telegram_id: int, raw_number: str) -> TicketDetail:
        """One ticket with its timeline, only for the resident who opened or joined it.

        Someone else's ticket is answered exactly like a missing one, so numbers cannot be
        probed. A supporter sees the status and timeline, but the reporter's words only masked
        and none of the reporter's name, photos or location.
        """
        number = parse_number(raw_number)
        async with self._sessions() as session:
            ticket = await repo.ticket_by_number(session, number)
            resident = await repo.get_resident(session, telegram_id)
            if (
                ticket is None
                or resident is None
                or not await repo.involved_ticket_ids(session, resident.id, [ticket.id])
            ):
                raise TicketNotFound(number=number)
            events = [
                e
                for e in await repo.events_of(session, ticket.id)
                if e.action not in INTERNAL_EVENTS
            ]
            (view,) = await self.views(session, [ticket])
        reporter = ticket.resident_id == resident.id
        if not reporter:
            view = replace(
                view,
                text=mask_pii(view.text),
                resident_name="",
                photo_file_ids=(),
                latitude=None,
                longitude=None,
            )
        return TicketDetail(
            view,
            tuple(EventView(e.at, e.actor, e.action, dict(e.detail)) for e in events),
            reporter=reporter,
        )

    async def all(self, since: datetime | None = None) -> list[TicketView]:
        """Every ticket, oldest first, for operators and scripts."""
        async with self._sessions() as session:
            return await self.views(session, await repo.list_tickets(session, since=since))

    async def views(self, session: AsyncSession, tickets: Sequence[Ticket]) -> list[TicketView]:
        ids = [t.id for t in tickets]
        supporters = await repo.supporter_counts(session, ids)
        names = await repo.resident_names(session, list({t.resident_id for t in tickets}))
        return [
            self.view(t, names.get(t.resident_id, ""), supporters.get(t.id, 0)) for t in tickets
        ]

    def view(
        self,
        ticket: Ticket,
        resident_name: str,
        supporters: int = 0,
        emergency: tuple[str, ...] = (),
    ) -> TicketView:
        return TicketView(
            id=ticket.id,
            number=ticket.number,
            status=ticket.status,
            category=ticket.category,
            category_label=self._classifier.category_label(ticket.category),
            kind=ticket.kind,
            kind_label=self._classifier.kind_label(ticket.kind),
            urgent=ticket.urgent,
            complexity=ticket.complexity,
            place_id=ticket.place_id,
            place_name=self._places.name(ticket.place_id),
            source=ticket.source,
            text=ticket.text,
            keywords=tuple(ticket.keywords),
            confidence=ticket.confidence,
            created_at=ticket.created_at,
            due_at=ticket.due_at,
            resident_name=resident_name,
            supporters=supporters,
            photo_file_ids=tuple(ticket.photo_file_ids),
            latitude=ticket.latitude,
            longitude=ticket.longitude,
            admin_chat_id=ticket.admin_chat_id,
            admin_message_id=ticket.admin_message_id,
            emergency_numbers=emergency,
            level=ticket.level,
            handler_name=ticket.handler_name,
            handler_telegram_id=ticket.handler_telegram_id,
            anonymous=ticket.anonymous,
            answers=ticket.answers,
            version=ticket.version,
            level_place_name=self._level_place_name(ticket),
        )

    def _level_place_name(self, ticket: Ticket) -> str:
        if ticket.level == Level.VILLAGE.value:
            return ""
        place = self._places.at_level(ticket.place_id, ticket.level)
        return place.name if place else ""

    # --- moves -------------------------------------------------------------------------------

    async def move(
        self,
        session: AsyncSession,
        ticket: Ticket,
        action: Action,
        who: Mover,
        in_charge: bool,
        move: Move = Move(),
    ) -> TicketView:
        """Apply `action` by `who` to the ticket inside the caller's transaction: decide it,
        compare-and-set it, record it on the timeline and write what it causes to the outbox.

        `in_charge`: the cadre's jurisdiction covers the ticket where it is handled, or the
        resident is its reporter (decided by the caller from the places and staff)."""
        before = TicketState(Status(ticket.status), Level(ticket.level), ticket.unsatisfied_here)
        try:
            change = decide(
                before,
                action,
                Actor(who.role, in_charge),
                move.rating,
                to_person=move.to_person is not None,
            )
        except Refused as refused:
            if action == Action.CLAIM and ticket.handler_name and in_charge:
                raise AlreadyClaimed(number=ticket.number, name=ticket.handler_name) from None
            key = "errors." + refused.reason.split(".", 1)[1]
            raise ActionRefused(key, status=self._status_label(ticket.status)) from None
        now = self._clock.now()
        values = self._values(ticket, change, who, move, now)
        old_card = (ticket.admin_chat_id, ticket.admin_message_id)
        if not await repo.move_ticket(session, ticket.id, ticket.version, values):
            fresh = await repo.fresh_ticket(session, ticket.id)
            if action == Action.CLAIM and fresh is not None and fresh.handler_name:
                raise AlreadyClaimed(number=ticket.number, name=fresh.handler_name)
            raise ChangedMeanwhile(number=ticket.number)
        await self._record(session, ticket, change, who, move, values)
        fresh = await repo.fresh_ticket(session, ticket.id)
        assert fresh is not None
        (view,) = await self.views(session, [fresh])
        await self._outbox.put(
            session, await self._caused(session, fresh, view, change, move, old_card)
        )
        log.info("ticket %s: %s by %s", ticket.number, change.event, who.role.value)
        return view

    def _values(
        self, ticket: Ticket, change: Change, who: Mover, move: Move, now: datetime
    ) -> dict[str, Any]:
        after = change.after
        values: dict[str, Any] = {
            "status": after.status.value,
            "level": after.level.value,
            "unsatisfied_here": after.unsatisfied_here,
        }
        match change.action:
            case Action.CLAIM:
                values.update(handler_telegram_id=who.telegram_id, handler_name=who.name)
            case Action.ANSWER:
                values["answers"] = ticket.answers + 1
            case Action.RECATEGORIZE:
                values["category"] = move.category
            case Action.REASSIGN if move.to_person is not None:
                person = move.to_person
                values.update(handler_telegram_id=person.telegram_id, handler_name=person.name)
            case Action.REASSIGN:
                place_id = move.to_place or ticket.place_id
                values.update(
                    place_id=place_id,
                    handler_telegram_id=None,
                    handler_name="",
                    admin_chat_id=self._places.admin_chat_at(place_id, after.level.value),
                    admin_message_id=None,
                )
        if after.status in (Status.CLOSED, Status.REJECTED):
            values["closed_at"] = now
        if change.escalated:
            values.update(
                admin_chat_id=self._places.admin_chat_at(ticket.place_id, after.level.value),
                admin_message_id=None,
            )
        if change.escalated or (change.action == Action.RATE and after.status == Status.OPEN):
            # Handled afresh (one level up, or again here): a new deadline, nobody holds it.
            values.update(
                handler_telegram_id=None,
                handler_name="",
                due_at=self._due_again(ticket, now),
            )
        return values

    def _due_again(self, ticket: Ticket, now: datetime) -> datetime:
        """A fresh deadline of the ticket's kind, counted from now (reopened or escalated)."""
        rules = self._classifier.rules.deadlines
        days = rules.complex_days if ticket.complexity == "complex" else rules.simple_days
        return due_in(now, self._tz, days, rules.urgent_hours if ticket.urgent else 0)

    async def _record(
        self,
        session: AsyncSession,
        ticket: Ticket,
        change: Change,
        who: Mover,
        move: Move,
        values: dict[str, Any],
    ) -> None:
        detail: dict[str, Any] = {"by": who.name} if who.name else {}
        if move.text:
            detail["text"] = move.text[:1000]
        if move.photos:
            detail["photos"] = len(move.photos)
        if change.action == Action.RECATEGORIZE:
            detail.update({"from": ticket.category, "to": move.category})
            session.add(
                CategoryCorrection(
                    ticket_id=ticket.id,
                    text=ticket.text,
                    old_category=ticket.category,
                    new_category=move.category or ticket.category,
                    by_telegram_id=who.telegram_id or 0,
                    at=self._clock.now(),
                )
            )
        if change.action == Action.REASSIGN:
            detail["to"] = move.to_person.name if move.to_person else values["place_id"]
        await self.add_event(
            session, ticket.id, who.role.value, change.event, who.telegram_id, detail
        )
        if change.action == Action.ANSWER:
            session.add(
                TicketMessage(
                    ticket_id=ticket.id,
                    at=self._clock.now(),
                    direction="out",
                    chat_id=ticket.admin_chat_id or 0,
                    author_telegram_id=who.telegram_id,
                    text=move.text,
                    photo_file_id=move.photos[0] if move.photos else None,
                )
            )
        if change.escalated:
            reason = {"reason": "unsatisfied"} if change.action == Action.RATE else {}
            await self.add_event(
                session,
                ticket.id,
                Role.SYSTEM.value,
                "escalate_to",
                None,
                {"level": change.after.level.value, **reason},
            )
        elif change.action == Action.RATE and change.after.status == Status.OPEN:
            await self.add_event(session, ticket.id, Role.SYSTEM.value, "reopened")

    async def _caused(
        self,
        session: AsyncSession,
        ticket: Ticket,
        view: TicketView,
        change: Change,
        move: Move,
        old_card: tuple[int | None, int | None],
    ) -> list[Outgoing]:
        """What people are told: the card where it was, a new card where the ticket goes,
        and the reporter and supporters."""
        messages: list[Outgoing] = []
        moved_chat = ticket.admin_chat_id != old_card[0] or ticket.admin_message_id is None
        if moved_chat:
            messages += self._messages.card_refresh(view, at=old_card)
            if ticket.admin_chat_id is not None:
                cards = self._messages.card(view, ticket.admin_chat_id)
                messages += [
                    replace(m, under=len(messages) + m.under) if m.under is not None else m
                    for m in cards
                ]
        else:
            messages += self._messages.card_refresh(view)
        if change.tell_resident:
            for telegram_id, reporter in await repo.people_of(session, ticket):
                messages += self._notice(view, change, move, telegram_id, reporter)
            if ticket.source == "group" and change.action != Action.NOTE:
                # A resident who reported in the group may never have opened a private chat,
                # and the bot cannot start one: the group hears, briefly, where to look.
                messages.append(
                    self._messages.group_update(
                        view, ticket.source_chat_id, ticket.source_message_id
                    )
                )
        return messages

    def _notice(
        self, view: TicketView, change: Change, move: Move, telegram_id: int, reporter: bool
    ) -> list[Outgoing]:
        texts, messages = self._messages.texts, self._messages
        place = view.level_place_name or view.place_name
        match change.action:
            case Action.ANSWER:
                keyboard = buttons.rating(texts, view.id, view.answers, [r.value for r in Rating])
                text = texts("notice.answer", number=view.number, place=place, text=move.text)
                return messages.to_resident(
                    view, telegram_id, text, keyboard, purpose=Purpose.ANSWER, photos=move.photos
                )
            case Action.ASK:
                if not reporter:
                    return []
                text = texts("notice.ask", number=view.number, place=place, text=move.text)
                return messages.to_resident(
                    view, telegram_id, text, purpose=Purpose.ASK, photos=move.photos
                )
        if change.escalated:
            due = render.due(texts, view.due_at, self._tz, self._clock.now(), view.urgent)
            detail = texts("notice.escalate", place=place, due=due)
        elif change.action == Action.RATE and reporter:
            return []  # the reporter rated: their rating message thanks them and says what next
        elif change.action == Action.RATE and change.after.status == Status.OPEN:
            due = render.due(texts, view.due_at, self._tz, self._clock.now(), view.urgent)
            detail = texts("notice.reopen", due=due)
        elif change.action == Action.RATE:
            rating = texts(f"rating.{move.rating.value}") if move.rating else ""
            detail = texts("notice.closed_by_rating", rating=rating)
        else:
            detail = texts(f"notice.{change.action.value}", place=place, text=move.text)
        if not detail:
            return []
        text = texts(
            "notice.status",
            number=view.number,
            status=self._status_label(view.status),
            detail=Html(detail + "\n"),
        )
        return messages.to_resident(view, telegram_id, text)

    def _status_label(self, status: str) -> str:
        return render.status(self._messages.texts, status)
