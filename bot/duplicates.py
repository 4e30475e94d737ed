"""Same matter (同一问题?): open tickets of the village in the last 14 days like a new text.

The database is the truth; each process keeps an in-memory index of open tickets as a cache,
topped up with tickets newer than the last one it saw, and every hit is checked against the
database before it is offered, so several bot processes never offer a closed ticket.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.tickets import ACTIVE
from nlp.pii import mask_pii
from nlp.segment import Segmenter
from nlp.similarity import DuplicateIndex
from storage import repo

log = logging.getLogger(__name__)

WINDOW = timedelta(days=14)
# Text similarity alone is weak on short messages; the category the rules gave both texts is
# strong evidence, so a same-category ticket needs less textual overlap than another one.
SAME_CATEGORY_FLOOR = 0.15
OTHER_CATEGORY_FLOOR = 0.4
# Another resident's words are shown masked and short: enough to recognise the matter.
PREVIEW_CHARS = 60


@dataclass(frozen=True)
class SimilarTicket:
    """An open ticket offered as possibly the same matter."""

    id: int
    number: str
    category: str
    text: str  # masked and shortened: it is another resident's report
    created_at: datetime
    supporters: int
    score: float


class DuplicateFinder:
    """Finds open tickets of a village similar to a text."""

    def __init__(self, clock: Clock, segmenter: Segmenter, stopwords: Collection[str]) -> None:
        """`stopwords`: the config folder's list; the index must not fall back to the source
        tree's, which an installed package does not have."""
        self._clock = clock
        self._segmenter = segmenter
        self._stopwords = stopwords
        self._indexes: defaultdict[str, DuplicateIndex] = defaultdict(self._new_index)
        self._place_of: dict[int, str] = {}
        self._last_id = 0

    def _new_index(self) -> DuplicateIndex:
        return DuplicateIndex(self._segmenter, stopwords=self._stopwords)

    async def similar(
        self,
        session: AsyncSession,
        place_id: str,
        text: str,
        category: str,
        resident_telegram_id: int,
        limit: int = 3,
    ) -> list[SimilarTicket]:
        """Open tickets of the village like `text` that the resident has not opened or joined.

        Reads through the caller's session: a preview is written in the same transaction.
        """
        await self._top_up(session)
        hits = self._indexes[place_id].most_similar(
            text, limit=limit + 5, threshold=SAME_CATEGORY_FLOOR
        )
        if not hits:
            return []
        since = self._clock.now() - WINDOW
        scores = dict(hits)
        tickets = await repo.tickets_by_ids(session, list(scores))
        resident = await repo.get_resident(session, resident_telegram_id)
        own = (
            await repo.involved_ticket_ids(session, resident.id, list(scores))
            if resident
            else set()
        )
        counts = await repo.supporter_counts(session, [t.id for t in tickets])
        found: list[SimilarTicket] = []
        for ticket in tickets:
            if ticket.status not in ACTIVE or ticket.created_at < since:
                self._forget(ticket.id)  # closed or too old: never offer it again
                continue
            floor = SAME_CATEGORY_FLOOR if ticket.category == category else OTHER_CATEGORY_FLOOR
            if ticket.id in own or scores[ticket.id] < floor:
                continue
            found.append(
                SimilarTicket(
                    ticket.id,
                    ticket.number,
                    ticket.category,
                    mask_pii(ticket.text)[:PREVIEW_CHARS],
                    ticket.created_at,
                    counts.get(ticket.id, 0),
                    scores[ticket.id],
                )
            )
        found.sort(key=lambda s: -s.score)
        return found[:limit]

    async def _top_up(self, session: AsyncSession) -> None:
        since = self._clock.now() - WINDOW
        for ticket in await repo.active_tickets_after(session, self._last_id, since, ACTIVE):
            if ticket.id <= self._last_id:
                # A concurrent top-up (another resident's preview) indexed it meanwhile; adding
                # it again would re-segment it and, in a small village, reweight the index.
                continue
            self._indexes[ticket.place_id].add(ticket.id, ticket.text)
            self._place_of[ticket.id] = ticket.place_id
            self._last_id = max(self._last_id, ticket.id)

    def _forget(self, ticket_id: int) -> None:
        place_id = self._place_of.pop(ticket_id, None)
        if place_id is not None:
            self._indexes[place_id].remove(ticket_id)
