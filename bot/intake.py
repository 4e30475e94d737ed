"""A resident's way in: who they are, where they live, their draft, and submitting it.

Each request is one transaction that claims its update (bot/delivery/inbox.py), changes the
state and writes every message it causes to the outbox: a crash at any point leaves either all
of it or none of it, and a redelivered update is not acted on twice.
"""

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
from bot.delivery.inbox import Inbox
from bot.delivery.outbox import Outbox, Outgoing
from bot.dto import DraftView, Origin, Person, TicketView
from bot.duplicates import DuplicateFinder
from bot.errors import (
    AlreadyHandled,
    EmptyText,
    NoDraft,
    StaleDraft,
    TextTooLong,
    UnknownCategory,
    UnknownPlace,
)
from bot.flood import FloodGate, FloodLimit, Verdict
from bot.messages import Messages
from bot.places import PlaceDirectory
from bot.tickets import ACTIVE, NewTicket, TicketService
from nlp.classifier import Classification, Classifier
from nlp.faq import FaqIndex, FaqMatch
from storage import people, repo
from storage.models import Draft, KeptMessage, Resident, TicketMessage

log = logging.getLogger(__name__)

AWAITING_TEXT = "awaiting_text"  # a photo or a location came first; the words are still missing
READY = "ready"

# A second message this soon after the first adds to the same draft: people type in bursts.
MERGE_WINDOW = timedelta(minutes=30)
MAX_TEXT = 3000
# The resident's own open tickets the preview offers to add the new words to.
OWN_OFFERED = 3
PRIVATE_FLOOD = FloodLimit(count=20, window=timedelta(minutes=1))


