"""Village groups: the bot opens a ticket only when addressed, and answers briefly."""

from __future__ import annotations

from telegram import Message, MessageEntity, Update, User
from telegram.ext import ContextTypes

from bot import render
from handlers import keyboards
from handlers.cards import post_card
from handlers.context import KIND_COMMANDS, command_name, desk_of, person_of


async def kind_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ts /jy /zx /qz with text in a group: open a ticket of that kind."""
    message = update.effective_message
    assert message is not None and message.text is not None
    name = command_name(message.text)
    body = " ".join(context.args or [])
    if not body.strip():
        desk = desk_of(context)
        if await _configured(message, context):
            await message.reply_text(
                desk.texts("group.command_needs_text", example=desk.texts(f"examples.{name}"))
            )
        return
    await _open(message, context, body, KIND_COMMANDS[name])


async def addressed_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plain group text: acted on only when it mentions the bot or replies to it."""
    message = update.effective_message
    assert message is not None and message.text is not None
    body = _body(message, context.bot.username)
    if body is None:
        return
    if not body.strip():
        if await _configured(message, context):
            await message.reply_text(desk_of(context).texts("group.mention_needs_text"))
        return
    await _open(message, context, body, None)


async def _open(
    message: Message, context: ContextTypes.DEFAULT_TYPE, body: str, kind: str | None
) -> None:
    if message.from_user is None or not await _configured(message, context):
        return
    await _open_ticket(message, context, message.from_user, body, kind, offer_faq=True)


async def faq_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """已解决 / 仍需人工 under a FAQ answer in a group; only the asker may press them."""
    desk, query = desk_of(context), update.callback_query
    assert query is not None and isinstance(query.message, Message)
    question = query.message.reply_to_message
    if question is None or question.from_user is None or question.text is None:
        await query.answer(desk.texts("errors.stale_button"))
        return
    if question.from_user.id != query.from_user.id:
        await query.answer(desk.texts("faq.only_asker"), show_alert=True)
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    if query.data == keyboards.GROUP_FAQ_HUMAN:
        body = _body(question, context.bot.username) or question.text
        await _open_ticket(question, context, question.from_user, body, "consultation", False)
    else:
        await query.message.reply_text(desk.texts("faq.solved"))


async def _open_ticket(
    message: Message,
    context: ContextTypes.DEFAULT_TYPE,
    user: User,
    body: str,
    kind: str | None,
    offer_faq: bool,
) -> None:
    desk = desk_of(context)
    outcome = await desk.intake.open_in_group(
        person_of(user), message.chat_id, body, kind, message.message_id, offer_faq
    )
    if outcome.faq is not None:
        await message.reply_text(
            render.faq_answer(desk.texts, outcome.faq), reply_markup=keyboards.group_faq(desk.texts)
        )
        return
    ticket = outcome.ticket
    assert ticket is not None
    now = desk.clock.now()
    if ticket.urgent:
        numbers = render.emergency_numbers(desk.texts, ticket.emergency_numbers)
        text = desk.texts("group.urgent_ack", number=ticket.number, numbers=numbers)
    else:
        # Brief on purpose: no quote of the message, so personal details are not repeated.
        text = desk.texts(
            "group.ack",
            name=user.first_name,
            kind=ticket.kind_label,
            number=ticket.number,
            category=ticket.category_label,
            due=render.due(desk.texts, ticket.due_at, desk.settings.tz, now, ticket.urgent),
        )
    await message.reply_text(
        text,
        reply_markup=keyboards.continue_privately(desk.texts, context.bot.username, ticket.number),
    )
    await post_card(context.bot, desk, ticket)


async def _configured(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True for a village group; otherwise explain, once addressed, why nothing happens."""
    desk = desk_of(context)
    if desk.places.village_of_group(message.chat_id) is not None:
        return True
    if desk.places.place_of_admin_chat(message.chat_id) is not None:
        await message.reply_text(desk.texts("group.admin_chat_hint"))
    else:
        await message.reply_text(desk.texts("group.not_configured", chat_id=message.chat_id))
    return False


def _body(message: Message, username: str) -> str | None:
    """What the resident asks, without a leading command or the bot's @mention; None when the
    bot is not addressed."""
    text = message.text or ""
    if text.startswith("/"):
        parts = text.split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""
    replied = message.reply_to_message
    author = replied.from_user if replied is not None else None
    if author is not None and author.is_bot and author.username == username:
        return text
    mention = f"@{username}".lower()
    for value in message.parse_entities([MessageEntity.MENTION]).values():
        # Entity offsets count UTF-16 units; removing the parsed value avoids that arithmetic.
        if value.lower() == mention:
            return text.replace(value, "", 1).strip()
    return None
