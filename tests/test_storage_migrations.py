"""Migrations on SQLite and PostgreSQL: stairway, schema equals the models, UTC datetimes."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, select
from sqlalchemy.exc import StatementError

from storage.db import create_engine, create_session_factory
from storage.migrate import alembic_config, current, downgrade, upgrade
from storage.models import Base, Resident


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


HEAD = revisions()[-1]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind the desk supports."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/desk.db"
    url: str = request.getfixturevalue("pg_url")
    return url


def test_revision_chain_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD]
    assert revisions()[0] == "0001"


async def test_stairway(db_url: str) -> None:
    """Each migration goes up, comes down one step and goes up again."""
    assert await current(db_url) is None
    for revision in revisions():
        await upgrade(db_url, revision)
        assert await current(db_url) == revision
        await downgrade(db_url, "-1")
        await upgrade(db_url, revision)
        assert await current(db_url) == revision
    await downgrade(db_url, "base")
    assert await current(db_url) is None


async def test_upgraded_schema_matches_models(db_url: str) -> None:
    await upgrade(db_url)

    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


async def test_concurrent_upgrades_in_one_process(db_url: str) -> None:
    """Alembic's context is global: calls from one loop must take turns, not interleave."""
    await asyncio.gather(*(upgrade(db_url) for _ in range(3)))
    assert await current(db_url) == HEAD


# Imports first, then waits for a line on stdin, so that the processes migrate together.
MIGRATE_ON_CUE = (
    "import asyncio, sys\n"
    "from storage.migrate import upgrade\n"
    "sys.stdin.readline()\n"
    "asyncio.run(upgrade(sys.argv[1]))\n"
)


async def test_concurrent_upgrades_from_several_processes(pg_url: str) -> None:
    """Several bot processes starting at once on PostgreSQL: one migrates, the rest find head."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            MIGRATE_ON_CUE,
            pg_url,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    await asyncio.sleep(1.5)  # let every process finish importing
    results = await asyncio.wait_for(
        asyncio.gather(*(proc.communicate(b"go\n") for proc in procs)), timeout=60
    )
    for proc, (_, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 0, stderr.decode()
    assert await current(pg_url) == HEAD


async def test_utc_datetime_round_trip(db_url: str) -> None:
    await upgrade(db_url)
    engine = create_engine(db_url)
    sessions = create_session_factory(engine)
    beijing = timezone(timedelta(hours=8))
    written = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=beijing)
    try:
        async with sessions() as session, session.begin():
            session.add(Resident(telegram_id=1, created_at=written, updated_at=written))
        async with sessions() as session:
            resident = (await session.execute(select(Resident))).scalar_one()
            assert resident.created_at == written
            assert resident.created_at.tzinfo is UTC
            assert resident.created_at.hour == 1
            # Comparisons in SQL see the same instant whatever zone the bound value has.
            later = written.astimezone(UTC) + timedelta(seconds=1)
            found = await session.execute(select(Resident.id).where(Resident.created_at < later))
            assert found.scalar_one() == resident.id

        naive = datetime(2026, 3, 1, 9, 30)
        async with sessions() as session:
            session.add(Resident(telegram_id=2, created_at=naive, updated_at=naive))
            with pytest.raises(StatementError, match="naive datetime"):
                await session.flush()
    finally:
        await engine.dispose()


def test_alembic_command_line_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``alembic upgrade`` / ``alembic check`` with no shared connection (developers' CLI)."""
    monkeypatch.setenv("FENGQIAO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    config = alembic_config()
    command.upgrade(config, "head")
    # Raises if autogenerate would write a migration: models and migrations agree.
    command.check(config)
