"""People and places of the cadres' desk: who is staff (role and jurisdiction), invitations,
granting and revoking, chats bound to places, and bans.

Every decision about who may do what is made here, on the server. Requests from chats follow
the intake's pattern: one transaction claims the update (so a redelivery is not acted on
twice), changes the state, writes an audit event and puts the reply into the outbox.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.delivery.inbox import Inbox
from bot.delivery.outbox import Outbox, Outgoing
from bot.dto import Origin, Person
from bot.errors import BadTicketNumber, DeskError
from bot.lifecycle import STAFF, Role
from bot.messages import Messages
from bot.places import ADMIN, GROUP, PlaceDirectory, PlaceInfo, PlacesError
from bot.tickets import parse_number
from storage import people
from storage.db import after_commit
from storage.models import OneTimeCode, Staff

log = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(days=7)
INVITE = "invite"
BIND = {ADMIN: "bind_admin", GROUP: "bind_group"}  # one-time code purpose → binding purpose
INVITE_PREFIX = "inv_"  # /start inv_<code>: the deep link's payload
MAX_REASON = 500


class AuditAction:
    """What the audit trail records (AuditEvent.action)."""

    INVITE = "invite"
    INVITE_USED = "invite_used"
    GRANT = "grant"
    REVOKE = "revoke"
    REMOVE = "remove"
    BIND_CODE = "bind_code"
    BIND = "bind"
    BAN = "ban"
    UNBAN = "unban"


# --- refusals ---------------------------------------------------------------------------------


class BadRole(DeskError):
    text_key = "staff.bad_role"


class BadPlace(DeskError):
    text_key = "staff.bad_place"


class NotAllowed(DeskError):
    """Not an active admin (or staff, for bans) whose jurisdiction covers the place."""

    text_key = "staff.not_allowed"


class AdminChatOnly(DeskError):
    text_key = "staff.admin_chat_only"


class BadCode(DeskError):
    """Unknown, spent or expired: one answer for all three, so codes cannot be probed."""

    text_key = "staff.bad_code"


class NeedsReply(DeskError):
    text_key = "staff.needs_reply"


class NotStaff(DeskError):
    text_key = "staff.not_staff"


class GroupOnly(DeskError):
    text_key = "staff.bind_group_only"


class NotChatAdmin(DeskError):
    text_key = "staff.bind_not_chat_admin"


class BindRefused(DeskError):
    text_key = "staff.bind_refused"


class BanUsage(DeskError):
    text_key = "ban.usage"


class BanTicketNotFound(DeskError):
    text_key = "ban.ticket_not_found"


# --- plain values -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffMember:
    """An active staff member: what decisions about permissions are made from."""

    telegram_id: int
    display_name: str
    role: Role
    place_id: str


@dataclass(frozen=True)
class StaffListing:
    """A staff member as `fengqiao staff list` prints them."""

    member: StaffMember
    since: datetime


def parse_role(raw: str | None) -> Role:
    """A staff role by its value (grid, cadre, township, county, admin) or BadRole."""
    value = (raw or "").strip().lower()
    role = next((r for r in STAFF if r.value == value), None)
    if role is None:
        raise BadRole(roles=", ".join(r.value for r in STAFF))
    return role


def new_code() -> str:
    """A random code for a deep link or a /bind command (URL-safe, 22 characters)."""
    return secrets.token_urlsafe(16)


def _member(row: Staff | None) -> StaffMember | None:
    if row is None or not row.active or row.role not in {r.value for r in STAFF}:
        return None
    return StaffMember(row.telegram_id, row.display_name, Role(row.role), row.place_id)


class StaffService:
    """Staff, invitations, chat bindings and bans."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        places: PlaceDirectory,
        inbox: Inbox,
        outbox: Outbox,
        messages: Messages,
        bot_username: str | None = None,
    ) -> None:
        """`bot_username`: for invitation links made before the bot asked Telegram its name."""
        self._sessions = sessions
        self._clock = clock
        self._places = places
        self._inbox = inbox
        self._outbox = outbox
        self._messages = messages
        self._bot_username = bot_username

    # --- who is staff --------------------------------------------------------------------------

    async def member(self, session: AsyncSession, telegram_id: int) -> StaffMember | None:
        """The active staff member with this Telegram id, inside the caller's transaction."""
        return _member(await people.active_staff(session, telegram_id))

    def covers(self, member: StaffMember, place_id: str) -> bool:
        """Whether the place lies in the member's jurisdiction. A grid worker serves their
        village's tickets: residents report to the village, not to a grid."""
        reach = member.place_id
        if member.role == Role.GRID:
            village = self._places.village_for(member.place_id)
            reach = village.id if village is not None else reach
        return self._places.covers(reach, place_id)

    async def listing(self) -> list[StaffListing]:
        """Every active staff member, by place and role."""
        async with self._sessions() as session:
            rows = await people.list_staff(session)
        return [
            StaffListing(member, row.created_at)
            for row in rows
            if (member := _member(row)) is not None
        ]

    # --- invitations ---------------------------------------------------------------------------

    def invite_link(self, code: str) -> str | None:
        """The deep link that registers whoever opens it, once the bot's username is known."""
        username = self._messages.bot_username or self._bot_username
        return f"https://t.me/{username}?start={INVITE_PREFIX}{code}" if username else None

    async def create_invite(
        self, role: str, place_id: str, actor_telegram_id: int | None = None
    ) -> str:
        """An operator's invitation (`fengqiao staff invite`): the new one-time code."""
        parsed, place = parse_role(role), self._place(place_id)
        async with self._sessions() as session, session.begin():
            return await self._new_invite(session, parsed, place, actor_telegram_id)

    async def invite(
        self, person: Person, origin: Origin, role: str | None, place_id: str | None
    ) -> None:
        """/invite ROLE [PLACE] in an admin chat: a one-time link for the new member."""
        async with self._inbox.acting_on(origin) as session:
            chat_place, admin = await self._admin_in_chat(session, person, origin)
            parsed = parse_role(role)
            place = self._place(place_id) if place_id else chat_place
            self._require_covers(admin, place.id)
            code = await self._new_invite(session, parsed, place, person.telegram_id)
            link = self.invite_link(code) or f"/start {INVITE_PREFIX}{code}"
            message = self._messages.reply(
                origin,
                "staff.invited",
                role=self._role_label(parsed),
                place=place.name,
                link=link,
                days=CODE_LIFETIME.days,
            )
            await self._outbox.put(session, [message])

    async def redeem(self, person: Person, origin: Origin, code: str) -> None:
        """/start inv_<code> in a private chat: the person becomes staff as the code says."""
        async with self._inbox.acting_on(origin) as session:
            now = self._clock.now()
            spent = await people.spend_code(session, code, [INVITE], person.telegram_id, now)
            if spent is None or spent.role is None or self._places.get(spent.place_id) is None:
                raise BadCode
            role = parse_role(spent.role)
            await people.put_staff(
                session, person.telegram_id, person.display_name, role, spent.place_id, now
            )
            await self._audit(
                session,
                person.telegram_id,
                AuditAction.INVITE_USED,
                _staff_subject(person.telegram_id),
                role=role.value,
                place=spent.place_id,
                invited_by=spent.created_by,
            )
            await self._outbox.put(session, [self._welcome(origin, role, spent.place_id)])
        log.info("an invitation was used: %s at %s", role.value, spent.place_id)

    async def _new_invite(
        self, session: AsyncSession, role: Role, place: PlaceInfo, actor: int | None
    ) -> str:
        code = await self._new_code(session, INVITE, place.id, actor, role)
        await self._audit(session, actor, AuditAction.INVITE, f"place:{place.id}", role=role.value)
        return code

    # --- granting and revoking -----------------------------------------------------------------

    async def grant(
        self,
        person: Person,
        origin: Origin,
        target: Person | None,
        role: str | None,
        place_id: str | None,
    ) -> None:
        """/grant ROLE [PLACE] as a reply to the person's message, in an admin chat."""
        async with self._inbox.acting_on(origin) as session:
            chat_place, admin = await self._admin_in_chat(session, person, origin)
            if target is None:
                raise NeedsReply(command="/grant")
            parsed = parse_role(role)
            place = self._place(place_id) if place_id else chat_place
            self._require_covers(admin, place.id)
            # Moving someone from another jurisdiction needs a say over that one too.
            current = await self.member(session, target.telegram_id)
            if current is not None:
                self._require_covers(admin, current.place_id)
            await people.put_staff(
                session, target.telegram_id, target.display_name, parsed, place.id, self._now()
            )
            await self._audit(
                session,
                person.telegram_id,
                AuditAction.GRANT,
                _staff_subject(target.telegram_id),
                role=parsed.value,
                place=place.id,
                before=current.role.value if current else None,
            )
            message = self._messages.reply(
                origin,
                "staff.granted",
                name=target.display_name,
                role=self._role_label(parsed),
                place=place.name,
            )
            await self._outbox.put(session, [message])

    async def revoke(self, person: Person, origin: Origin, target: Person | None) -> None:
        """/revoke as a reply to the person's message, in an admin chat."""
        async with self._inbox.acting_on(origin) as session:
            _, admin = await self._admin_in_chat(session, person, origin)
            if target is None:
                raise NeedsReply(command="/revoke")
            current = await self.member(session, target.telegram_id)
            if current is None:
                raise NotStaff(name=target.display_name)
            self._require_covers(admin, current.place_id)
            await people.deactivate_staff(session, target.telegram_id, self._now())
            await self._audit(
                session,
                person.telegram_id,
                AuditAction.REVOKE,
                _staff_subject(target.telegram_id),
                role=current.role.value,
                place=current.place_id,
            )
            message = self._messages.reply(origin, "staff.revoked", name=target.display_name)
            await self._outbox.put(session, [message])

    async def remove(self, telegram_id: int) -> bool:
        """`fengqiao staff remove`: False when the person is not active staff."""
        async with self._sessions() as session, session.begin():
            current = await self.member(session, telegram_id)
            if current is None:
                return False
            await people.deactivate_staff(session, telegram_id, self._now())
            await self._audit(
                session,
                None,
                AuditAction.REMOVE,
                _staff_subject(telegram_id),
                role=current.role.value,
                place=current.place_id,
            )
        return True

    # --- chats bound to places -----------------------------------------------------------------

    async def create_bind_code(self, place_id: str, purpose: str = ADMIN) -> str:
        """`fengqiao places bind-code`: a one-time code for /bind in the chat to link."""
        place = self._place(place_id)
        try:
            # Chat 0 serves no place: this checks only that the place can have such a chat.
            self._places.check_bind(place.id, purpose, 0)
        except PlacesError:
            raise BindRefused() from None
        async with self._sessions() as session, session.begin():
            code = await self._new_code(session, BIND[purpose], place.id, None)
            await self._audit(
                session, None, AuditAction.BIND_CODE, f"place:{place.id}", purpose=purpose
            )
        return code

    async def bind(self, person: Person, origin: Origin, code: str, chat_admin: bool) -> None:
        """/bind CODE in a group, by one of its Telegram administrators: the group becomes the
        place's admin chat or residents' group (stored, and at once in the live directory)."""
        if origin.private:
            raise GroupOnly
        if not chat_admin:
            raise NotChatAdmin
        if not code:
            raise BadCode
        async with self._inbox.acting_on(origin) as session:
            now = self._now()
            spent = await people.spend_code(session, code, BIND.values(), origin.chat_id, now)
            if spent is None:
                raise BadCode
            purpose = next(p for p, c in BIND.items() if c == spent.purpose)
            try:
                place = self._places.check_bind(spent.place_id, purpose, origin.chat_id)
            except PlacesError:
                raise BindRefused() from None
            await people.bind_chat(session, place.id, purpose, origin.chat_id, now)
            await self._audit(
                session,
                person.telegram_id,
                AuditAction.BIND,
                f"chat:{origin.chat_id}",
                place=place.id,
                purpose=purpose,
            )
            after_commit(
                session, "bind_chat", [(place.id, purpose, origin.chat_id)], self._apply_bound
            )
            key = "staff.bound_admin" if purpose == ADMIN else "staff.bound_group"
            await self._outbox.put(session, [self._messages.reply(origin, key, place=place.name)])

    async def apply_bindings(self) -> int:
        """Put the stored bindings into the live directory (when the desk opens); a binding
        that no longer fits the configured places is skipped with a warning."""
        async with self._sessions() as session:
            rows = await people.chat_bindings(session)
        return self._apply([(row.place_id, row.purpose, row.chat_id) for row in rows])

    def _apply_bound(self, bindings: list[tuple[str, str, int]]) -> None:
        self._apply(bindings)

    def _apply(self, bindings: Sequence[tuple[str, str, int]]) -> int:
        applied = 0
        for place_id, purpose, chat_id in bindings:
            try:
                self._places.bind(place_id, purpose, chat_id)
                applied += 1
            except PlacesError as exc:
                log.warning("chat binding of %s (%s) not applied: %s", place_id, purpose, exc)
        return applied

    # --- bans ----------------------------------------------------------------------------------

    async def ban(
        self, person: Person, origin: Origin, words: str, card_message_id: int | None
    ) -> None:
        """/ban NUMBER [reason], or /ban [reason] replying to a ticket's card: the ticket's
        reporter may still write, but what they write is kept and opens no tickets."""
        await self._ban(person, origin, words, card_message_id, lift=False)

    async def unban(
        self, person: Person, origin: Origin, words: str, card_message_id: int | None
    ) -> None:
        """/unban NUMBER, or /unban replying to a ticket's card."""
        await self._ban(person, origin, words, card_message_id, lift=True)

    async def _ban(
        self, person: Person, origin: Origin, words: str, card: int | None, lift: bool
    ) -> None:
        async with self._inbox.acting_on(origin) as session:
            actor = await self._staff_in_chat(session, person, origin)
            first, _, rest = words.strip().partition(" ")
            try:
                number: str | None = parse_number(first) if first else None
            except BadTicketNumber:
                if card is None:
                    raise
                number = None
            reason = (rest if number else words).strip()[:MAX_REASON]
            if number is not None:
                reporter = await people.reporter_of_number(session, number)
            elif card is not None:
                reporter = await people.reporter_of_card(session, origin.chat_id, card)
            else:
                raise BanUsage(command="/unban" if lift else "/ban")
            if reporter is None:
                raise BanTicketNotFound(number=number or "")
            self._require_covers(actor, reporter.place_id)
            now = self._now()
            if lift:
                changed = await people.lift_ban(session, reporter.telegram_id)
                key = "ban.lifted" if changed else "ban.not_banned"
            else:
                changed = await people.put_ban(
                    session, reporter.telegram_id, person.telegram_id, reason, now
                )
                key = "ban.done" if changed else "ban.already"
            await self._audit(
                session,
                person.telegram_id,
                AuditAction.UNBAN if lift else AuditAction.BAN,
                _staff_subject(reporter.telegram_id),
                ticket=reporter.number,
                reason=reason,
                changed=changed,
            )
            message = self._messages.reply(origin, key, number=reporter.number)
            await self._outbox.put(session, [message])

    # --- helpers -------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._clock.now()

    def _place(self, place_id: str) -> PlaceInfo:
        place = self._places.get(place_id.strip())
        if place is None:
            valid = ", ".join(f"{p.id}({p.name})" for p in self._places)
            raise BadPlace(place=place_id.strip()[:64], places=valid)
        return place

    def _chat_place(self, origin: Origin) -> PlaceInfo:
        """The place whose admin chat the request came from; cadre commands work only there."""
        place = self._places.place_of_admin_chat(origin.chat_id)
        if place is None:
            raise AdminChatOnly
        return place

    async def _staff_in_chat(
        self, session: AsyncSession, person: Person, origin: Origin
    ) -> StaffMember:
        self._chat_place(origin)
        member = await self.member(session, person.telegram_id)
        if member is None:
            raise NotAllowed
        return member

    async def _admin_in_chat(
        self, session: AsyncSession, person: Person, origin: Origin
    ) -> tuple[PlaceInfo, StaffMember]:
        """The admin chat's place and the person as an admin (anyone else is refused before
        their arguments are looked at); whether they cover the place concerned is checked
        once that place is known."""
        place = self._chat_place(origin)
        member = await self.member(session, person.telegram_id)
        if member is None or member.role is not Role.ADMIN:
            raise NotAllowed
        return place, member

    def _require_covers(self, member: StaffMember, place_id: str) -> None:
        if not self.covers(member, place_id):
            raise NotAllowed

    async def _new_code(
        self,
        session: AsyncSession,
        purpose: str,
        place_id: str,
        actor: int | None,
        role: Role | None = None,
    ) -> str:
        now = self._now()
        code = new_code()
        await people.add_code(
            session,
            OneTimeCode(
                code=code,
                purpose=purpose,
                place_id=place_id,
                role=role.value if role else None,
                created_by=actor,
                created_at=now,
                expires_at=now + CODE_LIFETIME,
            ),
        )
        return code

    async def _audit(
        self,
        session: AsyncSession,
        actor: int | None,
        action: str,
        subject: str,
        **detail: object,
    ) -> None:
        await people.audit(session, self._now(), actor, action, subject, dict(detail))

    def _role_label(self, role: Role) -> str:
        return self._messages.texts(f"staff.roles.{role.value}")

    def _welcome(self, origin: Origin, role: Role, place_id: str) -> Outgoing:
        texts = self._messages.texts
        return self._messages.reply(
            origin,
            "staff.welcome",
            role=self._role_label(role),
            place=self._places.name(place_id),
            abilities=texts(f"staff.abilities.{role.value}"),
        )


def _staff_subject(telegram_id: int) -> str:
    return f"person:{telegram_id}"
