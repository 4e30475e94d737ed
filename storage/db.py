"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
from sqlalchemy.orm import Session
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
        # hide_parameters: an error message must not carry a resident's words into the logs.
        return create_async_engine(sa_url, pool_pre_ping=True, hide_parameters=True)

    memory = is_sqlite_memory(sa_url)
    kwargs: dict[str, Any] = {}
    if memory:
        # One shared connection, or every checkout would see a fresh empty database.
        kwargs["poolclass"] = StaticPool
    else:
        assert sa_url.database is not None
        Path(sa_url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # SQLite has one writer at a time. One connection per process makes this process's
        # transactions queue in order here, instead of many connections racing for the file
        # lock under load and failing with "database is locked" after the busy timeout.
        kwargs.update(pool_size=1, max_overflow=0, pool_timeout=60)
    engine = create_async_engine(sa_url, hide_parameters=True, **kwargs)

    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # The driver's own deferred BEGIN is switched off; on_begin below takes over.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # SQLite ignores foreign keys unless asked, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        if not memory:
            # WAL lets the web board read while the bot writes; the timeout queues writers.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # In WAL mode NORMAL cannot corrupt the file; a power cut may lose the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    def on_begin(connection: Any) -> None:
        # Updates are handled concurrently: a deferred transaction that read first and writes
        # later fails at once with SQLITE_BUSY when another writer got in between, whatever the
        # busy timeout. Taking the write lock at BEGIN makes writers queue instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "begin", on_begin)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (handlers read them afterwards)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def after_commit(
    session: AsyncSession, key: str, items: Iterable[Any], callback: Callable[[list[Any]], None]
) -> None:
    """Collect `items` under `key` on the session; once its transaction commits, `callback`
    gets all of them. Nothing is called if the transaction rolls back."""
    pending: list[Any] | None = session.info.get(key)
    if pending is not None:
        pending.extend(items)
        return
    session.info[key] = list(items)

    def committed(sync_session: Session) -> None:
        callback(sync_session.info.pop(key, []))

    def rolled_back(sync_session: Session, _previous: Any) -> None:
        sync_session.info.pop(key, None)

    event.listen(session.sync_session, "after_commit", committed, once=True)
    event.listen(session.sync_session, "after_soft_rollback", rolled_back, once=True)
