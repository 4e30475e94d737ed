"""One error handler: refusals become their catalogue text; failures are logged, not hidden."""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.errors import DeskError
from handlers.context import desk_of

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the person what went wrong; log unexpected failures without message contents."""
    error = context.error
    desk = desk_of(context)
    if isinstance(error, DeskError):
        text = desk.texts(error.text_key, **error.values)
    else:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("update %s failed", update_id, exc_info=error)
        text = desk.texts("errors.generic")
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            # An alert is plain text: escaped values (e.g. what the person typed) are unescaped.
            await update.callback_query.answer(html.unescape(text), show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    except TelegramError:
        log.warning("could not tell the person about the error of update %s", update.update_id)
