"""The whole desk running against the shipped Bot API emulator: for the sandbox, bench and tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from telegram import Update
from telegram.ext import Application, TypeHandler

from bot.app import build_application, start_application, stop_application
from bot.clock import Clock
from bot.desk import Desk
from bot.places import PlaceDirectory
from bot.sandbox.emulator import BotApiEmulator, Chat
from bot.settings import Settings

TOKEN = "123456789:FENGQIAO-EMULATED"
BOT_USERNAME = "FengqiaoDeskBot"
# Handler groups run in order; this one sees each update after the desk's handlers are done.
LAST_GROUP = 1_000


@dataclass
class EmulatedDesk:
    """A running desk, its emulator, and the emulated chats of every configured place."""

    emu: BotApiEmulator
    app: Application  # type: ignore[type-arg]
    places: PlaceDirectory
    chats: dict[int, Chat]

    @property
    def desk(self) -> Desk:
        desk: Desk = self.app.bot_data["desk"]
        return desk

    def group_of(self, village_id: str) -> Chat:
        """The residents' group of a village."""
        place = self.places.get(village_id)
        assert place is not None and place.group_chat_id is not None, village_id
        return self.chats[place.group_chat_id]

    def admin_of(self, place_id: str) -> Chat:
        """The admin chat that handles a place."""
        chat_id = self.places.admin_chat_for(place_id)
        assert chat_id is not None, place_id
        return self.chats[chat_id]


@asynccontextmanager
async def emulated_desk(
    database_url: str,
    config_dir: Path = Path("config"),
    clock: Clock | None = None,
    poll_timeout: int = 10,
) -> AsyncIterator[EmulatedDesk]:
    """Start an emulator with every configured chat, then the real Application against it."""
    places = PlaceDirectory.load(config_dir)
    async with BotApiEmulator(token=TOKEN, bot_username=BOT_USERNAME) as emu:
        chats: dict[int, Chat] = {}
        for place in places:
            if place.admin_chat_id is not None:
                chats[place.admin_chat_id] = emu.group_chat(
                    place.admin_chat_id, f"{place.name}管理群"
                )
            if place.group_chat_id is not None:
                chats[place.group_chat_id] = emu.group_chat(
                    place.group_chat_id, f"{place.name}村民群"
                )
        settings = Settings(
            bot_token=TOKEN,  # type: ignore[arg-type]
            bot_api_url=emu.url,
            database_url=database_url,
            config_dir=config_dir,
        )
        # No rate limiter: the emulator has no flood limits to respect.
        app = build_application(settings, clock, rate_limit=False)
        track_processed(app, emu)
        await start_application(app, poll_timeout=poll_timeout)
        try:
            yield EmulatedDesk(emu, app, places, chats)
        finally:
            await stop_application(app)


def track_processed(app: Application, emu: BotApiEmulator) -> None:  # type: ignore[type-arg]
    """Let `emu.settle()` wait until the application has finished every injected update.

    A handler in the last group sees each update after all others. Updates of different
    chats finish out of order, so "done" is the highest id up to which every update finished;
    a quiet period alone misleads on a busy machine.
    """
    done = [emu.last_update_id]
    finished: set[int] = set()

    async def mark(update: object, context: object) -> None:
        if isinstance(update, Update):
            finished.add(update.update_id)
            while done[0] + 1 in finished:
                done[0] += 1
                finished.discard(done[0])

    app.add_handler(TypeHandler(Update, mark), group=LAST_GROUP)
    emu.bot_idle = lambda last_update_id: done[0] >= last_update_id
