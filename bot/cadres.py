"""The cadres' desk: card buttons, the words an action needs, lists and look-ups in admin
chats, and the two-way relay between cadres and residents through the bot.

Every request is checked here on the server: the chat must be an admin chat, the person an
active staff member whose jurisdiction covers the place where the ticket is handled. Callback
data only names a ticket and an action. The moves themselves go through `TicketService.move`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import buttons, render
from bot.answers import CommonAnswers
from bot.clock import Clock
from bot.delivery.inbox import Inbox
from bot.delivery.kinds import Purpose
from bot.delivery.outbox import Outbox, Outgoing
from bot.dto import Origin, Person, TicketView
from bot.errors import (
    ActionRefused,
    BadTicketNumber,
    DeskError,
    StaleDraft,
    TicketNotFound,
)
from bot.lifecycle import (
    ACTIVE,
    Action,
    Actor,
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
from bot.staff import StaffMember, StaffService
from bot.texts import Html, html_escape
from bot.tickets import Move, Mover, TicketService, parse_number
from nlp.classifier import Classifier
from nlp.pii import mask_pii
from storage import repo
from storage.models import PendingInput, Ticket, TicketEvent, TicketMessage
from storage.models import Rating as RatingRow

log = logging.getLogger(__name__)

# Actions that wait for the cadre's next message (the answer, question, note or reason).
NEEDS_WORDS = (Action.ANSWER, Action.ASK, Action.CLOSE, Action.REJECT, Action.NOTE)
# Second-step buttons: a category, a transfer target, a common answer, or 取消.
SET_CATEGORY, TRANSFER, PICK = "setcat", "to", "pick"
LIST_LIMIT = 20
# /find looks at this many matches for the ones it may show (see `_shown_matches`).
FIND_SCAN = 500
TIMELINE_LIMIT = 40


@dataclass(frozen=True)
class Listing:
    """Which list a cadre asked for: /open, /mine, /overdue or /find."""

    name: str  # open | mine | overdue | find
    words: tuple[str, ...] = ()


class CadreService:
    """What cadres do with tickets, and what residents say back to them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        places: PlaceDirectory,
        classifier: Classifier,
        tickets: TicketService,
        staff: StaffService,
        answers: CommonAnswers,
        tz: ZoneInfo,
        inbox: Inbox,
        outbox: Outbox,
        messages: Messages,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._places = places
        self._classifier = classifier
        self._tickets = tickets
        self._staff = staff
        self._answers = answers
        self._tz = tz
        self._inbox = inbox
        self._outbox = outbox
        self._messages = messages
        self.texts = messages.texts

    # --- who may act ---------------------------------------------------------------------------

    async def _cadre(self, session: AsyncSession, person: Person, origin: Origin) -> StaffMember:
        """The staff member acting in an admin chat, or a refusal."""
        if origin.private or self._places.place_of_admin_chat(origin.chat_id) is None:
            raise ActionRefused("errors.admin_chat_only")
        member = await self._staff.member(session, person.telegram_id)
        if member is None:
            raise ActionRefused("errors.staff_only")
        return member

    async def _in_charge(
        self, session: AsyncSession, person: Person, origin: Origin, ticket: Ticket
    ) -> Mover:
        """The cadre, if their jurisdiction covers the place that handles the ticket now."""
        member = await self._cadre(session, person, origin)
        handling = self._places.at_level(ticket.place_id, ticket.level)
        if not self._staff.covers(member, handling.id if handling else ticket.place_id):
            raise ActionRefused("errors.not_in_charge")
        return Mover(
            Role(member.role), member.telegram_id, member.display_name or person.display_name
        )

    def _check(self, ticket: Ticket, action: Action, who: Mover) -> None:
        """Refuse now an action the ticket's status does not allow, before asking for words."""
        state = TicketState(Status(ticket.status), Level(ticket.level), ticket.unsatisfied_here)
        try:
            decide(state, action, Actor(who.role, True))
        except Refused as refused:
            key = "errors." + refused.reason.split(".", 1)[1]
            raise ActionRefused(key, status=render.status(self.texts, ticket.status)) from None

    # --- card buttons --------------------------------------------------------------------------

    async def press(self, person: Person, origin: Origin, pressed: buttons.Pressed) -> Html:
        """A card button (or a second-step choice) pressed in an admin chat; the short
        confirmation to show the presser."""
        async with self._inbox.acting_on(origin) as session:
            ticket = await repo.ticket_by_id(session, pressed.ticket_id)
            if ticket is None:
                raise StaleDraft
            if pressed.action == buttons.CANCEL_INPUT:
                # Only the cadre the prompt waits on may call it off (the data names them):
                # anyone else's 取消 would leave that cadre's next message taken as the words.
                arg = pressed.arg or ""
                owner = int(arg) if arg.isdigit() else None
                if owner != person.telegram_id:
                    raise ActionRefused("errors.not_your_prompt")
                await repo.drop_pending_input(session, origin.chat_id, person.telegram_id)
                text = self.texts("desk.prompt_cancelled")
                await self._outbox.put(session, [self._messages.edit(origin, text)])
                return text
            who = await self._in_charge(session, person, origin, ticket)
            if pressed.action in (SET_CATEGORY, TRANSFER, PICK):
                return await self._second_step(session, origin, ticket, who, pressed)
            try:
                action = Action(pressed.action)
            except ValueError:
                raise StaleDraft from None
            view = await self._view(session, ticket)
            if action in (Action.CLAIM, Action.ESCALATE):
                if action == Action.ESCALATE and Level(ticket.level).above() is None:
                    raise ActionRefused("errors.no_place_above")
                await self._tickets.move(session, ticket, action, who, True)
                return self.texts(f"action.{action.value}")
            self._check(ticket, action, who)
            prompt = await self._prompt(session, origin, ticket, view, action, who)
            await self._outbox.put(session, prompt)
            return Html("")

    async def _prompt(
        self,
        session: AsyncSession,
        origin: Origin,
        ticket: Ticket,
        view: TicketView,
        action: Action,
        who: Mover,
    ) -> list[Outgoing]:
        """Ask the cadre for what the action needs: words, a category or a target."""
        texts, cancel = self.texts, self.texts("buttons.cancel_input")
        number = ticket.number
        if action == Action.RECATEGORIZE:
            options = [
                (c, label) for c, label in self._classifier.categories if c != ticket.category
            ]
            keyboard = buttons.choices(
                ticket.id, SET_CATEGORY, options, cancel, who.telegram_id, width=3
            )
            text = texts("desk.choose_category", number=number)
        elif action == Action.REASSIGN:
            keyboard = buttons.choices(
                ticket.id,
                TRANSFER,
                await self._targets(session, ticket, who),
                cancel,
                who.telegram_id,
                width=1,
            )
            text = texts("desk.choose_target", number=number)
        else:
            await repo.set_pending_input(
                session,
                PendingInput(
                    chat_id=origin.chat_id,
                    telegram_id=who.telegram_id,
                    ticket_id=ticket.id,
                    action=action.value,
                    at=self._clock.now(),
                ),
            )
            picks: list[tuple[str, str]] = []
            if action == Action.ANSWER:
                picks = [(str(i), a.title) for i, a in self._answers.for_category(ticket.category)]
            keyboard = buttons.choices(ticket.id, PICK, picks, cancel, who.telegram_id)
            text = texts(f"desk.prompt_{action.value}", name=who.name, number=number)
        return self._messages.to_admins(view, text, keyboard, chat_id=origin.chat_id)

    async def _targets(
        self, session: AsyncSession, ticket: Ticket, who: Mover
    ) -> list[tuple[str, str]]:
        """Where a ticket can be transferred: the other villages of its township and their
        cadres, and the cadres of its own place."""
        township = self._places.at_level(ticket.place_id, Level.TOWNSHIP.value)
        villages = [
            p
            for p in self._places.villages
            if township is not None and p.parent_id == township.id and p.id != ticket.place_id
        ]
        options: list[tuple[str, str]] = [
            (f"p.{p.id}", self.texts("desk.target_place", place=p.name)) for p in villages
        ]
        # The cadres who could take it over: of its place and its grids, up to the place that
        # handles it now (a township ticket can go to a township officer, not a village cadre).
        chain = self._places.chain(ticket.place_id)
        handling = self._places.at_level(ticket.place_id, ticket.level)
        upto = chain[: chain.index(handling) + 1] if handling in chain else chain[:1]
        grids = [p for p in self._places if p.parent_id == ticket.place_id]
        place_ids = [p.id for p in (*upto, *grids)]
        handling_id = handling.id if handling else ticket.place_id
        for member in await repo.staff_in(session, place_ids):
            taker = await self._staff.member(session, member.telegram_id)
            if (
                member.telegram_id != who.telegram_id
                and taker is not None
                and self._staff.covers(taker, handling_id)
            ):
                role = self.texts(f"role.{member.role}")
                label = self.texts("desk.target_person", name=member.display_name, role=role)
                options.append((f"s.{member.telegram_id}", label))
        return options

    async def _second_step(
        self,
        session: AsyncSession,
        origin: Origin,
        ticket: Ticket,
        who: Mover,
        pressed: buttons.Pressed,
    ) -> Html:
        arg = pressed.arg or ""
        move: Move
        if pressed.action == SET_CATEGORY:
            if arg not in dict(self._classifier.categories):
                raise ActionRefused("errors.unknown_category")
            action, move = Action.RECATEGORIZE, Move(category=arg)
        elif pressed.action == TRANSFER:
            action, move = Action.REASSIGN, await self._transfer(session, ticket, arg)
        else:
            answer = self._answers.get(int(arg), ticket.category) if arg.isdigit() else None
            if answer is None:
                raise ActionRefused("errors.no_common_answer")
            action, move = Action.ANSWER, Move(text=answer.text)
            await repo.drop_pending_input(session, origin.chat_id, who.telegram_id or 0)
        view = await self._tickets.move(session, ticket, action, who, True, move)
        done = self._done(view, action, who)
        await self._outbox.put(session, [self._messages.edit(origin, done)])
        return self.texts(f"action.{action.value}")

    async def _transfer(self, session: AsyncSession, ticket: Ticket, arg: str) -> Move:
        kind, _, target = arg.partition(".")
        if kind == "p":
            place = self._places.get(target)
            township = self._places.at_level(ticket.place_id, Level.TOWNSHIP.value)
            if (
                place is None
                or place.level != "village"
                or township is None
                or place.parent_id != township.id
            ):
                raise ActionRefused("errors.no_target")
            return Move(to_place=place.id)
        if kind == "s" and target.isdigit():
            member = await self._staff.member(session, int(target))
            handling = self._places.at_level(ticket.place_id, ticket.level)
            if member is not None and self._staff.covers(
                member, handling.id if handling else ticket.place_id
            ):
                return Move(
                    to_person=Mover(Role(member.role), member.telegram_id, member.display_name)
                )
        raise ActionRefused("errors.no_target")

    def _done(self, view: TicketView, action: Action, who: Mover) -> Html:
        return self.texts(
            "desk.done",
            number=view.number,
            action=self.texts(f"action.{action.value}"),
            name=who.name,
        )

    # --- words from cadres in admin chats ------------------------------------------------------

    async def take_words(
        self,
        person: Person,
        origin: Origin,
        text: str,
        photos: tuple[str, ...] = (),
        reply_to: int | None = None,
    ) -> None:
        """A cadre's message in an admin chat: the words a pressed action waits for, or, as a
        reply to the bot's card or a message about a ticket, an answer to the resident.
        Anything else is the cadres talking among themselves and is left alone."""
        async with self._sessions() as session:
            pending = await repo.pending_input(session, origin.chat_id, person.telegram_id)
            about = await repo.sent_about(session, origin.chat_id, reply_to) if reply_to else None
        if about is not None and (pending is None or pending.ticket_id != about[0]):
            ticket_id, action = about[0], Action.ANSWER
        elif pending is not None:
            ticket_id, action = pending.ticket_id, Action(pending.action)
        else:
            return
        waited = pending is not None and pending.ticket_id == ticket_id
        async with self._inbox.acting_on(origin) as session:
            ticket = await repo.ticket_by_id(session, ticket_id)
            if ticket is None:
                return
            words = text.strip()
            try:
                who = await self._in_charge(session, person, origin, ticket)
                if not words and not photos:
                    raise ActionRefused("errors.input_empty")
                if waited:  # a wait for another ticket goes on
                    await repo.drop_pending_input(session, origin.chat_id, person.telegram_id)
                view = await self._tickets.move(
                    session, ticket, action, who, True, Move(words, photos)
                )
            except DeskError as refused:
                if not waited or refused.text_key == "errors.input_empty":
                    raise
                # The ticket moved on while these words were awaited: the wait ends here and
                # the refusal is told once (else every later message would draw it again).
                await repo.drop_pending_input(session, origin.chat_id, person.telegram_id)
                said = self.texts(refused.text_key, **refused.values)
                await self._outbox.put(session, [self._messages.say(origin, said)])
                return
            # The prompts asking for these words are answered: the newest now says what was
            # done, older ones lose their buttons. Answered by a reply to the card, the card's
            # own refresh shows it: no further message in a chat Telegram paces.
            spent = sorted(await repo.prompts_with_buttons(session, origin.chat_id, ticket.id))
            done = self._done(view, action, who)
            await self._outbox.put(
                session,
                [
                    self._messages.settle_prompt(
                        origin.chat_id, mid, done if mid == spent[-1] else None
                    )
                    for mid in spent
                ],
            )

    # --- lists and look-ups --------------------------------------------------------------------

    async def listing(self, person: Person, origin: Origin, listing: Listing) -> None:
        """/open /mine /overdue /find in an admin chat."""
        async with self._inbox.acting_on(origin) as session:
            member = await self._cadre(session, person, origin)
            chat_place = self._places.place_of_admin_chat(origin.chat_id)
            if chat_place is None or not self._staff.covers(member, chat_place.id):
                # A chat's list is for the cadres who answer for its place.
                raise ActionRefused("errors.not_in_charge")
            statuses = [s.value for s in ACTIVE]
            title = self.texts(f"desk.title_{listing.name}", words=" ".join(listing.words))
            match listing.name:
                case "open":
                    found = await repo.tickets_where(
                        session, statuses=statuses, admin_chat_id=origin.chat_id, limit=LIST_LIMIT
                    )
                case "mine":
                    found = await repo.tickets_where(
                        session, statuses=statuses, handler=person.telegram_id, limit=LIST_LIMIT
                    )
                case "overdue":
                    found = await repo.tickets_where(
                        session,
                        statuses=[Status.OPEN.value, Status.ACCEPTED.value],
                        admin_chat_id=origin.chat_id,
                        due_before=self._clock.now(),
                        limit=LIST_LIMIT,
                    )
                case _:
                    covered = [p.id for p in self._places if self._staff.covers(member, p.id)]
                    number = _number_in(listing.words)
                    words = () if number else listing.words
                    found = await repo.tickets_where(
                        session,
                        statuses=[s.value for s in Status],
                        place_ids=covered,
                        words=words,
                        number=number,
                        limit=FIND_SCAN if words else LIST_LIMIT,
                    )
                    found = _shown_matches(found, words)
            tickets, total = found
            views = await self._tickets.views(session, tickets)
            text = self._list_text(title, views, total)
            await self._outbox.put(session, [self._messages.say(origin, text)])

    def _list_text(self, title: str, views: Sequence[TicketView], total: int) -> Html:
        texts, now = self.texts, self._clock.now()
        if not views:
            return Html(
                f"{texts('desk.list_header', title=title, count=0)}\n{texts('desk.list_empty')}"
            )
        lines = [texts("desk.list_header", title=title, count=total)]
        for v in views:
            late = v.status in ("open", "accepted") and v.due_at < now
            lines.append(
                texts(
                    "desk.list_line",
                    number=v.number,
                    status=render.status(texts, v.status),
                    category=v.category_label,
                    due=render.due(texts, v.due_at, self._tz, now, v.urgent),
                    overdue=texts("desk.list_overdue") if late else "",
                )
            )
        if total > len(views):
            lines.append(texts("desk.list_more", count=total - len(views)))
        return Html("\n".join(lines))

    async def show(self, person: Person, origin: Origin, raw_number: str) -> None:
        """/ticket N in an admin chat: the card with its buttons and the whole timeline,
        notes included, for a cadre whose jurisdiction covers the ticket's place."""
        async with self._inbox.acting_on(origin) as session:
            member = await self._cadre(session, person, origin)
            number = parse_number(raw_number)
            ticket = await repo.ticket_by_number(session, number)
            if ticket is None or not self._staff.covers(member, ticket.place_id):
                raise TicketNotFound(number=number)
            view = await self._view(session, ticket)
            events = await repo.events_of(session, ticket.id)
            # A copy for the asker, not the ticket's card: the card stays where the ticket is
            # handled (a CARD would be recorded as the ticket's card once sent).
            card = replace(self._messages.card(view, origin.chat_id)[0], purpose=Purpose.PROMPT)
            await self._outbox.put(
                session,
                [card, self._messages.say(origin, self._timeline(events), purpose=Purpose.PROMPT)],
            )

    def _timeline(self, events: Sequence[TicketEvent]) -> Html:
        """The whole timeline for cadres: who did what, with the words they gave."""
        texts = self.texts
        actions, roles = texts.section("action"), texts.section("role")
        shown = events[-TIMELINE_LIMIT:]
        lines = [texts("desk.timeline_header")]
        if len(events) > len(shown):
            lines.append(texts("desk.timeline_more", count=len(events) - len(shown)))
        for e in shown:
            detail = e.detail or {}
            who = roles.get(e.actor, html_escape(e.actor))
            if detail.get("by"):
                who = Html(f"{who} {html_escape(detail['by'])}")
            said = str(detail.get("text") or detail.get("reason") or "")
            lines.append(
                texts(
                    "desk.timeline_line",
                    at=render.when(texts, e.at, self._tz),
                    who=who,
                    action=actions.get(e.action, html_escape(e.action)),
                    detail=f":{said[:120]}" if said else "",
                )
            )
        return Html("\n".join(lines))

    # --- residents: ratings and what they say back -------------------------------------------

    async def rate(
        self, person: Person, origin: Origin, ticket_id: int, answer: int, value: str
    ) -> Html:
        """满意 / 基本满意 / 不满意 on an answer: the reporter's moves the ticket (不满意
        reopens it, the third time at one level escalates it); a supporter's is recorded and
        may change until the ticket moves on."""
        try:
            rating = Rating(value)
        except ValueError:
            raise StaleDraft from None
        async with self._inbox.acting_on(origin) as session:
            ticket = await repo.ticket_by_id(session, ticket_id)
            people = dict(await repo.people_of(session, ticket)) if ticket else {}
            if ticket is None or person.telegram_id not in people:
                raise ActionRefused("errors.not_yours")
            if ticket.status != Status.ANSWERED.value or ticket.answers != answer:
                raise ActionRefused("errors.rating_closed")
            reporter = people[person.telegram_id]
            now = self._clock.now()
            row = await repo.rating_of(session, ticket.id, answer, person.telegram_id)
            if row is None:
                session.add(
                    RatingRow(
                        ticket_id=ticket.id,
                        answer=answer,
                        resident_telegram_id=person.telegram_id,
                        rating=rating.value,
                        at=now,
                    )
                )
            else:
                row.rating, row.at = rating.value, now
            label = self.texts(f"rating.{rating.value}")
            if reporter:
                who = Mover(Role.RESIDENT, person.telegram_id)
                view = await self._tickets.move(
                    session, ticket, Action.RATE, who, True, Move(rating=rating)
                )
                keyboard: buttons.Keyboard = ()
            else:
                await self._tickets.add_event(
                    session,
                    ticket.id,
                    Role.RESIDENT.value,
                    "supporter_rated",
                    person.telegram_id,
                    {"rating": rating.value},
                )
                view = await self._view(session, ticket)
                keyboard = buttons.rating(self.texts, ticket.id, answer, [r.value for r in Rating])
            key = (
                "notice.rated_unsatisfied"
                if rating == Rating.UNSATISFIED and reporter
                else "notice.rated"
            )
            thanks = self.texts(key, rating=label)
            relay = self.texts("desk.relay_rating", number=view.number, rating=label, comment="")
            await self._outbox.put(
                session,
                [
                    self._messages.edit(origin, thanks, keyboard),
                    *self._messages.to_admins(view, relay, purpose=Purpose.RELAY),
                ],
            )
            return label

    async def from_resident(
        self,
        person: Person,
        origin: Origin,
        reply_to: int,
        text: str,
        photos: tuple[str, ...] = (),
    ) -> bool:
        """A resident's reply to the bot's message about one of their tickets: it attaches to
        that ticket and goes to its cadres (a comment on their rating, when it answers the
        rating). False when the message is not about a ticket of theirs: a new draft, then."""
        async with self._sessions() as session:
            about = await repo.sent_about(session, origin.chat_id, reply_to)
            ticket = await repo.ticket_by_id(session, about[0]) if about else None
            people = dict(await repo.people_of(session, ticket)) if ticket else {}
        if about is None or ticket is None or person.telegram_id not in people:
            return False
        async with self._inbox.acting_on(origin) as session:
            ticket = await repo.fresh_ticket(session, ticket.id)
            assert ticket is not None
            now = self._clock.now()
            session.add(
                TicketMessage(
                    ticket_id=ticket.id,
                    at=now,
                    direction="in",
                    chat_id=origin.chat_id,
                    telegram_message_id=origin.message_id,
                    author_telegram_id=person.telegram_id,
                    text=text,
                    photo_file_id=photos[0] if photos else None,
                )
            )
            view = await self._view(session, ticket)
            rating = await repo.latest_rating_of(session, ticket.id, person.telegram_id)
            if (
                about[1] in (Purpose.ANSWER.value, Purpose.RATED.value)
                and rating is not None
                and not rating.comment
            ):
                rating.comment = text[:1000]
                label = self.texts(f"rating.{rating.rating}")
                # An anonymous reporter's comment is masked as their report is on the card.
                hidden = people[person.telegram_id] and ticket.anonymous
                comment = self.texts("desk.rating_comment", text=mask_pii(text) if hidden else text)
                relay = self.texts(
                    "desk.relay_rating", number=view.number, rating=label, comment=comment
                )
                thanks = self.texts("notice.comment_saved", number=view.number)
                event = "rating_comment"
            else:
                relay = None
                thanks = self.texts("notice.relayed", number=view.number)
                event = "relayed_in"
            await self._tickets.add_event(
                session,
                ticket.id,
                Role.RESIDENT.value,
                event,
                person.telegram_id,
                {"photos": len(photos)},
            )
            relayed = (
                self._messages.to_admins(view, relay, purpose=Purpose.RELAY, photos=photos)
                if relay is not None
                else self._messages.relay_in(
                    view, person.display_name, people[person.telegram_id], text, photos
                )
            )
            await self._outbox.put(session, [*relayed, self._messages.say(origin, thanks)])
        return True

    async def _view(self, session: AsyncSession, ticket: Ticket) -> TicketView:
        (view,) = await self._tickets.views(session, [ticket])
        return view


def _shown_matches(
    found: tuple[Sequence[Ticket], int], words: Sequence[str]
) -> tuple[Sequence[Ticket], int]:
    """The tickets /find may show for these words, and how many in all. An anonymous report
    matches only by what its card shows (masked): found by the name or phone a cadre guesses,
    it would say who wrote it."""
    tickets, total = found
    wanted = [w.casefold() for w in words]
    kept = [
        t
        for t in tickets
        if not t.anonymous or all(w in mask_pii(t.text).casefold() for w in wanted)
    ]
    return kept[:LIST_LIMIT], total - (len(tickets) - len(kept))


def _number_in(words: Sequence[str]) -> str | None:
    """A ticket number among the search words (then the search is for that ticket)."""
    for word in words:
        try:
            return parse_number(word)
        except BadTicketNumber:  # a word to search for
            continue
    return None
