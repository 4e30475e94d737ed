"""The whole desk running against the shipped Bot API emulator: for the sandbox, bench and tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from telegram.ext import Application

from bot.app import build_application, delivery_of, start_application, stop_application
from bot.clock import Clock
from bot.delivery.limits import Limits
from bot.desk import Desk
from bot.places import PlaceDirectory
from bot.sandbox.emulator import BotApiEmulator, Chat, FloodLimits
from bot.settings import Settings

TOKEN = "123456789:FENGQIAO-EMULATED"
BOT_USERNAME = "FengqiaoDeskBot"
# No pacing at all: for an emulator without limits (tests of behaviour, the sandbox).
UNLIMITED = Limits(
    total=1_000_000, private=1_000_000, group=1_000_000, group_burst=1_000_000, margin=0.0
)


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
    limits: Limits | None = None,
    emulator_limits: FloodLimits | None = None,
) -> AsyncIterator[EmulatedDesk]:
    """Start an emulator with every configured chat, then the real Application against it.

    By default neither side has flood limits (fast tests, the sandbox); `emulator_limits`
    makes the emulator refuse like Telegram, `limits` makes the desk keep to them.
    """
    places = PlaceDirectory.load(config_dir)
    async with BotApiEmulator(
        token=TOKEN, bot_username=BOT_USERNAME, limits=emulator_limits
    ) as emu:
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
        app = build_application(
            settings, clock, limits=limits or UNLIMITED, poll_timeout=poll_timeout
        )
        await start_application(app)
        delivery, before = delivery_of(app), emu.last_update_id
        # Before the first update there is nothing to have fetched.
        emu.bot_idle = lambda last: delivery.idle(0 if last <= before else last)
        try:
            yield EmulatedDesk(emu, app, places, chats)
        finally:
            await stop_application(app)
