"""pytest plugin: a fresh, uniquely named PostgreSQL database per test (fixture ``pg_url``).

The server is the machine's local PostgreSQL (``FENGQIAO_TEST_PG`` overrides the admin DSN).
If it is down, one start is tried; if it stays down the test is skipped on a developer's
machine but fails under CI, so a missing database can never pass CI silently.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

ADMIN_DSN = os.environ.get("FENGQIAO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
START_COMMAND = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_WAIT_S = 15.0


async def _reachable() -> str | None:
    """None if the admin database answers, else why not."""
    try:
        conn = await asyncpg.connect(ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


def _start_server() -> str:
    """Try the machine's documented start command once; returns what it said."""
    done = subprocess.run(START_COMMAND, shell=True, capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).strip() or f"exit {done.returncode}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin DSN of a reachable server, after at most one start attempt."""
    problem = asyncio.run(_reachable())
    if problem is not None:
        log.warning("PostgreSQL unreachable (%s); trying: %s", problem, START_COMMAND)
        started = _start_server()
        deadline = time.monotonic() + START_WAIT_S
        while problem is not None and time.monotonic() < deadline:
            time.sleep(0.5)
            problem = asyncio.run(_reachable())
        if problem is not None:
            reason = (
                f"PostgreSQL at {ADMIN_DSN} unreachable ({problem}); start attempt said: {started}"
            )
            if os.environ.get("CI"):
                pytest.fail(reason)
            pytest.skip(reason)
    return ADMIN_DSN


@pytest.fixture
async def pg_url(pg_server: str) -> AsyncIterator[str]:
    """A SQLAlchemy URL of an empty database made for this test and dropped after it."""
    name = f"fengqiao_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        url = make_url(pg_server).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(pg_server)
        try:
            # FORCE: a test that failed may have left a connection open.
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
