"""One error handler: refusals become their catalogue text; failures are retried, then told."""

from __future__ import annotations

import contextlib
import html
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.delivery.dispatch import current_attempt
from bot.errors import AlreadyHandled, DeskError
from handlers.context import desk_of, origin_of

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the person what went wrong; log unexpected failures without message contents."""
    error = context.error
    if isinstance(error, AlreadyHandled):
        return  # acted on before this delivery: the answer went out then
    desk = desk_of(context)
    attempt = current_attempt.get()
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, DeskError):
        text = desk.texts(error.text_key, **error.values)
    elif attempt is not None and not attempt.last:
        # Perhaps passing (the database restarting): the dispatcher tries again.
        attempt.error = error
        log.warning(
            "update %s failed (attempt %d); will retry", update_id, attempt.number, exc_info=error
        )
        return
    else:
        if attempt is not None:
            attempt.error = error
        log.error("update %s failed", update_id, exc_info=error)
        text = desk.texts("errors.generic")
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.callback_query is not None:
        try:
            # An alert is plain text: escaped values (e.g. what the person typed) are unescaped.
            await update.callback_query.answer(html.unescape(text), show_alert=True)
        except TelegramError:
            log.warning("could not answer the button press of update %s", update.update_id)
        return
    origin = origin_of(update)
    message = desk.messages.say(origin, text)
    if isinstance(error, DeskError):
        with contextlib.suppress(AlreadyHandled):
            await desk.inbox.reply(origin, message)
    else:
        await desk.inbox.notify(message)
