"""Small accessors shared by the handlers: the desk, the person and the origin of an update."""

from __future__ import annotations

from typing import cast

from telegram import Message, Update, User
from telegram.ext import ContextTypes

from bot.desk import Desk
from bot.dto import Origin, Person

# Command → ticket kind; the same four commands work in private chats and village groups.
KIND_COMMANDS = {"ts": "complaint", "jy": "suggestion", "zx": "consultation", "qz": "help"}


def desk_of(context: ContextTypes.DEFAULT_TYPE) -> Desk:
    """The desk built in post_init."""
    return cast(Desk, context.bot_data["desk"])


def person_of(user: User) -> Person:
    """The plain-value person the desk's services take."""
    return Person(telegram_id=user.id, display_name=user.full_name, first_name=user.first_name)


def origin_of(update: Update, message: Message | None = None) -> Origin:
    """The update, its chat and the message sent (or whose button was pressed)."""
    message = message or update.effective_message
    chat = update.effective_chat
    assert chat is not None
    return Origin(
        update_id=update.update_id,
        chat_id=chat.id,
        message_id=message.message_id if message is not None else None,
        private=chat.type == chat.PRIVATE,
    )


def command_name(text: str) -> str:
    """`/ts@SomeBot rest` → `ts`."""
    return text.split(maxsplit=1)[0].lstrip("/").split("@", 1)[0].lower()


def command_body(text: str) -> str:
    """What follows the command, line breaks kept (`context.args` would join the words)."""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""
