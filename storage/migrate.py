"""Alembic migrations run from code: at bot start, from the CLI and from tests.

Alembic's commands are synchronous; here they run inside ``AsyncConnection.run_sync`` on a
connection handed to ``env.py`` through ``Config.attributes``, so they work from a running
event loop (the bot) as well as under ``asyncio.run`` (the CLI).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import create_engine, is_sqlite_memory

log = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).with_name("migrations")

# Any fixed number: PostgreSQL advisory lock that lets one bot process migrate at a time.
_PG_MIGRATION_LOCK = 7_301_944_120

# Alembic keeps its running context in module globals, so one process runs one command at a
# time; asyncio locks belong to a loop, hence one per loop.
_process_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's config without an ini file; ``env.py`` uses the connection when given."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = connection
    return config


@asynccontextmanager
async def migration_connection(url: str) -> AsyncIterator[AsyncConnection]:
    """A connection in one transaction, prepared for schema changes on either database."""
    lock = _process_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    engine = create_engine(url)
    if is_sqlite_memory(engine.url):
        log.warning("migrating an in-memory SQLite database: it vanishes with this connection")
    try:
        async with lock, engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # Batch ALTERs copy and drop tables, which live foreign keys would refuse
                # (SQLite's documented procedure); integrity is checked again below. The
                # pragma only works outside a transaction, so it goes to the driver directly.
                await conn.run_sync(_foreign_keys_off)
            await conn.begin()
            if conn.dialect.name == "postgresql":
                # Several bot processes may start together; the others wait, then find head.
                await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            yield conn
            if conn.dialect.name == "sqlite":
                broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
            await conn.commit()
    finally:
        await engine.dispose()


def _foreign_keys_off(connection: Connection) -> None:
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database's schema up to ``revision`` (creating it from nothing if empty)."""

    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with migration_connection(url) as conn:
        await conn.run_sync(run)


async def downgrade(url: str, revision: str) -> None:
    """Take the schema back to ``revision`` (``"base"`` drops every table, ``"-1"`` one step)."""

    def run(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), revision)

    async with migration_connection(url) as conn:
        await conn.run_sync(run)


async def current(url: str) -> str | None:
    """The revision the database is at, or None if it has never been migrated."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        await engine.dispose()
