"""The composition root: settings in, a ready python-telegram-bot Application out.

This is the one place where the layers meet, so it imports `handlers` to register them.
"""

from __future__ import annotations

import logging

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults

import handlers
from bot.clock import Clock
from bot.delivery.ordering import PerChatUpdateProcessor
from bot.delivery.transport import AiohttpRequest
from bot.desk import Desk, open_desk
from bot.settings import Settings
from bot.texts import Texts

log = logging.getLogger(__name__)

PRIVATE_COMMANDS = ("start", "my", "ticket", "place", "cancel", "help", "ts", "jy", "zx", "qz")
GROUP_COMMANDS = ("ts", "jy", "zx", "qz")
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def build_application(
    settings: Settings,
    clock: Clock | None = None,
    *,
    rate_limit: bool = True,
    migrate: bool = True,
) -> Application:  # type: ignore[type-arg]
    """Build the bot; the desk itself opens in post_init and closes in post_shutdown."""

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        desk = await open_desk(settings, clock, migrate=migrate)
        app.bot_data["desk"] = desk
        await _set_commands(app, desk.texts)

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        desk: Desk | None = app.bot_data.pop("desk", None)
        if desk is not None:
            await desk.close()

    builder = (
        ApplicationBuilder()
        .token(settings.token())
        .base_url(f"{settings.bot_api_url}/bot")
        .base_file_url(f"{settings.bot_api_url}/file/bot")
        # aiohttp instead of PTB's default httpx: about a third of the CPU per Bot API call.
        # Pool sizes as ApplicationBuilder's own: 256 for the bot's calls, 1 for getUpdates.
        .request(AiohttpRequest(connection_pool_size=256))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(PerChatUpdateProcessor())
    )
    if rate_limit:
        # Telegram's own flood limits; the emulator in tests and the sandbox has none.
        builder = builder.rate_limiter(AIORateLimiter())  # type: ignore[arg-type]
    app = builder.build()
    handlers.register(app)
    return app


async def _set_commands(app: Application, texts: Texts) -> None:  # type: ignore[type-arg]
    def commands(names: tuple[str, ...]) -> list[BotCommand]:
        return [BotCommand(name, texts(f"commands.{name}")) for name in names]

    await app.bot.set_my_commands(
        commands(PRIVATE_COMMANDS), scope=BotCommandScopeAllPrivateChats()
    )
    await app.bot.set_my_commands(commands(GROUP_COMMANDS), scope=BotCommandScopeAllGroupChats())


async def start_application(app: Application, poll_timeout: int = 10) -> None:  # type: ignore[type-arg]
    """Start polling without run_polling (sandbox, benchmark, tests): the same hooks run."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0.0,
        timeout=poll_timeout,
        allowed_updates=ALLOWED_UPDATES,
    )
    await app.start()


async def stop_application(app: Application) -> None:  # type: ignore[type-arg]
    """Stop what start_application started, in reverse order."""
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
