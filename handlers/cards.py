"""The sending side towards cadres: a new ticket's card in its village's admin chat."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import TelegramError

from bot import render
from bot.desk import Desk
from bot.dto import TicketView

log = logging.getLogger(__name__)


async def post_card(bot: Bot, desk: Desk, ticket: TicketView) -> None:
    """Post the card; a failure is logged and kept in the timeline, the ticket stays stored."""
    chat_id = ticket.admin_chat_id
    if chat_id is None:
        log.warning("ticket %s: place %s has no admin chat", ticket.number, ticket.place_id)
        await desk.tickets.record(ticket.id, "system", "card_failed", {"reason": "no admin chat"})
        return
    text = render.card(desk.texts, ticket, desk.settings.tz, desk.clock.now())
    try:
        message = await bot.send_message(chat_id, text)
        for file_id in ticket.photo_file_ids:
            await bot.send_photo(chat_id, file_id, reply_to_message_id=message.message_id)
        if ticket.latitude is not None and ticket.longitude is not None:
            await bot.send_location(
                chat_id,
                latitude=ticket.latitude,
                longitude=ticket.longitude,
                reply_to_message_id=message.message_id,
            )
    except TelegramError as exc:
        log.warning("ticket %s: card to chat %s failed: %s", ticket.number, chat_id, exc)
        await desk.tickets.record(ticket.id, "system", "card_failed", {"reason": str(exc)})
        return
    await desk.tickets.record_card(ticket.id, chat_id, message.message_id)


async def refresh_card(bot: Bot, desk: Desk, ticket: TicketView) -> None:
    """Re-render the card after a change (e.g. a new supporter); a failed edit is only logged."""
    if ticket.admin_chat_id is None or ticket.admin_message_id is None:
        return
    text = render.card(desk.texts, ticket, desk.settings.tz, desk.clock.now())
    try:
        await bot.edit_message_text(text, ticket.admin_chat_id, ticket.admin_message_id)
    except TelegramError as exc:
        log.warning("ticket %s: card update failed: %s", ticket.number, exc)
