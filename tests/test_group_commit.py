"""A burst of group reports is stored in batches, on SQLite and PostgreSQL, with nothing lost:
contiguous numbers, a timeline and a message per ticket, villages remembered, cards recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.clock import FakeClock
from bot.desk import Desk, open_desk
from bot.dto import Person
from bot.settings import Settings
from storage import repo
from storage.models import Resident, TicketEvent, TicketMessage
from tests.conftest import CONFIG

GROUPS = {"qingxi": -1001000000102, "taoyuan": -1001000000202}
REPORTS = [
    "村口的垃圾池三天没人清运了",
    "幸福路中段有好几个大坑,下雨天积满了水",
    "村东头桥边那盏路灯坏了快一个月了",
    "建议在村小学门口装个减速带",
    "二组的养猪场污水直接排到河沟里",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def desk(database_url: str, clock: FakeClock) -> AsyncIterator[Desk]:
    opened = await open_desk(Settings(database_url=database_url, config_dir=CONFIG), clock)
    try:
        yield opened
    finally:
        await opened.close()


def _count_ticket_inserts(desk: Desk) -> list[str]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TICKETS "):
            seen.append(statement)

    event.listen(desk.engine.sync_engine, "before_cursor_execute", before)
    return seen


async def test_a_burst_is_stored_in_few_statements_and_nothing_is_lost(desk: Desk) -> None:
    inserts = _count_ticket_inserts(desk)
    people = [Person(3000 + i, f"居民{i}") for i in range(20)]
    jobs = [
        desk.intake.open_in_group(
            people[i % 20],
            GROUPS["qingxi" if i % 20 < 10 else "taoyuan"],
            REPORTS[i % len(REPORTS)],
            "complaint",
            100 + i,
        )
        for i in range(40)
    ]
    outcomes = await asyncio.gather(*jobs)
    tickets = [o.ticket for o in outcomes if o.ticket is not None]
    assert len(tickets) == 40
    assert sorted(t.number for t in tickets) == [f"2026-{n:06d}" for n in range(1, 41)]
    assert len(inserts) < 10, f"{len(inserts)} INSERTs for 40 tickets: not batched"
    stored = {t.number: t for t in await desk.tickets.all()}
    assert set(stored) == {t.number for t in tickets}
    for ticket in tickets:
        assert stored[ticket.number].text == ticket.text
        assert ticket.admin_chat_id == desk.places.admin_chat_for(ticket.place_id)
    async with desk.sessions() as session:
        for ticket in tickets:
            (created,) = await repo.events_of(session, ticket.id)
            assert created.action == "created" and created.detail["source"] == "group"
        messages = (await session.execute(select(TicketMessage.ticket_id))).scalars().all()
        assert sorted(messages) == sorted(t.id for t in tickets)
        rows = await session.execute(select(Resident.telegram_id, Resident.place_id))
    villages = {p.telegram_id: "qingxi" if i < 10 else "taoyuan" for i, p in enumerate(people)}
    assert dict(rows.all()) == villages


async def test_a_resident_keeps_the_village_they_chose(desk: Desk) -> None:
    person = Person(3100, "钱七")
    await desk.intake.set_place(person, "taoyuan")
    outcome = await desk.intake.open_in_group(person, GROUPS["qingxi"], REPORTS[0], None, 1)
    assert outcome.ticket is not None and outcome.ticket.place_id == "qingxi"
    assert await desk.intake.place_of(person) == "taoyuan"


async def test_cards_of_a_burst_are_recorded_together(desk: Desk) -> None:
    people = [Person(3200 + i, f"居民{i}") for i in range(6)]
    outcomes = await asyncio.gather(
        *(desk.intake.open_in_group(p, GROUPS["qingxi"], REPORTS[1], None, 1) for p in people)
    )
    tickets = [o.ticket for o in outcomes if o.ticket is not None]
    await asyncio.gather(
        *(desk.tickets.record_card(t.id, -1001000000101, 900 + i) for i, t in enumerate(tickets))
    )
    stored = {t.id: t for t in await desk.tickets.all()}
    assert [stored[t.id].admin_message_id for t in tickets] == [900 + i for i in range(6)]
    async with desk.sessions() as session:
        actions = (await session.execute(select(TicketEvent.ticket_id, TicketEvent.action))).all()
    assert sorted(t for t, action in actions if action == "card_posted") == sorted(stored)


async def test_a_report_for_a_vanished_ticket_fails_alone(desk: Desk) -> None:
    tickets = [
        o.ticket
        for o in await asyncio.gather(
            *(
                desk.intake.open_in_group(Person(3300 + i, "居民"), GROUPS["qingxi"], t, None, 1)
                for i, t in enumerate(REPORTS[:2])
            )
        )
        if o.ticket is not None
    ]
    results = await asyncio.gather(
        desk.tickets.record_card(tickets[0].id, -1001000000101, 1),
        desk.tickets.record_card(999_999, -1001000000101, 2),  # no such ticket: the FK refuses
        desk.tickets.record_card(tickets[1].id, -1001000000101, 3),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], Exception)
    stored = {t.id: t.admin_message_id for t in await desk.tickets.all()}
    assert stored == {tickets[0].id: 1, tickets[1].id: 3}


async def test_concurrent_previews_index_each_new_ticket_once(desk: Desk) -> None:
    """Many residents' previews at once all top up the duplicate index from the database."""
    await asyncio.gather(
        *(
            desk.intake.open_in_group(Person(3400 + i, "居民"), GROUPS["qingxi"], text, None, 1)
            for i, text in enumerate(REPORTS)
        )
    )
    added: list[int] = []
    finder = desk.intake._duplicates
    index = finder._indexes["qingxi"]
    original = index.add

    def counting_add(key: int, text: str) -> None:
        added.append(key)
        original(key, text)

    index.add = counting_add  # type: ignore[method-assign]
    hits = await asyncio.gather(
        *(finder.similar("qingxi", REPORTS[0], "environment", 3500 + i) for i in range(8))
    )
    assert sorted(added) == sorted({t.id for t in await desk.tickets.all()})
    assert all(h and h[0].text.startswith("村口的垃圾池") for h in hits)
