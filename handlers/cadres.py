"""Cadres in admin chats: card buttons, the words an action waits for, and their commands;
residents' rating buttons. Each callback is one call on the cadres' service."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import buttons
from bot.cadres import Listing
from handlers.context import command_body, command_name, desk_of, origin_of, person_of


async def card_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A card's button, or a choice under a prompt, pressed by a cadre."""
    desk, query = desk_of(context), update.callback_query
    assert query is not None and query.data is not None and isinstance(query.message, Message)
    pressed = buttons.parse_card_data(query.data)
    if pressed is None:
        await query.answer(desk.texts("errors.stale_button"))
        return
    done = await desk.cadres.press(
        person_of(query.from_user), origin_of(update, query.message), pressed
    )
    await query.answer(done or None)


async def rate_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """满意 / 基本满意 / 不满意 under an answer."""
    desk, query = desk_of(context), update.callback_query
    assert query is not None and query.data is not None and isinstance(query.message, Message)
    parsed = buttons.parse_rate_data(query.data)
    if parsed is None:
        await query.answer(desk.texts("errors.stale_button"))
        return
    label = await desk.cadres.rate(
        person_of(query.from_user), origin_of(update, query.message), *parsed
    )
    await query.answer(label)


async def words(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A cadre's text or photo in an admin chat: the words a pressed action waits for, or an
    answer given as a reply to a card."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    text = message.text or message.caption or ""
    photos = (message.photo[-1].file_id,) if message.photo else ()
    replied = message.reply_to_message
    await desk_of(context).cadres.take_words(
        person_of(user),
        origin_of(update),
        text,
        photos,
        replied.message_id if replied is not None else None,
    )


async def listing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/open /mine /overdue /find WORDS: the admin chat's tickets."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    name, body = command_name(message.text), command_body(message.text)
    desk, origin = desk_of(context), origin_of(update)
    # Outside admin chats the service refuses every cadre command, /find without words too.
    if name == "find" and not body and is_admin_chat(update, context):
        await desk.inbox.reply(origin, desk.messages.reply(origin, "desk.find_usage"))
        return
    await desk.cadres.listing(person_of(user), origin, Listing(name, tuple(body.split())))


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ticket N in an admin chat: the card again and the whole timeline."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    desk, origin = desk_of(context), origin_of(update)
    body = command_body(message.text)
    if not body and is_admin_chat(update, context):
        await desk.inbox.reply(origin, desk.messages.reply(origin, "desk.ticket_usage"))
        return
    await desk.cadres.show(person_of(user), origin, body)


def is_admin_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    chat = update.effective_chat
    return chat is not None and desk_of(context).places.place_of_admin_chat(chat.id) is not None
