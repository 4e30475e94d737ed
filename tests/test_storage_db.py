"""Engine set-up: SQLite file folders, pragmas, in-memory sharing, session factory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, create_session_factory
from storage.models import Base, Resident

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def _create_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


async def _pragma(engine: AsyncEngine, name: str) -> object:
    async with engine.connect() as conn:
        return (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()


async def test_sqlite_file_gets_its_folder_and_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "desk.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        assert path.parent.is_dir()
        assert await _pragma(engine, "foreign_keys") == 1
        assert await _pragma(engine, "journal_mode") == "wal"
        assert await _pragma(engine, "busy_timeout") == 5000
    finally:
        await engine.dispose()
    assert path.is_file()


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
async def test_memory_database_is_shared_across_sessions(url: str) -> None:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        await _create_tables(engine)
        async with sessions() as session, session.begin():
            resident = Resident(telegram_id=7, created_at=NOW, updated_at=NOW)
            session.add(resident)
        # expire_on_commit=False: still readable after the transaction ended.
        assert resident.telegram_id == 7
        async with sessions() as session:
            assert (await session.execute(select(Resident.telegram_id))).scalar_one() == 7
    finally:
        await engine.dispose()


@pytest.mark.parametrize("memory", [True, False])
async def test_sqlite_enforces_foreign_keys(tmp_path: Path, memory: bool) -> None:
    url = "sqlite+aiosqlite://" if memory else f"sqlite+aiosqlite:///{tmp_path}/fk.db"
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        await _create_tables(engine)
        async with sessions() as session:
            session.add(
                Resident(telegram_id=1, place_id="no-such-place", created_at=NOW, updated_at=NOW)
            )
            with pytest.raises(IntegrityError, match="FOREIGN KEY"):
                await session.flush()
    finally:
        await engine.dispose()


async def test_postgresql_engine(pg_url: str) -> None:
    engine = create_engine(pg_url)
    sessions = create_session_factory(engine)
    try:
        await _create_tables(engine)
        async with sessions() as session:
            session.add(
                Resident(telegram_id=1, place_id="no-such-place", created_at=NOW, updated_at=NOW)
            )
            with pytest.raises(IntegrityError):
                await session.flush()
    finally:
        await engine.dispose()
