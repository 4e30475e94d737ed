"""Shared fixtures: the desk running for real against the Bot API emulator, with a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.delivery.limits import Limits
from bot.desk import Desk, open_desk
from bot.sandbox.emulated import EmulatedDesk, emulated_desk
from bot.sandbox.emulator import FloodLimits
from bot.settings import Settings

pytest_plugins = ["tests.pg"]

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
# Monday 2026-11-23 10:00 in Asia/Shanghai.
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def running(tmp_path: Path, clock: FakeClock) -> AsyncIterator[EmulatedDesk]:
    """The real Application polling the emulator over HTTP, on a fresh SQLite file."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    async with emulated_desk(url, CONFIG, clock, poll_timeout=1) as world:
        yield world


@pytest.fixture
async def limited(tmp_path: Path, clock: FakeClock) -> AsyncIterator[EmulatedDesk]:
    """As `running`, but with Telegram's flood limits on both sides: the emulator refuses
    like Telegram (429, recorded in `emu.flood_refusals`) and the desk's sender keeps to them.
    Real time: one message a second per private chat, 20 a minute per group."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    async with emulated_desk(
        url, CONFIG, clock, poll_timeout=1, limits=Limits(), emulator_limits=FloodLimits()
    ) as world:
        yield world


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on SQLite and, as a second run, on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def desk(database_url: str, clock: FakeClock) -> AsyncIterator[Desk]:
    """The desk's services on that database, without Telegram."""
    opened = await open_desk(Settings(database_url=database_url, config_dir=CONFIG), clock)
    try:
        yield opened
    finally:
        await opened.close()
