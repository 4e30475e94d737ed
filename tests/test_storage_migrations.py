"""Migrations on SQLite and PostgreSQL: stairway, schema equals the models, UTC datetimes."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import StatementError

from storage.db import create_engine, create_session_factory
from storage.migrate import (
    SCRIPT_LOCATION,
    alembic_config,
    current,
    downgrade,
    migration_connection,
    upgrade,
)
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
            if conn.dialect.name == "sqlite":
                # Autogenerate does not compare AUTOINCREMENT; ids that must never be reused.
                for table in Base.metadata.sorted_tables:
                    sql = await conn.scalar(
                        text("SELECT sql FROM sqlite_master WHERE name = :name"),
                        {"name": table.name},
                    )
                    wanted = bool(table.dialect_options["sqlite"]["autoincrement"])
                    assert ("AUTOINCREMENT" in sql) == wanted, table.name
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


REBUILD_TICKETS = """
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("tickets", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("probe", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets", recreate="always") as batch_op:
        batch_op.drop_column("probe")
"""


async def test_sqlite_table_rebuild_keeps_referencing_rows(tmp_path: Path) -> None:
    """A batch migration that rebuilds a referenced table works on a SQLite desk with data."""
    scripts = tmp_path / "migrations"
    shutil.copytree(SCRIPT_LOCATION, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_rebuild_tickets.py").write_text(REBUILD_TICKETS)
    url = f"sqlite+aiosqlite:///{tmp_path}/desk.db"
    await upgrade(url, "0001")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in (
                "INSERT INTO places VALUES ('v', 'V', 'village', NULL, NULL, NULL)",
                "INSERT INTO residents VALUES (1, 10, 'r', 'v', '2026-01-01', '2026-01-01')",
                "INSERT INTO tickets (id, number, resident_id, place_id, source, source_chat_id,"
                " text, category, kind, urgent, complexity, keywords, confidence, status, level,"
                " photo_file_ids, created_at, due_at) VALUES (1, '2026-000001', 1, 'v',"
                " 'private', 10, 't', 'other', 'help', 0, 'simple', '[]', 0, 'new', 'village',"
                " '[]', '2026-01-01', '2026-01-04')",
                "INSERT INTO ticket_events (ticket_id, at, actor, action, detail)"
                " VALUES (1, '2026-01-01', 'system', 'created', '{}')",
            ):
                await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()

    def run(step: Callable[[Config], None]) -> Callable[[Connection], None]:
        def on(connection: Connection) -> None:
            config = alembic_config(connection)
            config.set_main_option("script_location", str(scripts))
            step(config)

        return on

    for step in (
        lambda config: command.upgrade(config, "9999"),
        lambda config: command.downgrade(config, "0001"),
    ):
        async with migration_connection(url) as conn:
            await conn.run_sync(run(step))

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM ticket_events")) == 1
            assert await conn.scalar(text("PRAGMA foreign_keys")) == 1
    finally:
        await engine.dispose()
