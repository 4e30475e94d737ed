"""The Telegram surfaces: updates in, calls on bot's services, messages and keyboards out.

`register` is the one ordered place where every handler is attached to the application.
"""

from __future__ import annotations

import contextlib

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import buttons
from handlers import cadres, errors, group, private, staff
from handlers.context import KIND_COMMANDS, desk_of

# Before every other handler: a button press must name a button its message shows.
GUARDS = -1

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS
NEW = filters.UpdateType.MESSAGE
CADRE_LISTS = ["open", "mine", "overdue", "find"]


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Attach all handlers; order matters within a group, first match wins."""
    kinds = list(KIND_COMMANDS)
    app.add_handler(TypeHandler(Update, genuine_press), group=GUARDS)
    app.add_handlers(
        [
            # The cadres' desk, in every chat: the service refuses them outside admin chats (and
            # /bind outside groups). Before the private chat's catch-all for unknown commands.
            CommandHandler("invite", staff.invite, filters=NEW),
            CommandHandler("grant", staff.grant, filters=NEW),
            CommandHandler("revoke", staff.revoke, filters=NEW),
            CommandHandler("ban", staff.ban, filters=NEW),
            CommandHandler("unban", staff.unban, filters=NEW),
            CommandHandler("bind", staff.bind, filters=NEW),
            # Private chat with a resident.
            CommandHandler("start", private.start, filters=PRIVATE & NEW),
            CommandHandler("help", private.help_command, filters=PRIVATE & NEW),
            CommandHandler("my", private.my_tickets, filters=PRIVATE & NEW),
            CommandHandler("ticket", private.ticket, filters=PRIVATE & NEW),
            # Cadres' commands: refused outside admin chats by the service (it says why).
            CommandHandler(CADRE_LISTS, cadres.listing, filters=NEW),
            CommandHandler("ticket", cadres.show, filters=GROUPS & NEW),
            CommandHandler("place", private.place, filters=PRIVATE & NEW),
            CommandHandler("cancel", private.cancel, filters=PRIVATE & NEW),
            CommandHandler(kinds, private.kind_command, filters=PRIVATE & NEW),
            MessageHandler(PRIVATE & NEW & filters.TEXT & ~filters.COMMAND, private.text),
            MessageHandler(PRIVATE & NEW & filters.PHOTO, private.photo),
            MessageHandler(PRIVATE & NEW & filters.LOCATION, private.location),
            MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, private.edited),
            MessageHandler(PRIVATE & NEW & filters.COMMAND, private.unknown_command),
            MessageHandler(PRIVATE & NEW, private.unsupported),
            CallbackQueryHandler(private.draft_button, pattern=buttons.DRAFT_PATTERN),
            CallbackQueryHandler(private.place_button, pattern=buttons.PLACE_PATTERN),
            CallbackQueryHandler(group.faq_button, pattern=buttons.GROUP_FAQ_PATTERN),
            CallbackQueryHandler(cadres.card_button, pattern=buttons.CARD_PATTERN),
            CallbackQueryHandler(cadres.rate_button, pattern=buttons.RATE_PATTERN),
            CallbackQueryHandler(private.stale_button),
            # Village groups (and chats that are not configured, once they address the bot).
            CommandHandler(kinds, group.kind_command, filters=GROUPS & NEW),
            MessageHandler(GROUPS & NEW & filters.TEXT & ~filters.COMMAND, group.addressed_text),
            MessageHandler(GROUPS & NEW & filters.PHOTO, group.photo),
        ]
    )
    app.add_error_handler(errors.on_error)


async def genuine_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Refuse callback data that is not on the pressed message's buttons.

    A client can send any callback data, but the message in the query is Telegram's copy of the
    real message: data not among its buttons was never offered to this person.
    """
    query = update.callback_query
    if query is None:
        return
    message = query.message
    shown = (
        {b.callback_data for row in message.reply_markup.inline_keyboard for b in row}
        if isinstance(message, Message) and message.reply_markup is not None
        else set()
    )
    if query.data not in shown:
        # Refused whether or not the answer arrives (an expired query, a network error): an
        # exception here would let the other handlers act on the forged data.
        with contextlib.suppress(TelegramError):
            await query.answer(desk_of(context).texts("errors.stale_button"))
        raise ApplicationHandlerStop
