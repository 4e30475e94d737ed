"""Two cadres press 受理 at the same moment: exactly one wins and the other is told who has the
ticket, on SQLite and on PostgreSQL (the compare-and-set on the ticket's version)."""

from __future__ import annotations

import asyncio
import itertools

from bot import buttons
from bot.desk import Desk
from bot.dto import Origin, Person
from bot.errors import AlreadyClaimed
from bot.tickets import NewTicket
from storage import repo
from storage.models import Staff

ADMIN = -1001000000101  # qingxi's admin chat
_updates = itertools.count(1)


async def _ticket(desk: Desk) -> int:
    now = desk.clock.now()
    async with desk.sessions() as session, session.begin():
        resident = await repo.upsert_resident(session, 1001, "张三", now)
        resident.place_id = "qingxi"
        text = "村口的路灯坏了一个星期了"
        (view,) = await desk.tickets.open_many(
            session,
            [
                NewTicket(
                    resident.id,
                    1001,
                    "张三",
                    "qingxi",
                    text,
                    desk.classifier.classify(text),
                    "private",
                    1001,
                )
            ],
        )
    assert view is not None
    return view.id


async def _cadres(desk: Desk) -> None:
    now = desk.clock.now()
    async with desk.sessions() as session, session.begin():
        for uid, name in ((5001, "李主任"), (5002, "王会计")):
            session.add(
                Staff(
                    telegram_id=uid,
                    display_name=name,
                    role="cadre",
                    place_id="qingxi",
                    created_at=now,
                    updated_at=now,
                )
            )


async def _claim(desk: Desk, uid: int, ticket_id: int) -> object:
    origin = Origin(next(_updates), ADMIN, 10, private=False)
    return await desk.cadres.press(
        Person(uid, str(uid)), origin, buttons.Pressed("claim", ticket_id)
    )


async def test_two_cadres_claim_at_once_and_exactly_one_wins(desk: Desk) -> None:
    await _cadres(desk)
    for _ in range(5):
        ticket_id = await _ticket(desk)
        results = await asyncio.gather(
            _claim(desk, 5001, ticket_id), _claim(desk, 5002, ticket_id), return_exceptions=True
        )
        lost = [r for r in results if isinstance(r, AlreadyClaimed)]
        assert len(lost) == 1, results
        async with desk.sessions() as session:
            ticket = await repo.ticket_by_id(session, ticket_id)
            assert ticket is not None and ticket.status == "accepted"
            assert lost[0].values["name"] == ticket.handler_name
            events = [e.action for e in await repo.events_of(session, ticket_id)]
        assert events.count("claim") == 1
