"""Shared fixtures: the desk running for real against the Bot API emulator, with a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.sandbox.emulated import EmulatedDesk, emulated_desk

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
