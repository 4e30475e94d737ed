"""A resident's way in: who they are, where they live, their draft, and submitting it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.batching import GroupCommit
from bot.clock import Clock
from bot.deadlines import due_at
from bot.dto import DraftView, GroupOutcome, Person, TicketView
from bot.duplicates import DuplicateFinder
from bot.errors import (
    EmptyText,
    NoDraft,
    StaleDraft,
    TextTooLong,
    UnknownCategory,
    UnknownPlace,
)
from bot.places import PlaceDirectory
from bot.tickets import ACTIVE, NewTicket, TicketService
from nlp.classifier import Classification, Classifier
from nlp.faq import FaqIndex, FaqMatch
from storage import repo
from storage.models import Draft, Resident, TicketMessage

log = logging.getLogger(__name__)

AWAITING_TEXT = "awaiting_text"  # a photo or a location came first; the words are still missing
READY = "ready"

# A second message this soon after the first adds to the same draft: people type in bursts.
MERGE_WINDOW = timedelta(minutes=30)
MAX_TEXT = 3000


@dataclass(frozen=True)
class GroupReport:
    """A report addressed to the bot in a village group, classified, waiting to be stored."""

    person: Person
    place_id: str
    text: str
    result: Classification
    chat_id: int
    message_id: int | None


class PlaceNeeded(Exception):
    """The resident must choose their village before the draft can be submitted."""


class IntakeService:
    """Turns what residents write into drafts and drafts into tickets."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        places: PlaceDirectory,
        classifier: Classifier,
        tickets: TicketService,
        faq: FaqIndex,
        duplicates: DuplicateFinder,
        tz: ZoneInfo,
    ) -> None:
        self._faq = faq
        self._duplicates = duplicates
        self._sessions = sessions
        self._clock = clock
        self._places = places
        self._classifier = classifier
        self._tickets = tickets
        self._tz = tz
        self._group_reports: GroupCommit[GroupReport, TicketView] = GroupCommit(
            self._write_group_reports
        )

    async def place_of(self, person: Person) -> str | None:
        """The resident's remembered village, registering them on first contact."""
        async with self._sessions() as session, session.begin():
            return (await self._resident(session, person)).place_id

    async def set_place(self, person: Person, place_id: str) -> DraftView | None:
        """Remember the resident's village; returns the draft waiting for it, if any."""
        place = self._places.get(place_id)
        if place is None or place.level != "village":
            raise UnknownPlace(place=place_id)
        async with self._sessions() as session, session.begin():
            resident = await self._resident(session, person)
            resident.place_id = place_id
            resident.updated_at = self._clock.now()
            draft = await repo.get_draft(session, resident.id)
            view = self._view(draft, resident) if draft else None
        return await self._with_similar(view, person) if view else None

    async def write(
        self, person: Person, chat_id: int, text: str, kind_hint: str | None = None
    ) -> DraftView:
        """A resident wrote text in private: start, complete or extend their draft."""
        return await self._update(person, chat_id, _clean(text), kind_hint)

    async def add_photo(
        self, person: Person, chat_id: int, file_id: str, caption: str | None
    ) -> DraftView:
        """A photo joins the draft; without a caption the draft waits for a sentence."""

        def attach(draft: Draft) -> None:
            draft.photo_file_ids = [*draft.photo_file_ids, file_id]

        words = _clean(caption) if caption and caption.strip() else None
        return await self._update(person, chat_id, words, None, attach)

    async def add_location(
        self, person: Person, chat_id: int, latitude: float, longitude: float
    ) -> DraftView:
        """A shared location joins the draft (or starts one waiting for words)."""

        def attach(draft: Draft) -> None:
            draft.latitude, draft.longitude = latitude, longitude

        return await self._update(person, chat_id, None, None, attach)

    async def _update(
        self,
        person: Person,
        chat_id: int,
        words: str | None,
        kind_hint: str | None,
        attach: Callable[[Draft], None] | None = None,
    ) -> DraftView:
        """Words and attachments join the draft in one transaction.

        Words soon after earlier ones (or after a lone photo) extend the same draft, since people
        type in bursts; later words start a new draft. An attachment alone starts a draft that
        waits for words.
        """
        async with self._sessions() as session, session.begin():
            resident = await self._resident(session, person)
            draft = await repo.get_draft(session, resident.id)
            now = self._clock.now()
            extend = draft is not None and (
                draft.state == AWAITING_TEXT or now - draft.updated_at <= MERGE_WINDOW
            )
            if draft is not None and words is not None and extend:
                combined = f"{draft.text}\n{words}" if draft.text else words
                if len(combined) > MAX_TEXT:
                    raise TextTooLong(limit=MAX_TEXT)
                draft.text, draft.state = combined, READY
                draft.kind = kind_hint or draft.kind
            elif draft is None or (words is not None and not extend):
                if draft is not None:
                    await repo.delete_draft(session, draft)
                state = READY if words is not None else AWAITING_TEXT
                draft = self._new_draft(resident, chat_id, state, text=words or "", kind=kind_hint)
                session.add(draft)
            if attach is not None:
                attach(draft)
            _touch(draft, now)
            await session.flush()
            view = self._view(draft, resident)
        return await self._with_similar(view, person)

    async def change_category(
        self, person: Person, draft_ref: tuple[int, int], category: str
    ) -> DraftView:
        """The resident corrects the category the rules chose, on the preview they see."""
        if category not in dict(self._classifier.categories):
            raise UnknownCategory(category=category)
        async with self._sessions() as session, session.begin():
            resident, draft = await self._ready_draft(session, person, draft_ref)
            draft.category = category
            _touch(draft, self._clock.now())
            return self._view(draft, resident)

    async def draft(self, person: Person) -> DraftView | None:
        async with self._sessions() as session:
            resident = await repo.get_resident(session, person.telegram_id)
            if resident is None:
                return None
            draft = await repo.get_draft(session, resident.id)
            return self._view(draft, resident) if draft else None

    async def cancel(self, person: Person, draft_ref: tuple[int, int] | None = None) -> bool:
        """Drop the draft (only the previewed one, when a preview's button asks); False if none."""
        async with self._sessions() as session, session.begin():
            resident = await repo.get_resident(session, person.telegram_id)
            draft = await repo.get_draft(session, resident.id) if resident else None
            if draft is None:
                return False
            if draft_ref is not None and (draft.id, draft.revision) != draft_ref:
                raise StaleDraft
            await repo.delete_draft(session, draft)
            return True

    async def submit(self, person: Person, draft_ref: tuple[int, int] | None = None) -> TicketView:
        """Open the ticket from the draft; the draft is gone only once the ticket is stored.

        `draft_ref` (id, revision) comes from the preview's button: an older preview is refused.
        """
        async with self._sessions() as session, session.begin():
            resident, draft = await self._ready_draft(session, person, draft_ref)
            if resident.place_id is None:
                raise PlaceNeeded
            result = self._classify(draft)
            location = (
                (draft.latitude, draft.longitude)
                if draft.latitude is not None and draft.longitude is not None
                else None
            )
            ticket = await self._tickets.open(
                session,
                NewTicket(
                    resident_id=resident.id,
                    resident_telegram_id=resident.telegram_id,
                    resident_name=resident.display_name,
                    place_id=resident.place_id,
                    text=draft.text,
                    result=result,
                    source="private",
                    chat_id=draft.chat_id,
                    photo_file_ids=draft.photo_file_ids,
                    location=location,
                ),
            )
            await repo.delete_draft(session, draft)
            return ticket

    async def open_in_group(
        self,
        person: Person,
        group_chat_id: int,
        text: str,
        kind_hint: str | None,
        message_id: int | None,
        offer_faq: bool = True,
    ) -> GroupOutcome:
        """A resident addressed the bot in their village group: a common question gets its
        FAQ answer (unless they already asked for a person), anything else a ticket at once."""
        village = self._places.village_of_group(group_chat_id)
        if village is None:
            raise UnknownPlace(place=str(group_chat_id))
        text = _clean(text)
        result = self._classifier.classify(text, kind_hint=kind_hint)
        faq = self._faq_for(text, result) if offer_faq else None
        if faq is not None:
            return GroupOutcome(faq=faq)
        report = GroupReport(person, village.id, text, result, group_chat_id, message_id)
        return GroupOutcome(ticket=await self._group_reports.submit(report))

    async def _write_group_reports(self, reports: Sequence[GroupReport]) -> list[TicketView]:
        """One transaction for the group reports that arrived together (bot/batching.py).

        A resident seen for the first time in their village group is taken to live there.
        """
        async with self._sessions() as session, session.begin():
            residents = await repo.upsert_residents(
                session,
                ((r.person.telegram_id, r.person.display_name, r.place_id) for r in reports),
                self._clock.now(),
            )
            return await self._tickets.open_many(
                session,
                [
                    NewTicket(
                        resident_id=residents[r.person.telegram_id],
                        resident_telegram_id=r.person.telegram_id,
                        resident_name=r.person.display_name,
                        place_id=r.place_id,
                        text=r.text,
                        result=r.result,
                        source="group",
                        chat_id=r.chat_id,
                        message_id=r.message_id,
                    )
                    for r in reports
                ],
            )

    async def close(self) -> None:
        """Finish the group reports still being written."""
        await self._group_reports.close()

    async def join(self, person: Person, draft_ref: tuple[int, int], ticket_id: int) -> TicketView:
        """ "我也遇到": the resident supports an open ticket instead of opening a second one.

        Their words are kept on that ticket as a message, so nothing they wrote is lost.
        """
        async with self._sessions() as session, session.begin():
            resident, draft = await self._ready_draft(session, person, draft_ref)
            ticket = await repo.ticket_by_id(session, ticket_id)
            if ticket is None or ticket.status not in ACTIVE:
                raise StaleDraft
            now = self._clock.now()
            if await repo.add_supporter(session, ticket.id, resident.id, now):
                await repo.add_event(
                    session,
                    ticket.id,
                    now,
                    "resident",
                    "supporter_joined",
                    actor_telegram_id=resident.telegram_id,
                )
                await repo.add_message(
                    session,
                    TicketMessage(
                        ticket_id=ticket.id,
                        at=now,
                        direction="in",
                        chat_id=draft.chat_id,
                        author_telegram_id=resident.telegram_id,
                        text=draft.text,
                        photo_file_id=draft.photo_file_ids[0] if draft.photo_file_ids else None,
                    ),
                )
            await repo.delete_draft(session, draft)
            count = (await repo.supporter_counts(session, [ticket.id])).get(ticket.id, 0)
            names = await repo.resident_names(session, [ticket.resident_id])
            return self._tickets.view(ticket, names.get(ticket.resident_id, ""), count)

    async def _with_similar(self, view: DraftView, person: Person) -> DraftView:
        """Add the open tickets that may be the same matter, when a preview will be shown."""
        result = view.classification
        if result is None or result.urgent or view.faq is not None or view.place_id is None:
            return view
        similar = await self._duplicates.similar(
            view.place_id, view.text, result.category, person.telegram_id
        )
        return replace(view, similar=tuple(similar))

    def _faq_for(self, text: str, result: Classification) -> FaqMatch | None:
        if result.kind != "consultation" or result.urgent:
            return None
        return self._faq.match(text)

    async def _resident(self, session: AsyncSession, person: Person) -> Resident:
        return await repo.upsert_resident(
            session, person.telegram_id, person.display_name, self._clock.now()
        )

    async def _ready_draft(
        self, session: AsyncSession, person: Person, draft_ref: tuple[int, int] | None
    ) -> tuple[Resident, Draft]:
        resident = await self._resident(session, person)
        draft = await repo.get_draft(session, resident.id)
        if draft is None or draft.state != READY or not draft.text:
            raise NoDraft
        if draft_ref is not None and (draft.id, draft.revision) != draft_ref:
            raise StaleDraft
        return resident, draft

    def _new_draft(
        self, resident: Resident, chat_id: int, state: str, text: str = "", kind: str | None = None
    ) -> Draft:
        now = self._clock.now()
        return Draft(
            resident_id=resident.id,
            chat_id=chat_id,
            state=state,
            revision=1,
            text=text,
            kind=kind,
            photo_file_ids=[],
            created_at=now,
            updated_at=now,
        )

    def _classify(self, draft: Draft) -> Classification:
        result = self._classifier.classify(draft.text, kind_hint=draft.kind)
        if draft.category and draft.category != result.category:
            result = self._classifier.with_category(result, draft.category)
        return result

    def _view(self, draft: Draft, resident: Resident) -> DraftView:
        result = self._classify(draft) if draft.state == READY and draft.text else None
        place_id = resident.place_id
        return DraftView(
            id=draft.id,
            revision=draft.revision,
            state=draft.state,
            text=draft.text,
            classification=result,
            due_at=due_at(self._clock.now(), result, self._tz) if result else None,
            place_id=place_id,
            place_name=self._places.name(place_id) if place_id else None,
            photo_count=len(draft.photo_file_ids),
            has_location=draft.latitude is not None,
            faq=self._faq_for(draft.text, result) if result else None,
        )


def _touch(draft: Draft, now: datetime) -> None:
    draft.revision += 1
    draft.updated_at = now


def _clean(text: str) -> str:
    """Trim the text and refuse what is empty or too long to be a report."""
    text = text.strip()
    if not text:
        raise EmptyText
    if len(text) > MAX_TEXT:
        raise TextTooLong(limit=MAX_TEXT)
    return text