@dataclass(frozen=True)
class GroupReport:
    """A report addressed to the bot in a village group, classified, waiting to be stored."""

    person: Person
    place_id: str
    text: str
    result: Classification
    origin: Origin
    also: tuple[Outgoing, ...] = ()  # written with the acknowledgement (a FAQ answer's buttons off)


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
        inbox: Inbox,
        outbox: Outbox,
        messages: Messages,
        flood: FloodGate | None = None,
    ) -> None:
        """`flood` limits the reports one person opens in a group."""
        self._sessions = sessions
        self._clock = clock
        self._places = places
        self._classifier = classifier
        self._tickets = tickets
        self._faq = faq
        self._duplicates = duplicates
        self._tz = tz
        self._inbox = inbox
        self._outbox = outbox
        self._messages = messages
        self._flood = flood or FloodGate()
        # People type in bursts: many short messages are normal, hundreds are not.
        self._private_flood = FloodGate(PRIVATE_FLOOD)
        self._group_reports: GroupCommit[GroupReport, TicketView | None] = GroupCommit(
            self._write_group_reports
        )

    # --- a resident's place --------------------------------------------------------------------

    async def place_of(self, person: Person) -> str | None:
        """The resident's remembered village, registering them on first contact."""
        async with self._sessions() as session, session.begin():
            return (await self._resident(session, person)).place_id

    async def greet(self, person: Person, origin: Origin, desk_name: str) -> None:
        """/start: the greeting, and the village question for a newcomer."""
        async with self._inbox.acting_on(origin) as session:
            resident = await self._resident(session, person)
            messages = [
                self._messages.reply(
                    origin, "private.start", name=person.first_name, desk_name=desk_name
                )
            ]
            if resident.place_id is None:
                messages.append(self._messages.ask_place(origin, self._places.villages))
            await self._outbox.put(session, messages)

    async def show_place(self, person: Person, origin: Origin) -> None:
        """/place: the remembered village and the choice to change it."""
        async with self._inbox.acting_on(origin) as session:
            resident = await self._resident(session, person)
            if resident.place_id is None:
                message = self._messages.ask_place(origin, self._places.villages)
            else:
                message = replace(
                    self._messages.ask_place(origin, self._places.villages),
                    text=self._messages.texts(
                        "private.place_current", place=self._places.name(resident.place_id)
                    ),
                )
            await self._outbox.put(session, [message])

    async def set_place(self, person: Person, origin: Origin, place_id: str) -> None:
        """Remember the resident's village; a draft waiting for it continues."""
        place = self._places.get(place_id)
        if place is None or place.level != "village":
            raise UnknownPlace(place=place_id)
        async with self._inbox.acting_on(origin) as session:
            resident = await self._resident(session, person)
            resident.place_id = place_id
            resident.updated_at = self._clock.now()
            texts = self._messages.texts
            messages = [self._messages.edit(origin, texts("private.place_set", place=place.name))]
            draft = await repo.get_draft(session, resident.id)
            if draft is not None:
                messages += await self._present(
                    session, person, resident, draft, origin, resumed=True
                )
            await self._outbox.put(session, messages)

    # --- drafts --------------------------------------------------------------------------------

    async def write(
        self, person: Person, origin: Origin, text: str, kind_hint: str | None = None
    ) -> None:
        """A resident wrote text in private: start, complete or extend their draft."""
        await self._update(person, origin, _clean(text), kind_hint)

    async def add_photo(
        self, person: Person, origin: Origin, file_id: str, caption: str | None
    ) -> None:
        """A photo joins the draft; without a caption the draft waits for a sentence."""

        def attach(draft: Draft) -> None:
            draft.photo_file_ids = [*draft.photo_file_ids, file_id]

        words = _clean(caption) if caption and caption.strip() else None
        await self._update(person, origin, words, None, attach, "private.what_photo")

    async def add_location(
        self, person: Person, origin: Origin, latitude: float, longitude: float
    ) -> None:
        """A shared location joins the draft (or starts one waiting for words)."""

        def attach(draft: Draft) -> None:
            draft.latitude, draft.longitude = latitude, longitude

        await self._update(person, origin, None, None, attach, "private.what_location")

    async def _update(
        self,
        person: Person,
        origin: Origin,
        words: str | None,
        kind_hint: str | None,
        attach: Callable[[Draft], None] | None = None,
        what: str = "private.what_photo",
    ) -> None:
        """Words and attachments join the draft, and the resident is shown where it stands.

        Words soon after earlier ones (or after a lone photo) extend the same draft, since people
        type in bursts; later words start a new draft. A draft that would grow past the limit is
        submitted as it is (if the village is known) and the new words start the next one.
        """
        verdict = self._private_flood.check(person.telegram_id, self._clock.now())
        async with self._inbox.acting_on(origin) as session:
            resident = await self._resident(session, person)
            # A banned sender (bot/staff.py): their words are kept, no draft is written.
            if await self._kept_if_banned(session, person.telegram_id, origin, words or ""):
                return
            draft = await repo.get_draft(session, resident.id)
            now = self._clock.now()
            messages: list[Outgoing] = []
            extend = draft is not None and (
                draft.state == AWAITING_TEXT or now - draft.updated_at <= MERGE_WINDOW
            )
            if draft is not None and words is not None and extend:
                combined = f"{draft.text}\n{words}" if draft.text else words
                if len(combined) > MAX_TEXT and draft.text:
                    if resident.place_id is None:
                        raise TextTooLong(limit=MAX_TEXT)
                    messages += await self._submit_draft(session, resident, draft, origin, None)
                    messages.append(self._messages.reply(origin, "private.draft_full"))
                    draft = self._new_draft(resident, origin.chat_id, READY, words, kind_hint)
                    session.add(draft)
                else:
                    draft.text, draft.state = combined, READY
                    draft.kind = kind_hint or draft.kind
            elif draft is None or (words is not None and not extend):
                if draft is not None:
                    await repo.delete_draft(session, draft)
                state = READY if words is not None else AWAITING_TEXT
                draft = self._new_draft(resident, origin.chat_id, state, words or "", kind_hint)
                session.add(draft)
            if attach is not None:
                attach(draft)
            _touch(draft, now)
            await session.flush()
            if verdict is Verdict.NOTICE:
                messages.append(self._messages.reply(origin, "private.too_fast"))
            messages += await self._present(session, person, resident, draft, origin, what=what)
            await self._outbox.put(session, messages)

    async def _present(
        self,
        session: AsyncSession,
        person: Person,
        resident: Resident,
        draft: Draft,
        origin: Origin,
        what: str = "private.what_photo",
        resumed: bool = False,
    ) -> list[Outgoing]:
        """Where the draft stands: the emergency notice first when urgent, a FAQ answer for a
        common question, else the place question or the preview. `resumed`: continuing after
        the place was chosen, when the warning and the FAQ answer were already given."""
        messages = self._messages
        if draft.state != READY or not draft.text:
            return [messages.reply(origin, "private.draft_waiting_text", what=messages.texts(what))]
        view = self._view(draft, resident)
        result = view.classification
        assert result is not None
        out: list[Outgoing] = []
        if result.urgent and not resumed:
            # Written first, so it is the first row of all this transaction causes.
            await self._outbox.put(
                session, [messages.urgent_notice(origin, result.emergency_numbers)]
            )
        if view.faq is not None and not resumed:
            out.append(messages.faq_private(origin, view, view.faq))
        elif view.place_id is None:
            out.append(messages.ask_place(origin, self._places.villages))
        elif result.urgent:
            # Lives may be at stake: the cadres get it now, without waiting for a confirmation.
            out += await self._submit_draft(session, resident, draft, origin, None)
        else:
            view = await self._with_similar(session, view, person)
            out.append(messages.preview(origin, view))
        return out

    async def change_category(
        self, person: Person, origin: Origin, draft_ref: tuple[int, int], category: str
    ) -> None:
        """The resident corrects the category the rules chose, on the preview they see."""
        if category not in dict(self._classifier.categories):
            raise UnknownCategory(category=category)
        async with self._inbox.acting_on(origin) as session:
            resident, draft = await self._ready_draft(session, person, draft_ref)
            draft.category = category
            _touch(draft, self._clock.now())
            view = await self._with_similar(session, self._view(draft, resident), person)
            preview = self._messages.preview(origin, view)
            await self._outbox.put(
                session, [self._messages.edit(origin, preview.text, preview.keyboard)]
            )

    async def show_categories(
        self, person: Person, origin: Origin, draft_ref: tuple[int, int], choose: bool
    ) -> None:
        """更改类别 shows the categories on the preview; 返回 brings its buttons back."""
        async with self._inbox.acting_on(origin) as session:
            resident, draft = await self._ready_draft(session, person, draft_ref)
            view = self._view(draft, resident)
            if choose:
                message = self._messages.categories(origin, view, self._classifier.categories)
            else:
                view = await self._with_similar(session, view, person)
                message = self._messages.edit(
                    origin, None, self._messages.preview(origin, view).keyboard
                )
            await self._outbox.put(session, [message])

    async def draft(self, person: Person) -> DraftView | None:
        async with self._sessions() as session:
            resident = await repo.get_resident(session, person.telegram_id)
            if resident is None:
                return None
            draft = await repo.get_draft(session, resident.id)
            return self._view(draft, resident) if draft else None

    async def cancel(
        self, person: Person, origin: Origin, draft_ref: tuple[int, int] | None = None
    ) -> None:
        """Drop the draft (only the previewed one, when a preview's button asks)."""
        async with self._inbox.acting_on(origin) as session:
            resident = await repo.get_resident(session, person.telegram_id)
            draft = await repo.get_draft(session, resident.id) if resident else None
            if (
                draft is not None
                and draft_ref is not None
                and (draft.id, draft.revision) != draft_ref
            ):
                raise StaleDraft
            if draft is not None:
                await repo.delete_draft(session, draft)
            key = "private.cancelled" if draft is not None else "private.nothing_to_cancel"
            if draft_ref is not None:
                texts = self._messages.texts
                key = "private.cancelled" if draft is not None else "errors.no_draft"
                message = self._messages.edit(origin, texts(key))
            else:
                message = self._messages.reply(origin, key)
            await self._outbox.put(session, [message])

    async def faq_solved(self, person: Person, origin: Origin, draft_ref: tuple[int, int]) -> None:
        """已解决 under a FAQ answer: the question needs no ticket."""
        async with self._inbox.acting_on(origin) as session:
            resident = await repo.get_resident(session, person.telegram_id)
            draft = await repo.get_draft(session, resident.id) if resident else None
            if draft is not None and (draft.id, draft.revision) == draft_ref:
                await repo.delete_draft(session, draft)
            await self._outbox.put(
                session,
                [
                    self._messages.edit(origin, None, ()),
                    self._messages.say(origin, self._messages.texts("faq.solved")),
                ],
            )

    async def submit(
        self,
        person: Person,
        origin: Origin,
        draft_ref: tuple[int, int] | None = None,
        keep_message: bool = False,
        anonymous: bool = False,
    ) -> None:
        """Open the ticket from the draft; the draft is gone only once the ticket is stored.

        `draft_ref` (id, revision) comes from the preview's button: an older preview is refused.
        The preview becomes the acknowledgement, unless `keep_message` (a FAQ answer stays
        readable and only loses its buttons). `anonymous`: the cadres see 匿名居民.
        """
        async with self._inbox.acting_on(origin) as session:
            resident, draft = await self._ready_draft(session, person, draft_ref)
            messages: list[Outgoing] = []
            if resident.place_id is None:
                messages.append(self._messages.ask_place(origin, self._places.villages))
            else:
                edit = origin.message_id if draft_ref is not None and not keep_message else None
                if keep_message:
                    messages.append(self._messages.edit(origin, None, ()))
                messages += await self._submit_draft(
                    session, resident, draft, origin, edit, anonymous
                )
            await self._outbox.put(session, messages)

    async def _submit_draft(
        self,
        session: AsyncSession,
        resident: Resident,
        draft: Draft,
        origin: Origin,
        edit_message_id: int | None,
        anonymous: bool = False,
    ) -> list[Outgoing]:
        """Open the ticket (its card goes to the cadres) and acknowledge it to the resident."""
        assert resident.place_id is not None
        # A draft written before its author was banned is kept, not submitted.
        if await self._kept_if_banned(session, resident.telegram_id, origin, draft.text):
            await repo.delete_draft(session, draft)
            return []
        location = (
            (draft.latitude, draft.longitude)
            if draft.latitude is not None and draft.longitude is not None
            else None
        )
        (ticket,) = await self._tickets.open_many(
            session,
            [
                NewTicket(
                    resident_id=resident.id,
                    resident_telegram_id=resident.telegram_id,
                    resident_name=resident.display_name,
                    place_id=resident.place_id,
                    text=draft.text,
                    result=self._classify(draft),
                    source="private",
                    chat_id=draft.chat_id,
                    photo_file_ids=draft.photo_file_ids,
                    location=location,
                    anonymous=anonymous,
                )
            ],
        )
        assert ticket is not None, "a private submission has no source message to collide on"
        await repo.delete_draft(session, draft)
        return [self._messages.submitted(ticket, origin.chat_id, edit_message_id)]

    async def join(
        self, person: Person, origin: Origin, draft_ref: tuple[int, int], ticket_id: int
    ) -> None:
        """ "我也遇到": the resident supports an open ticket of their village instead of opening
        a second one. Their words are kept on that ticket as a message, so nothing is lost."""
        async with self._inbox.acting_on(origin) as session:
            resident, draft = await self._ready_draft(session, person, draft_ref)
            ticket = await repo.ticket_by_id(session, ticket_id)
            if (
                ticket is None
                or ticket.status not in ACTIVE
                or ticket.place_id != resident.place_id
                or ticket.resident_id == resident.id
            ):
                raise StaleDraft
            now = self._clock.now()
            if await repo.add_supporter(session, ticket.id, resident.id, now):
                await self._tickets.add_event(
                    session, ticket.id, "resident", "supporter_joined", resident.telegram_id
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
            view = self._tickets.view(ticket, names.get(ticket.resident_id, ""), count)
            texts = self._messages.texts
            joined = texts("private.joined", number=view.number, count=view.supporters + 1)
            await self._outbox.put(
                session,
                [self._messages.edit(origin, joined), *self._messages.card_refresh(view)],
            )

    async def add_to(
        self, person: Person, origin: Origin, draft_ref: tuple[int, int], ticket_id: int
    ) -> None:
        """The draft is more about one of the resident's own open tickets (chosen from the
        preview): it attaches there and goes to its cadres instead of opening a new one."""
        async with self._inbox.acting_on(origin) as session:
            resident, draft = await self._ready_draft(session, person, draft_ref)
            ticket = await repo.ticket_by_id(session, ticket_id)
            if ticket is None or ticket.status not in ACTIVE or ticket.resident_id != resident.id:
                raise StaleDraft
            photos = tuple(draft.photo_file_ids)
            await repo.add_message(
                session,
                TicketMessage(
                    ticket_id=ticket.id,
                    at=self._clock.now(),
                    direction="in",
                    chat_id=draft.chat_id,
                    author_telegram_id=resident.telegram_id,
                    text=draft.text,
                    photo_file_id=photos[0] if photos else None,
                ),
            )
            await self._tickets.add_event(
                session,
                ticket.id,
                "resident",
                "relayed_in",
                resident.telegram_id,
                {"photos": len(photos)},
            )
            await repo.delete_draft(session, draft)
            (view,) = await self._tickets.views(session, [ticket])
            added = self._messages.texts("private.added", number=view.number)
            await self._outbox.put(
                session,
                [
                    self._messages.edit(origin, added),
                    *self._messages.relay_in(view, resident.display_name, True, draft.text, photos),
                ],
            )

    # --- village groups ------------------------------------------------------------------------

    async def open_in_group(
        self,
        person: Person,
        origin: Origin,
        text: str,
        kind_hint: str | None,
        offer_faq: bool = True,
    ) -> None:
        """A resident addressed the bot in their village group: a common question gets its
        FAQ answer (unless they already asked for a person), anything else a ticket at once.

        Past the flood rate a member's further reports are kept on their latest ticket."""
        village = self._places.village_of_group(origin.chat_id)
        if village is None:
            raise UnknownPlace(place=str(origin.chat_id))
        text = _clean(text)
        result = self._classifier.classify(text, kind_hint=kind_hint)
        faq = self._faq_for(text, result) if offer_faq else None
        if faq is not None:
            await self._inbox.reply(origin, self._messages.group_faq(origin, faq))
            return
        verdict = self._flood.check(
            ("group", origin.chat_id, person.telegram_id), self._clock.now()
        )
        flooding = verdict is not Verdict.ALLOW and not result.urgent
        if flooding and await self._supplement(person, origin, text, verdict is Verdict.NOTICE):
            return
        report = GroupReport(person, village.id, text, result, origin)
        if await self._group_reports.submit(report) is None:
            raise AlreadyHandled

    async def group_faq_choice(
        self, person: Person, origin: Origin, question: Origin, text: str, human: bool
    ) -> None:
        """仍需人工 / 已解决 under a FAQ answer in a group: a consultation ticket from the
        question, or a thank-you; either way the answer loses its buttons."""
        off = self._messages.edit(origin, None, ())
        if not human:
            thanks = self._messages.say(origin, self._messages.texts("faq.solved"))
            await self._inbox.reply(origin, off, thanks)
            return
        village = self._places.village_of_group(origin.chat_id)
        if village is None:
            raise UnknownPlace(place=str(origin.chat_id))
        body = _clean(text)
        result = self._classifier.classify(body, kind_hint="consultation")
        # The ticket's message is the question; the claim is this button press.
        source = replace(question, update_id=origin.update_id)
        report = GroupReport(person, village.id, body, result, source, (off,))
        if await self._group_reports.submit(report) is None:
            raise AlreadyHandled

    async def _supplement(self, person: Person, origin: Origin, text: str, notify: bool) -> bool:
        """Keep a flooding member's report on their latest ticket here; False if they have none."""
        async with self._sessions() as session:
            # Read first: the claim below must only be made when the report is kept here.
            resident = await repo.get_resident(session, person.telegram_id)
            latest = (
                await repo.latest_ticket_from(session, resident.id, origin.chat_id)
                if resident
                else None
            )
        if latest is None:
            return False
        async with self._inbox.acting_on(origin) as session:
            await repo.add_message(
                session,
                TicketMessage(
                    ticket_id=latest.id,
                    at=self._clock.now(),
                    direction="in",
                    chat_id=origin.chat_id,
                    telegram_message_id=origin.message_id,
                    author_telegram_id=person.telegram_id,
                    text=text,
                ),
            )
            await self._tickets.add_event(
                session, latest.id, "resident", "supplement", person.telegram_id
            )
            if notify:
                texts = self._messages.texts
                notice = texts("group.too_fast", name=person.first_name, number=latest.number)
                await self._outbox.put(session, [self._messages.say(origin, notice)])
            return True

    async def _write_group_reports(self, reports: Sequence[GroupReport]) -> list[TicketView | None]:
        """One transaction for the group reports that arrived together (bot/batching.py).

        A resident seen for the first time in their village group is taken to live there. A
        report whose update was handled before gets None.
        """
        async with self._sessions() as session, session.begin():
            done = await self._inbox.claim(
                session, [r.origin.update_id for r in reports if r.origin.update_id is not None]
            )
            fresh = [r for r in reports if r.origin.update_id not in done]
            # Banned senders' reports are kept and open no ticket; the group is told nothing.
            banned = await people.banned_among(session, (r.person.telegram_id for r in fresh))
            if banned:
                await people.keep_messages(
                    session,
                    (
                        self._kept(r.person.telegram_id, r.origin, r.text)
                        for r in fresh
                        if r.person.telegram_id in banned
                    ),
                )
                fresh = [r for r in fresh if r.person.telegram_id not in banned]
            residents = await repo.upsert_residents(
                session,
                ((r.person.telegram_id, r.person.display_name, r.place_id) for r in fresh),
                self._clock.now(),
            )
            views = await self._tickets.open_many(
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
                        chat_id=r.origin.chat_id,
                        message_id=r.origin.message_id,
                    )
                    for r in fresh
                ],
            )
            messages: list[Outgoing] = []
            for report, view in zip(fresh, views, strict=True):
                if view is not None:
                    messages += [
                        *report.also,
                        self._messages.group_ack(view, report.person, report.origin),
                    ]
            await self._outbox.put(session, messages)
        by_report = dict(zip(map(id, fresh), views, strict=True))
        return [by_report.get(id(r)) for r in reports]

    async def close(self) -> None:
        """Finish the group reports still being written."""
        await self._group_reports.close()

    # --- helpers -------------------------------------------------------------------------------

    async def _kept_if_banned(
        self, session: AsyncSession, telegram_id: int, origin: Origin, text: str
    ) -> bool:
        """For a banned sender: keep what they wrote, tell them calmly, and return True."""
        if not await people.is_banned(session, telegram_id):
            return False
        await people.keep_messages(session, [self._kept(telegram_id, origin, text)])
        notices = [self._messages.reply(origin, "ban.private_notice")]
        result = self._classifier.classify(text) if text else None
        if result is not None and result.urgent:
            # A ban stops tickets, not safety: whoever reports a danger is told whom to call.
            notices.insert(0, self._messages.urgent_notice(origin, result.emergency_numbers))
        await self._outbox.put(session, notices)
        return True

    def _kept(self, telegram_id: int, origin: Origin, text: str) -> KeptMessage:
        return KeptMessage(
            telegram_id=telegram_id,
            chat_id=origin.chat_id,
            message_id=origin.message_id,
            text=text,
            at=self._clock.now(),
        )

    async def _with_similar(
        self, session: AsyncSession, view: DraftView, person: Person
    ) -> DraftView:
        """Add the open tickets that may be the same matter, when a preview will be shown."""
        result = view.classification
        if result is None or result.urgent or view.faq is not None or view.place_id is None:
            return view
        similar = await self._duplicates.similar(
            session, view.place_id, view.text, result.category, person.telegram_id
        )
        resident = await repo.get_resident(session, person.telegram_id)
        own = (
            await repo.open_tickets_of(session, resident.id, ACTIVE, OWN_OFFERED)
            if resident is not None
            else []
        )
        return replace(view, similar=tuple(similar), own=tuple((t.id, t.number) for t in own))

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
