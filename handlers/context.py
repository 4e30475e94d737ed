"""Small accessors shared by the handlers: the desk from bot_data, the person from an update."""

from __future__ import annotations

from typing import cast

from telegram import User
from telegram.ext import ContextTypes

from bot.desk import Desk
from bot.dto import Person

# Command → ticket kind; the same four commands work in private chats and village groups.
KIND_COMMANDS = {"ts": "complaint", "jy": "suggestion", "zx": "consultation", "qz": "help"}


def desk_of(context: ContextTypes.DEFAULT_TYPE) -> Desk:
    """The desk built in post_init."""
    return cast(Desk, context.bot_data["desk"])


def person_of(user: User) -> Person:
    """The plain-value person the desk's services take."""
    return Person(telegram_id=user.id, display_name=user.full_name)


def command_name(text: str) -> str:
    """`/ts@SomeBot rest` → `ts`."""
    return text.split(maxsplit=1)[0].lstrip("/").split("@", 1)[0].lower()
