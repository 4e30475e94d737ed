"""The baseline: the smallest python-telegram-bot Application that answers every text.

It is polled as the desk is against the emulator (no rate limiter, `poll_interval=0`), so the
intake benchmark can show what the desk costs over python-telegram-bot itself on the same
machine. By default it is PTB's own minimal bot (httpx transport, updates one at a time);
`desk_transport=True` gives it the desk's aiohttp transport, to tell the transport's share of the
difference from the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.delivery.transport import AiohttpRequest
from bot.sandbox.emulator import BotApiEmulator


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the same text."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await message.reply_text(message.text)


def build_echo_app(emu: BotApiEmulator, desk_transport: bool = False) -> Application:  # type: ignore[type-arg]
    builder = ApplicationBuilder().token(emu.token).base_url(emu.base_url)
    if desk_transport:
        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(connection_pool_size=1)
        )
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


@asynccontextmanager
async def running_echo_bot(
    emu: BotApiEmulator, poll_timeout: int = 10, desk_transport: bool = False
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Start the echo bot polling `emu`; stop it on exit."""
    app = build_echo_app(emu, desk_transport)
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
    await app.start()
    try:
        yield app
    finally:
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
