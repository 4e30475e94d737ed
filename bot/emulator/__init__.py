"""A Telegram Bot API emulator: the real python-telegram-bot Application runs against it over HTTP.

It imports nothing from `telegram`: like a real server it only speaks the Bot API's JSON.
"""

from bot.emulator.server import BotApiEmulator, CallListener, CallPredicate
from bot.emulator.types import ApiError, Call, Chat, UploadedFile, User

__all__ = [
    "ApiError",
    "BotApiEmulator",
    "Call",
    "CallListener",
    "CallPredicate",
    "Chat",
    "UploadedFile",
    "User",
]
