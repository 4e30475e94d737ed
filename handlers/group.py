"""Village groups: the bot opens a ticket only when addressed, and answers briefly."""

from __future__ import annotations

from telegram import Message, MessageEntity, Update
from telegram.ext import ContextTypes

from handlers import keyboards, render
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
    body = _strip_mention(message, context.bot.username)
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
    desk = desk_of(context)
    user = message.from_user
    if user is None or not await _configured(message, context):
        return
    ticket = await desk.intake.open_in_group(
        person_of(user), message.chat_id, body, kind, message.message_id
    )
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


def _strip_mention(message: Message, username: str) -> str | None:
    """The text without the bot's @mention, or None when the bot is not addressed."""
    text = message.text or ""
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
