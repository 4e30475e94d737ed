"""A burst of group reports is stored in batches, on SQLite and PostgreSQL, with nothing lost:
contiguous numbers, a timeline and a message per ticket, villages remembered, and the
acknowledgement and card of each written to the outbox in the same transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.desk import Desk
from bot.dto import Origin, Person
from bot.errors import AlreadyHandled
from bot.tickets import NewTicket
from storage import queues, repo
from storage.models import OutboxMessage, Resident, TicketEvent, TicketMessage
from tests.conftest import START

GROUPS = {"qingxi": -1001000000102, "taoyuan": -1001000000202}
REPORTS = [
    "村口的垃圾池三天没人清运了",
    "幸福路中段有好几个大坑,下雨天积满了水",
    "村东头桥边那盏路灯坏了快一个月了",
    "建议在村小学门口装个减速带",
    "二组的养猪场污水直接排到河沟里",
]


def _count_ticket_inserts(desk: Desk) -> list[str]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TICKETS "):
            seen.append(statement)

    event.listen(desk.engine.sync_engine, "before_cursor_execute", before)
    return seen


def _in_group(village: str, message_id: int, update_id: int | None = None) -> Origin:
    return Origin(update_id, GROUPS[village], message_id, private=False)


async def test_a_burst_is_stored_in_few_statements_and_nothing_is_lost(desk: Desk) -> None:
    inserts = _count_ticket_inserts(desk)
    people = [Person(3000 + i, f"居民{i}", "居民") for i in range(20)]
    await asyncio.gather(
        *(
            desk.intake.open_in_group(
                people[i % 20],
                _in_group("qingxi" if i % 20 < 10 else "taoyuan", 100 + i),
                REPORTS[i % len(REPORTS)],
                "complaint",
            )
            for i in range(40)
        )
    )
    tickets = await desk.tickets.all()
    assert [t.number for t in tickets] == [f"2026-{n:06d}" for n in range(1, 41)]
    assert len(inserts) < 10, f"{len(inserts)} INSERTs for 40 tickets: not batched"
    for ticket in tickets:
        assert ticket.admin_chat_id == desk.places.admin_chat_for(ticket.place_id)
    async with desk.sessions() as session:
        for ticket in tickets:
            (created,) = await repo.events_of(session, ticket.id)
            assert created.action == "created" and created.detail["source"] == "group"
            sent = await queues.messages_of_ticket(session, ticket.id)
            assert sorted(m.purpose for m in sent) == ["card", "group_ack"]
            (ack,) = [m for m in sent if m.purpose == "group_ack"]
            assert ack.chat_id == GROUPS[ticket.place_id] and ticket.number in ack.payload["text"]
        messages = (await session.execute(select(TicketMessage.ticket_id))).scalars().all()
        assert sorted(messages) == sorted(t.id for t in tickets)
        rows = await session.execute(select(Resident.telegram_id, Resident.place_id))
    villages = {p.telegram_id: "qingxi" if i < 10 else "taoyuan" for i, p in enumerate(people)}
    assert dict(rows.all()) == villages


async def test_a_resident_keeps_the_village_they_chose(desk: Desk) -> None:
    person = Person(3100, "钱七", "钱七")
    await desk.intake.set_place(person, Origin(None, 3100, 1, private=True), "taoyuan")
    await desk.intake.open_in_group(person, _in_group("qingxi", 1), REPORTS[0], None)
    (ticket,) = await desk.tickets.all()
    assert ticket.place_id == "qingxi"
    assert await desk.intake.place_of(person) == "taoyuan"


async def test_a_message_opens_one_ticket_however_often_it_comes(desk: Desk) -> None:
    """The same group message twice (Telegram redelivering it under a new update, or the
    FAQ's 仍需人工 pressed twice): one ticket, one acknowledgement, one card."""
    person = Person(3200, "居民", "居民")
    for round_ in range(2):
        outcomes = await asyncio.gather(
            desk.intake.open_in_group(person, _in_group("qingxi", 77), REPORTS[1], None),
            desk.intake.open_in_group(person, _in_group("qingxi", 78), REPORTS[2], None),
            return_exceptions=True,
        )
        expected = [None, None] if round_ == 0 else [AlreadyHandled, AlreadyHandled]
        assert [o if o is None else type(o) for o in outcomes] == expected
    tickets = await desk.tickets.all()
    assert len(tickets) == 2
    async with desk.sessions() as session:
        rows = (await session.execute(select(OutboxMessage.purpose))).scalars().all()
    assert sorted(rows) == ["card", "card", "group_ack", "group_ack"]


async def test_a_claimed_update_is_not_acted_on_again(desk: Desk) -> None:
    """The inbox claim: an update handled before (a retry after a crash) changes nothing."""
    await desk.inbox.store([(555, {"update_id": 555})])
    person = Person(3300, "居民", "居民")
    await desk.intake.open_in_group(person, _in_group("qingxi", 5, update_id=555), REPORTS[0], None)
    with pytest.raises(AlreadyHandled):
        await desk.intake.open_in_group(
            person, _in_group("qingxi", 6, update_id=555), REPORTS[1], None
        )
    assert len(await desk.tickets.all()) == 1
    assert await desk.inbox.pending() == []


async def test_the_card_is_recorded_on_the_ticket_once_sent(desk: Desk) -> None:
    await desk.intake.open_in_group(
        Person(3400, "居民", "居民"), _in_group("qingxi", 9), REPORTS[0], None
    )
    (ticket,) = await desk.tickets.all()
    async with desk.sessions() as session, session.begin():
        await desk.tickets.cards_posted(session, [(ticket.id, -1001000000101, 900)])
    (stored,) = await desk.tickets.all()
    assert stored.admin_message_id == 900
    async with desk.sessions() as session:
        actions = (await session.execute(select(TicketEvent.action))).scalars().all()
    assert actions == ["created", "card_posted"]


async def test_concurrent_previews_index_each_new_ticket_once(desk: Desk) -> None:
    """Many residents' previews at once all top up the duplicate index from the database."""
    await asyncio.gather(
        *(
            desk.intake.open_in_group(
                Person(3500 + i, "居民", "居民"), _in_group("qingxi", 10 + i), text, None
            )
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

    async def similar(resident: int) -> Any:
        async with desk.sessions() as session:
            return await finder.similar(session, "qingxi", REPORTS[0], "environment", resident)

    hits = await asyncio.gather(*(similar(3600 + i) for i in range(8)))
    assert sorted(added) == sorted({t.id for t in await desk.tickets.all()})
    assert all(h and h[0].text.startswith("村口的垃圾池") for h in hits)


async def test_photos_of_a_batch_go_under_their_own_cards(desk: Desk) -> None:
    """Several new tickets with photos in one transaction: each photo replies to its own card."""
    async with desk.sessions() as session, session.begin():
        residents = await repo.upsert_residents(
            session, [(3700, "居民", "qingxi"), (3701, "居民", "qingxi")], START
        )
        result = desk.classifier.classify(REPORTS[0])
        await desk.tickets.open_many(
            session,
            [
                NewTicket(
                    resident_id=residents[tid],
                    resident_telegram_id=tid,
                    resident_name="居民",
                    place_id="qingxi",
                    text=REPORTS[0],
                    result=result,
                    source="private",
                    chat_id=tid,
                    photo_file_ids=(f"photo-{tid}-a", f"photo-{tid}-b"),
                )
                for tid in (3700, 3701)
            ],
        )
    async with desk.sessions() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
    cards = {r.ticket_id: r.id for r in rows if r.purpose == "card"}
    photos = [r for r in rows if r.purpose == "card_extra"]
    assert len(cards) == 2 and len(photos) == 4
    assert all(p.parent_id == cards[p.ticket_id] for p in photos)
