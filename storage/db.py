"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

# How long a SQLite writer waits for another one's lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 5000


def is_sqlite_memory(url: URL) -> bool:
    """True for an in-memory SQLite URL (``sqlite+aiosqlite://`` or ``.../:memory:``)."""
    return url.get_backend_name() == "sqlite" and (
        not url.database or url.database == ":memory:" or url.query.get("mode") == "memory"
    )


def create_engine(url: str) -> AsyncEngine:
    """An async engine for the URL, with SQLite made safe for a bot that writes concurrently."""
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        # pre_ping: a long-running bot outlives server restarts and idle-connection reapers.
        return create_async_engine(sa_url, pool_pre_ping=True)

    memory = is_sqlite_memory(sa_url)
    kwargs: dict[str, Any] = {}
    if memory:
        # One shared connection, or every checkout would see a fresh empty database.
        kwargs["poolclass"] = StaticPool
    else:
        assert sa_url.database is not None
        Path(sa_url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(sa_url, **kwargs)

    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        # SQLite ignores foreign keys unless asked, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        if not memory:
            # WAL lets the web board read while the bot writes; the timeout queues writers.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    event.listen(engine.sync_engine, "connect", on_connect)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (handlers read them afterwards)."""
    return async_sessionmaker(engine, expire_on_commit=False)
