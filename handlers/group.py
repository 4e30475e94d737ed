"""Village groups: the bot opens a ticket only when addressed, and answers briefly."""

from __future__ import annotations

from telegram import Message, MessageEntity, Update
from telegram.ext import ContextTypes

from bot import buttons
from handlers import cadres
from handlers.context import (
    KIND_COMMANDS,
    command_body,
    command_name,
    desk_of,
    origin_of,
    person_of,
)


async def kind_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ts /jy /zx /qz with text in a group: open a ticket of that kind."""
    message = update.effective_message
    assert message is not None and message.text is not None
    name, body = command_name(message.text), command_body(message.text)
    if not await _usable(update, context):
        return
    if not body:
        desk = desk_of(context)
        await _answer(
            update, context, "group.command_needs_text", example=desk.texts(f"examples.{name}")
        )
        return
    await _open(update, context, body, KIND_COMMANDS[name])


async def addressed_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plain group text: in an admin chat, perhaps words for a ticket; in a village group,
    acted on only when it mentions the bot or replies to it."""
    message = update.effective_message
    assert message is not None and message.text is not None
    if cadres.is_admin_chat(update, context):
        await cadres.words(update, context)
        return
    body = _body(message, context.bot.username)
    if body is None or not await _usable(update, context):
        return
    if not body:
        await _answer(update, context, "group.mention_needs_text")
        return
    await _open(update, context, body, None)


async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo in an admin chat may go with an answer; in village groups photos are left be."""
    if cadres.is_admin_chat(update, context):
        await cadres.words(update, context)


async def _open(
    update: Update, context: ContextTypes.DEFAULT_TYPE, body: str, kind: str | None
) -> None:
    user = update.effective_user
    assert user is not None
    await desk_of(context).intake.open_in_group(person_of(user), origin_of(update), body, kind)


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
    body = _body(question, context.bot.username) or question.text
    await desk.intake.group_faq_choice(
        person_of(query.from_user),
        origin_of(update, query.message),
        origin_of(update, question),
        body,
        human=query.data == buttons.GROUP_FAQ_HUMAN,
    )
    await query.answer()


async def _usable(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True for a village group and a person writing as themselves; otherwise explain why
    nothing happens (the bot was addressed)."""
    desk, message = desk_of(context), update.effective_message
    assert message is not None
    if desk.places.village_of_group(message.chat_id) is None:
        if desk.places.place_of_admin_chat(message.chat_id) is not None:
            await _answer(update, context, "group.admin_chat_hint")
        else:
            await _answer(update, context, "group.not_configured", chat_id=message.chat_id)
        return False
    if message.sender_chat is not None or message.from_user is None:
        # An anonymous admin or a channel: there is no person to answer or to follow up with.
        await _answer(update, context, "group.anonymous")
        return False
    return True


async def _answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, **values: object
) -> None:
    desk, origin = desk_of(context), origin_of(update)
    await desk.inbox.reply(origin, desk.messages.reply(origin, key, **values))


def _body(message: Message, username: str) -> str | None:
    """What the resident asks, without a leading command or the bot's @mention; None when the
    bot is not addressed."""
    text = message.text or ""
    if text.startswith("/"):
        return command_body(text)
    replied = message.reply_to_message
    author = replied.from_user if replied is not None else None
    if author is not None and author.is_bot and author.username == username:
        return text.strip()
    mention = f"@{username}".lower()
    for value in message.parse_entities([MessageEntity.MENTION]).values():
        # Entity offsets count UTF-16 units; removing the parsed value avoids that arithmetic.
        if value.lower() == mention:
            return text.replace(value, "", 1).strip()
    return None
