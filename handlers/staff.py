"""Cadres' commands: invitations, granting and revoking, binding chats, bans.

Each handler turns the update into one call on the desk's StaffService, which decides who may
do what (in admin chats only) and writes its answer into the outbox.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ChatMemberStatus
from telegram.ext import ContextTypes

from bot.dto import Person
from bot.staff import INVITE_PREFIX
from handlers.context import command_body, desk_of, origin_of, person_of

CHAT_ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


def is_invitation(args: list[str] | None) -> bool:
    """Whether /start carries an invitation's payload."""
    return bool(args) and args is not None and args[0].startswith(INVITE_PREFIX)


async def redeem(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start inv_<code>: the invited person becomes staff."""
    user = update.effective_user
    assert user is not None and context.args
    code = context.args[0].removeprefix(INVITE_PREFIX)
    await desk_of(context).staff.redeem(person_of(user), origin_of(update), code)


async def invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/invite ROLE [PLACE]: a one-time invitation link."""
    role, place = _two_args(context)
    await desk_of(context).staff.invite(_sender(update), origin_of(update), role, place)


async def grant(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/grant ROLE [PLACE] replying to a person's message: make them staff."""
    role, place = _two_args(context)
    await desk_of(context).staff.grant(
        _sender(update), origin_of(update), _replied_person(update), role, place
    )


async def revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/revoke replying to a person's message: they are staff no more."""
    await desk_of(context).staff.revoke(_sender(update), origin_of(update), _replied_person(update))


async def ban(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ban NUMBER [reason], or replying to a ticket's card: ban the ticket's reporter."""
    await desk_of(context).staff.ban(
        _sender(update), origin_of(update), _body(update), _replied_bot_message(update, context)
    )


async def unban(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unban NUMBER, or replying to a ticket's card: lift the reporter's ban."""
    await desk_of(context).staff.unban(
        _sender(update), origin_of(update), _body(update), _replied_bot_message(update, context)
    )


async def bind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bind CODE in a group, by a Telegram administrator of it: link the group to a place."""
    message = update.effective_message
    assert message is not None
    code = context.args[0] if context.args else ""
    await desk_of(context).staff.bind(
        _sender(update), origin_of(update), code, await _chat_admin(message, context)
    )


def _sender(update: Update) -> Person:
    user = update.effective_user
    assert user is not None
    return person_of(user)


def _two_args(context: ContextTypes.DEFAULT_TYPE) -> tuple[str | None, str | None]:
    args = context.args or []
    return (args[0] if args else None, args[1] if len(args) > 1 else None)


def _body(update: Update) -> str:
    message = update.effective_message
    assert message is not None
    return command_body(message.text or "")


def _replied_person(update: Update) -> Person | None:
    """The person whose message the command replies to (not a bot, not a channel)."""
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    author = replied.from_user if replied is not None else None
    if replied is None or author is None or author.is_bot or replied.sender_chat is not None:
        return None
    return person_of(author)


def _replied_bot_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """The id of the bot's message the command replies to (perhaps a ticket's card)."""
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        return None
    return replied.message_id


async def _chat_admin(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the sender is the group's creator or one of its administrators (asked of
    Telegram; a message sent as the group itself comes from an anonymous administrator)."""
    if message.chat.type == message.chat.PRIVATE:
        return False
    if message.sender_chat is not None:
        return message.sender_chat.id == message.chat_id
    if message.from_user is None:
        return False
    member = await context.bot.get_chat_member(message.chat_id, message.from_user.id)
    return member.status in CHAT_ADMINS
