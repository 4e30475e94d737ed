"""The composition root: settings in, a ready python-telegram-bot Application out.

This is the one place where the layers meet, so it imports `handlers` to register them. The
Application runs the handlers; fetching updates and sending messages are the desk's own
(bot/delivery/), so that nothing fetched is lost and nothing sent exceeds Telegram's limits.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults

import handlers
from bot.clock import Clock
from bot.delivery.limits import Limits
from bot.delivery.runtime import ALLOWED_UPDATES, Delivery
from bot.delivery.transport import AiohttpRequest
from bot.desk import Desk, open_desk
from bot.places import PlaceDirectory
from bot.settings import Settings
from bot.texts import Texts

log = logging.getLogger(__name__)

__all__ = ["ALLOWED_UPDATES", "build_application", "serve", "start_application", "stop_application"]

PRIVATE_COMMANDS = ("start", "my", "ticket", "place", "cancel", "help", "ts", "jy", "zx", "qz")
GROUP_COMMANDS = ("ts", "jy", "zx", "qz")
# Shown in admin chats (the menu of each chat known at start; a chat bound later gets it at
# the next start).
ADMIN_COMMANDS = ("open", "mine", "overdue", "find", "ticket", "ban", "unban", "invite")


def build_application(
    settings: Settings,
    clock: Clock | None = None,
    *,
    limits: Limits | None = None,
    migrate: bool = True,
    poll_timeout: int = 30,
) -> Application:  # type: ignore[type-arg]
    """Build the bot; the desk opens in post_init and closes in post_shutdown.

    `limits`: the flood limits the sender keeps to (Telegram's by default).
    """

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        desk = await open_desk(settings, clock, migrate=migrate)
        desk.messages.bot_username = app.bot.username
        app.bot_data["desk"] = desk
        app.bot_data["delivery"] = Delivery(app, desk, limits or Limits(), poll_timeout)
        await _set_commands(app, desk.texts, desk.places)

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        desk: Desk | None = app.bot_data.pop("desk", None)
        if desk is not None:
            await desk.close()

    app = (
        ApplicationBuilder()
        .token(settings.token())
        .base_url(f"{settings.bot_api_url}/bot")
        .base_file_url(f"{settings.bot_api_url}/file/bot")
        # aiohttp instead of PTB's default httpx: about a third of the CPU per Bot API call.
        .request(AiohttpRequest(connection_pool_size=256))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        # Updates come from the desk's own fetcher, which stores them before confirming them.
        .updater(None)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    handlers.register(app)
    return app


async def _set_commands(app: Application, texts: Texts, places: PlaceDirectory) -> None:  # type: ignore[type-arg]
    def commands(names: tuple[str, ...]) -> list[BotCommand]:
        return [BotCommand(name, texts(f"commands.{name}")) for name in names]

    await app.bot.set_my_commands(
        commands(PRIVATE_COMMANDS), scope=BotCommandScopeAllPrivateChats()
    )
    await app.bot.set_my_commands(commands(GROUP_COMMANDS), scope=BotCommandScopeAllGroupChats())
    admin = [BotCommand(name, texts(f"admin_commands.{name}")) for name in ADMIN_COMMANDS]
    for place in places:
        if place.admin_chat_id is not None:
            try:
                await app.bot.set_my_commands(admin, scope=BotCommandScopeChat(place.admin_chat_id))
            except TelegramError as error:
                # A chat the bot is not in yet: the menu is a convenience, the commands work.
                log.warning("no command menu for admin chat of %s: %s", place.id, error)


def delivery_of(app: Application) -> Delivery:  # type: ignore[type-arg]
    delivery: Delivery = app.bot_data["delivery"]
    return delivery


async def start_application(app: Application) -> None:  # type: ignore[type-arg]
    """Open the desk, start the Application, then the delivery (outbox, inbox, polling)."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    await delivery_of(app).start()


async def stop_application(app: Application) -> None:  # type: ignore[type-arg]
    """Stop what start_application started, in reverse order."""
    delivery: Delivery | None = app.bot_data.get("delivery")
    if delivery is not None:
        await delivery.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


async def serve(settings: Settings) -> None:
    """`fengqiao run`: until SIGINT or SIGTERM, then hand back what is in flight within 10 s."""
    app = build_application(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await start_application(app)
    log.info("polling %s for updates", settings.bot_api_url)
    try:
        await stop.wait()
        log.info("stopping: finishing what is in flight")
    finally:
        await stop_application(app)
