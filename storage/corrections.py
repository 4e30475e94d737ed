"""Cadres' category corrections, read back as labelled lines for `fengqiao nlp suggest`.

Callers own the session, as in `storage.repo`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CategoryCorrection


async def corrections_since(
    session: AsyncSession, since: datetime | None
) -> list[tuple[str, str, str]]:
    """(text, old category, new category) of every correction made at or after `since`
    (all of them when None), oldest first, so a re-corrected ticket ends on its latest label."""
    stmt = select(
        CategoryCorrection.text, CategoryCorrection.old_category, CategoryCorrection.new_category
    ).order_by(CategoryCorrection.at, CategoryCorrection.id)
    if since is not None:
        stmt = stmt.where(CategoryCorrection.at >= since)
    rows = await session.execute(stmt)
    return [(text, old, new) for text, old, new in rows.all()]
