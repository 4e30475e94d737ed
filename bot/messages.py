"""What the desk sends, as outbox messages: texts from the catalogue, buttons, priority, purpose.

The services decide *that* something is said; this module says it, so the same message reads
the same wherever it is caused from.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import buttons, render
from bot.clock import Clock
from bot.delivery.kinds import Method, Priority, Purpose
from bot.delivery.outbox import Outgoing
from bot.dto import DraftView, FaqMatch, Origin, Person, TicketView
from bot.lifecycle import Status, offered
from bot.places import PlaceInfo
from bot.texts import Html, Texts
from nlp.pii import mask_pii


class Messages:
    """Builds the outbox messages people receive; one instance per desk."""

    def __init__(self, texts: Texts, clock: Clock, tz: ZoneInfo) -> None:
        self.texts = texts
        self._clock = clock
        self._tz = tz
        # Known once the bot has asked Telegram who it is (deep links need it).
        self.bot_username = ""

    def _now(self) -> datetime:
        return self._clock.now()

    def reply(self, origin: Origin, key: str, **values: object) -> Outgoing:
        """A catalogue text answering what the person sent."""
        return Outgoing(
            origin.chat_id,
            self.texts(key, **values),
            reply_to=origin.message_id if origin.reply else None,
            priority=origin.priority,
        )

    def say(
        self,
        origin: Origin,
        text: str,
        keyboard: buttons.Keyboard | None = None,
        *,
        priority: Priority | None = None,
        purpose: Purpose = Purpose.REPLY,
        supersede_key: str | None = None,
    ) -> Outgoing:
        """A message into the chat the person wrote in, not as a reply."""
        return Outgoing(
            origin.chat_id,
            text,
            keyboard,
            priority=origin.priority if priority is None else priority,
            purpose=purpose,
            supersede_key=supersede_key,
        )

    def edit(
        self, origin: Origin, text: str | None, keyboard: buttons.Keyboard | None = ()
    ) -> Outgoing:
        """Change the message whose button was pressed (its text, or only its buttons)."""
        assert origin.message_id is not None
        return Outgoing(
            origin.chat_id,
            text or "",
            keyboard,
            method=Method.EDIT if text is not None else Method.EDIT_MARKUP,
            edit_message_id=origin.message_id,
            priority=origin.priority,
        )

    def settle_prompt(self, chat_id: int, message_id: int, text: str | None) -> Outgoing:
        """A prompt that has served its purpose: its buttons go, and its text becomes what
        was done (when given), one edit instead of an edit and a new message."""
        return Outgoing(
            chat_id,
            text or "",
            (),
            method=Method.EDIT if text else Method.EDIT_MARKUP,
            edit_message_id=message_id,
            priority=Priority.PRIVATE,
        )

    # --- private chat ----------------------------------------------------------------------

    def urgent_notice(self, origin: Origin, numbers: tuple[str, ...]) -> Outgoing:
        text = self.texts("urgent.notice", numbers=render.emergency_numbers(self.texts, numbers))
        return Outgoing(
            origin.chat_id,
            text,
            reply_to=origin.message_id if origin.reply else None,
            priority=Priority.LIFE,
            purpose=Purpose.NOTICE,
        )

    def preview(self, origin: Origin, view: DraftView) -> Outgoing:
        text = render.draft(self.texts, view, self._tz, self._now())
        # Only the newest preview of a draft matters: an older one still waiting is dropped.
        return self.say(
            origin,
            text,
            buttons.draft(self.texts, view),
            purpose=Purpose.PREVIEW,
            supersede_key=f"preview:{origin.chat_id}",
        )

    def categories(
        self, origin: Origin, view: DraftView, choices: list[tuple[str, str]]
    ) -> Outgoing:
        return self.edit(origin, None, buttons.categories(self.texts, view, choices))

    def faq_private(self, origin: Origin, view: DraftView, match: FaqMatch) -> Outgoing:
        return self.say(origin, render.faq_answer(self.texts, match), buttons.faq(self.texts, view))

    def ask_place(self, origin: Origin, villages: list[PlaceInfo]) -> Outgoing:
        return self.say(origin, self.texts("private.ask_place"), buttons.places(villages))

    def submitted(self, ticket: TicketView, chat_id: int, edit_message_id: int | None) -> Outgoing:
        """The resident's acknowledgement: the preview becomes it, or a new message."""
        text = render.submitted(self.texts, ticket, self._tz, self._now())
        return Outgoing(
            chat_id,
            text,
            () if edit_message_id is not None else None,
            method=Method.EDIT if edit_message_id is not None else Method.SEND,
            edit_message_id=edit_message_id,
            priority=Priority.URGENT if ticket.urgent else Priority.PRIVATE,
            purpose=Purpose.ACK,
            ticket_id=ticket.id,
        )

    # --- village groups --------------------------------------------------------------------

    def group_ack(self, ticket: TicketView, person: Person, origin: Origin) -> Outgoing:
        """Brief on purpose: no quote of the report, so personal details are not repeated."""
        values = {
            "name": person.first_name,
            "kind": ticket.kind_label,
            "number": ticket.number,
            "category": ticket.category_label,
            "due": render.due(self.texts, ticket.due_at, self._tz, self._now(), ticket.urgent),
        }
        if ticket.urgent:
            numbers = render.emergency_numbers(self.texts, ticket.emergency_numbers)
            text = self.texts("group.urgent_ack", number=ticket.number, numbers=numbers)
        else:
            text = self.texts("group.ack", **values)
        # The line standing for this one when the group is busy and acknowledgements combine.
        summary = self.texts("group.ack_line", user_id=person.telegram_id, **values)
        return Outgoing(
            origin.chat_id,
            text,
            buttons.continue_privately(self.texts, self.bot_username, ticket.number),
            reply_to=origin.message_id,
            priority=Priority.URGENT if ticket.urgent else Priority.GROUP,
            purpose=Purpose.GROUP_ACK,
            ticket_id=ticket.id,
            summary=summary,
        )

    def group_update(self, ticket: TicketView, chat_id: int, message_id: int | None) -> Outgoing:
        """News of a group-reported ticket in its group: the number and status only, with the
        link to the private chat where the details are."""
        text = self.texts(
            "group.ticket_update",
            number=ticket.number,
            status=render.status(self.texts, ticket.status),
        )
        return Outgoing(
            chat_id,
            text,
            buttons.continue_privately(self.texts, self.bot_username, ticket.number),
            reply_to=message_id,
            priority=Priority.GROUP,
            purpose=Purpose.TICKET_NOTICE,
            ticket_id=ticket.id,
        )

    def group_faq(self, origin: Origin, match: FaqMatch) -> Outgoing:
        return Outgoing(
            origin.chat_id,
            render.faq_answer(self.texts, match),
            buttons.group_faq(self.texts),
            reply_to=origin.message_id,
            priority=Priority.GROUP,
        )

    def combined_acks(self, lines: list[str]) -> str:
        """One group message acknowledging several reports (the group was at its limit)."""
        # The lines were rendered (and escaped) when their rows were written.
        return self.texts("group.acks", count=len(lines), lines=Html("\n".join(lines)))

    # --- cadres ----------------------------------------------------------------------------

    def card(self, ticket: TicketView, chat_id: int) -> list[Outgoing]:
        """The cadres' card, with the photos and the location under it."""
        priority = Priority.URGENT if ticket.urgent else Priority.GROUP
        summary = self.texts(
            "card.digest_line",
            mark=self.texts("card.urgent_mark") if ticket.urgent else "",
            number=ticket.number,
            category=ticket.category_label,
            kind=ticket.kind_label,
        )
        card = Outgoing(
            chat_id,
            render.card(self.texts, ticket, self._tz, self._now()),
            self.card_keyboard(ticket),
            priority=priority,
            purpose=Purpose.CARD,
            ticket_id=ticket.id,
            summary=summary,
        )
        extras = self._photos_under(
            chat_id, ticket.photo_file_ids, priority, Purpose.CARD_EXTRA, ticket.id
        )
        if ticket.latitude is not None and ticket.longitude is not None:
            extras.append(
                Outgoing(
                    chat_id,
                    method=Method.LOCATION,
                    location=(ticket.latitude, ticket.longitude),
                    priority=priority,
                    purpose=Purpose.CARD_EXTRA,
                    ticket_id=ticket.id,
                    under=0,
                )
            )
        return [card, *extras]

    def card_keyboard(self, ticket: TicketView) -> buttons.Keyboard:
        return buttons.card(
            self.texts, ticket.id, [a.value for a in offered(Status(ticket.status))]
        )

    def card_refresh(
        self, ticket: TicketView, at: tuple[int | None, int | None] | None = None
    ) -> list[Outgoing]:
        """The card re-rendered in place after a change. `at` (chat, message): a card the
        ticket has left (escalated, transferred), shown without buttons."""
        chat_id, message_id = at or (ticket.admin_chat_id, ticket.admin_message_id)
        if chat_id is None or message_id is None:
            return []
        return [
            Outgoing(
                chat_id,
                render.card(self.texts, ticket, self._tz, self._now()),
                self.card_keyboard(ticket) if at is None else (),
                method=Method.EDIT,
                edit_message_id=message_id,
                priority=Priority.GROUP,
                purpose=Purpose.CARD_REFRESH,
                ticket_id=ticket.id,
                supersede_key=f"card:{ticket.id}:{message_id}",
            )
        ]

    def to_admins(
        self,
        ticket: TicketView,
        text: str,
        keyboard: buttons.Keyboard | None = None,
        *,
        purpose: Purpose = Purpose.PROMPT,
        photos: tuple[str, ...] = (),
        chat_id: int | None = None,
    ) -> list[Outgoing]:
        """A message about the ticket into its handling chat, under its card; photos follow.

        A prompt goes before the chat's other waiting messages: a cadre who just pressed a
        button waits for it, while an admin chat may have minutes of cards queued at
        Telegram's 20 messages a minute."""
        chat = chat_id if chat_id is not None else ticket.admin_chat_id
        if chat is None:
            return []
        reply_to = ticket.admin_message_id if chat == ticket.admin_chat_id else None
        priority = Priority.PRIVATE if purpose == Purpose.PROMPT else Priority.GROUP
        first = Outgoing(
            chat,
            text,
            keyboard,
            reply_to=reply_to,
            priority=priority,
            purpose=purpose,
            ticket_id=ticket.id,
        )
        return [first, *self._photos_under(chat, photos, priority, purpose, ticket.id)]

    def to_resident(
        self,
        ticket: TicketView,
        telegram_id: int,
        text: str,
        keyboard: buttons.Keyboard | None = None,
        *,
        purpose: Purpose = Purpose.TICKET_NOTICE,
        photos: tuple[str, ...] = (),
    ) -> list[Outgoing]:
        """A message about the ticket to a resident's private chat (its id is theirs)."""
        priority = Priority.URGENT if ticket.urgent else Priority.PRIVATE
        first = Outgoing(
            telegram_id, text, keyboard, priority=priority, purpose=purpose, ticket_id=ticket.id
        )
        return [first, *self._photos_under(telegram_id, photos, priority, purpose, ticket.id)]

    def relay_in(
        self, ticket: TicketView, name: str, reporter: bool, text: str, photos: tuple[str, ...]
    ) -> list[Outgoing]:
        """A resident's words about the ticket, relayed to its cadres under the card (an
        anonymous reporter stays 匿名居民, with their contact details masked as on the card)."""
        hidden = reporter and ticket.anonymous
        shown = self.texts("card.anonymous") if hidden else name
        said = mask_pii(text) if hidden else text
        relay = self.texts("desk.relay_in", number=ticket.number, name=shown, text=said)
        return self.to_admins(ticket, relay, purpose=Purpose.RELAY, photos=photos)

    @staticmethod
    def _photos_under(
        chat_id: int, photos: tuple[str, ...], priority: Priority, purpose: Purpose, ticket_id: int
    ) -> list[Outgoing]:
        return [
            Outgoing(
                chat_id,
                method=Method.PHOTO,
                photo=file_id,
                priority=priority,
                purpose=purpose,
                ticket_id=ticket_id,
                under=0,
            )
            for file_id in photos
        ]

    def digest(self, lines: list[str]) -> str:
        """One admin-chat message listing new tickets whose cards wait for the chat's limit."""
        return self.texts("card.digest", count=len(lines), lines=Html("\n".join(lines)))
