"""`fengqiao emulator`: the Bot API emulator as a process of its own, with its control API on.

For local testing only: the control API has no authentication (see `control.py`), so the
server binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from pathlib import Path

from bot.places import PlaceDirectory
from bot.sandbox.emulator.limits import FloodLimits
from bot.sandbox.emulator.server import BotApiEmulator

DEFAULT_TOKEN = "123456789:FENGQIAO-EMULATED"
BOT_USERNAME = "FengqiaoDeskBot"


def add_place_chats(emu: BotApiEmulator, places: PlaceDirectory) -> None:
    """Every configured chat, titled as the emulated desk names them."""
    for place in places:
        if place.admin_chat_id is not None:
            emu.group_chat(place.admin_chat_id, f"{place.name}管理群")
        if place.group_chat_id is not None:
            emu.group_chat(place.group_chat_id, f"{place.name}村民群")


async def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8081,
    config_dir: Path = Path("config"),
    limits: FloodLimits | None = None,
    token: str = DEFAULT_TOKEN,
    announce: Callable[[str], None] = print,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until `stop` is set, or SIGINT/SIGTERM when no event is given.

    `announce` gets one line with the settings the desk needs to use this emulator.
    """
    places = PlaceDirectory.load(config_dir)
    if stop is None:
        stop = _stop_on_signals()
    async with BotApiEmulator(
        token=token, bot_username=BOT_USERNAME, host=host, port=port, limits=limits, control=True
    ) as emu:
        add_place_chats(emu, places)
        announce(f"FENGQIAO_BOT_API_URL={emu.url} FENGQIAO_BOT_TOKEN={token}")
        await stop.wait()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no add_signal_handler; Ctrl-C still ends it with KeyboardInterrupt there.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def run(
    *,
    host: str,
    port: int,
    config_dir: Path,
    limits: bool,
    token: str,
) -> int:
    def announce(line: str) -> None:
        # Flushed at once: the process that started us reads this line from a pipe.
        print(line, flush=True)

    asyncio.run(
        serve(
            host=host,
            port=port,
            config_dir=config_dir,
            limits=FloodLimits() if limits else None,
            token=token,
            announce=announce,
        )
    )
    return 0
