"""The durable inbox/outbox against the emulator WITH Telegram's flood limits on both sides.

Each test is one finding of the hostile tester: a busy group starving everyone, a failed send
losing an emergency, forged button presses, redelivered updates, floods. Every flow also
checks that the emulator never had to refuse a send (`flood_refusals`): the sender keeps to
the limits instead of finding out by 429s.

Real limits mean real time: one message a second per private chat, 20 a minute per group. The
flows use many distinct users rather than many messages in one chat; where a test needs the
group pace itself, `busy` scales the group window down (see its docstring).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.delivery.limits import Limits
from bot.errors import TicketNotFound
from bot.sandbox.emulated import EmulatedDesk, emulated_desk
from bot.sandbox.emulator import Call, FloodLimits
from storage.models import TicketEvent, TicketMessage
from tests.conftest import CONFIG
from tests.support import forge_press, person, press, resident, to

FIRE = "隔壁厨房着火了,烟很大,快来人"
NOTICE = "119"  # the emergency notice names the fire number
ANON_BOT_ID = 1087968824  # GroupAnonymousBot: the sender of an anonymous admin's messages
# Group windows scaled 20x down (60 s → 3 s) for `busy`; counts, private and total unchanged.
GROUP_WINDOW = 3.0


@pytest.fixture
async def busy(tmp_path: Path, clock: FakeClock) -> AsyncIterator[EmulatedDesk]:
    """`limited` with the group window scaled from 60 s to 3 s on both sides (still 20 sends
    per window, so a group is at its limit exactly as often relative to its traffic), so a busy
    group's combined acknowledgements and the admin chat's digest play out in seconds."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    async with emulated_desk(
        url,
        CONFIG,
        clock,
        poll_timeout=1,
        limits=Limits(group_window=GROUP_WINDOW),
        emulator_limits=FloodLimits(group_window=GROUP_WINDOW),
    ) as world:
        yield world


def ok_sends(world: EmulatedDesk, chat_id: int, since: int = 0) -> list[Call]:
    """The messages the bot delivered to the chat (refused calls left out)."""
    return [
        c
        for c in world.emu.calls_since(since, "sendMessage")
        if c.ok and c.params.get("chat_id") == chat_id
    ]


async def stored_texts(world: EmulatedDesk) -> list[str]:
    """Every resident text the desk kept: on tickets and as messages about them."""
    async with world.desk.sessions() as session:
        rows = await session.execute(select(TicketMessage.text))
        return [text for (text,) in rows]


async def events(world: EmulatedDesk, ticket_id: int) -> list[str]:
    async with world.desk.sessions() as session:
        rows = await session.execute(
            select(TicketEvent.action)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.id)
        )
        return [action for (action,) in rows]


def no_refusals(world: EmulatedDesk) -> None:
    assert world.emu.flood_refusals == [], "the sender kept to Telegram's limits"


# --- 2. one busy group must not starve everyone -------------------------------------------------


async def test_a_fire_report_is_answered_at_once_during_a_group_burst(
    limited: EmulatedDesk,
) -> None:
    """200 reports from 200 members of one group over about 4 s; 2 s in, a resident reports a
    fire in private. Before the inbox/outbox it waited 349 s behind the group's replies."""
    emu, group = limited.emu, limited.group_of("qingxi")
    user, chat = await resident(limited, 3001, "张三")
    await asyncio.sleep(1.1)  # the private chat's window is free again
    members = [emu.user(30_000 + i, f"村民{i}") for i in range(200)]
    fire_at = None
    mark = emu.mark()
    for i, member in enumerate(members):
        if i == 100:
            fire_at = time.time()  # the emulator stamps calls with time.time()
            await emu.send_text(user, chat, FIRE)
        await emu.send_text(member, group, f"/ts {i}号路口的路灯坏了,晚上看不见路")
        await asyncio.sleep(0.02)
    assert fire_at is not None
    first = await emu.wait_for("sendMessage", lambda c: to(chat)(c) and c.ok, since=mark)
    waited = first.at - fire_at
    assert NOTICE in first.params["text"], "the emergency notice is the first reply"
    print(f"fire report: first reply after {waited:.2f} s")
    assert waited < 2.0, f"first reply after {waited:.2f} s"
    no_refusals(limited)


async def test_help_is_answered_at_once_behind_a_group_burst(limited: EmulatedDesk) -> None:
    """100 group reports arrive at once, then a newcomer's /help in private: the private
    chat's turn comes before the group's backlog is worked through."""
    emu, group = limited.emu, limited.group_of("taoyuan")
    for i in range(100):
        member = emu.user(31_000 + i, f"村民{i}")
        await emu.send_text(member, group, f"/ts {i}号桥边的护栏断了")
    user = emu.user(3101, "李四")
    chat = emu.private_chat(user)
    sent_at = time.time()
    await emu.send_text(user, chat, "/help")
    answer = await emu.wait_for("sendMessage", to(chat))
    assert answer.ok and "/my" in answer.params["text"]
    assert answer.at - sent_at < 2.0, f"/help answered after {answer.at - sent_at:.2f} s"
    no_refusals(limited)


# --- 3. one failed send must not lose an emergency ---------------------------------------------


@pytest.mark.parametrize(
    "fault", [{"status": 502}, {"retry_after": 2}], ids=["502", "429-retry-after"]
)
async def test_a_failed_emergency_notice_is_sent_again_and_first(
    limited: EmulatedDesk, fault: dict[str, Any]
) -> None:
    emu = limited.emu
    user, chat = await resident(limited, 3201, "王五")
    admin = limited.admin_of("qingxi")
    failing = emu.fail("sendMessage", match={"chat_id": chat.id}, **fault)
    mark = emu.mark()
    await emu.send_text(user, chat, FIRE)
    card = await emu.wait_for("sendMessage", lambda c: to(admin)(c) and c.ok, since=mark)
    assert "紧急" in card.params["text"], "the cadres are not held up by the failed notice"
    await emu.settle(timeout=15)
    (refused,) = failing.calls
    assert NOTICE in refused.params["text"], "the notice was the first send, and it failed"
    delivered = ok_sends(limited, chat.id, mark)
    assert NOTICE in delivered[0].params["text"], "after the retry the notice still comes first"
    assert [NOTICE in c.params["text"] for c in delivered].count(True) == 1
    (ticket,) = await limited.desk.tickets.all()
    assert ticket.urgent and ticket.number in delivered[1].params["text"]
    assert ticket.admin_message_id == card.response["message_id"]
    no_refusals(limited)


async def test_a_card_refused_by_a_passing_error_is_sent_again(limited: EmulatedDesk) -> None:
    emu, group = limited.emu, limited.group_of("qingxi")
    admin = limited.admin_of("qingxi")
    user = emu.user(3301, "赵六")
    failing = emu.fail("sendMessage", status=502, match={"chat_id": admin.id})
    await emu.send_text(user, group, "/ts 村口垃圾三天没人收了")
    await emu.settle(timeout=10)
    assert len(failing.calls) == 1
    (card,) = ok_sends(limited, admin.id)
    (ticket,) = await limited.desk.tickets.all()
    assert ticket.number in card.params["text"]
    assert ticket.admin_message_id == card.response["message_id"]
    assert "card_posted" in await events(limited, ticket.id)
    assert len(ok_sends(limited, group.id)) == 1, "one acknowledgement"
    no_refusals(limited)


async def test_a_card_the_admin_chat_refuses_for_good_is_noted_once(
    limited: EmulatedDesk,
) -> None:
    """403: the admin chat blocked the bot. The card is given up (a timeline event), the
    resident's ticket stands, and nothing tries again and again."""
    emu, group = limited.emu, limited.group_of("qingxi")
    admin = limited.admin_of("qingxi")
    user = emu.user(3302, "孙八")
    failing = emu.fail("sendMessage", status=403, times=50, match={"chat_id": admin.id})
    await emu.send_text(user, group, "/ts 村口垃圾三天没人收了")
    await emu.settle(timeout=10)
    await asyncio.sleep(2.5)  # past the first retry a passing error would get
    assert len(failing.calls) == 1, "a refusal for good is not retried"
    (ticket,) = await limited.desk.tickets.all()
    assert ticket.admin_message_id is None
    assert (await events(limited, ticket.id)).count("card_failed") == 1
    assert len(ok_sends(limited, group.id)) == 1, "the resident is still acknowledged"
    no_refusals(limited)


# --- 5. nobody reads another's ticket ----------------------------------------------------------

REPORT = "我叫王小明,电话13812345678,村口垃圾三天没人收了"


async def test_a_forged_join_is_refused_and_a_real_one_sees_the_ticket_masked(
    limited: EmulatedDesk,
) -> None:
    """A resident's preview offers 我也遇到 on a ticket of their village; they forge the same
    button for another village's ticket (data the message does not show). Refused, nothing
    changes; the genuine button works and shows the ticket with personal details masked."""
    emu = limited.emu
    await emu.send_text(emu.user(3501, "王小明"), limited.group_of("qingxi"), f"/ts {REPORT}")
    await emu.send_text(
        emu.user(3502, "钱七"),
        limited.group_of("taoyuan"),
        "/ts 桃源村口垃圾没人收,电话13900001111",
    )
    await emu.settle(timeout=10)
    mine, theirs = sorted(await limited.desk.tickets.all(), key=lambda t: t.place_id)
    assert (mine.place_id, theirs.place_id) == ("qingxi", "taoyuan")

    supporter, chat = await resident(limited, 3503, "李四")
    await emu.send_text(supporter, chat, "村口的垃圾堆好几天没人清运,臭死了")
    sent = await emu.wait_for("sendMessage", to(chat))
    preview = emu.message(chat, sent.response["message_id"])
    assert preview is not None
    join = dict(emu.buttons(preview))[f"🙋 我也遇到({mine.number})"]
    assert join is not None and join.startswith("d:join:")
    forged = join.rsplit(":", 1)[0] + f":{theirs.id}"
    draft = await limited.desk.intake.draft(person(supporter))
    mark = emu.mark()
    forge_press(emu, supporter, preview, forged)
    await emu.settle(timeout=10)
    (answer,) = emu.calls_since(mark, "answerCallbackQuery")
    assert "失效" in answer.params["text"], "refused as a button the message does not show"
    assert [c.method for c in emu.calls_since(mark) if c.method != "getUpdates"] == [
        "answerCallbackQuery"
    ], "nothing else was sent or edited"
    assert emu.message(chat, preview["message_id"]) == preview
    assert await limited.desk.intake.draft(person(supporter)) == draft, "the draft is untouched"
    with pytest.raises(TicketNotFound):
        await limited.desk.tickets.for_owner(supporter.id, theirs.number)

    # The genuine button: the supporter may follow the ticket, and reads it masked.
    await press(limited, supporter, chat, sent, f"🙋 我也遇到({mine.number})")
    await emu.send_text(supporter, chat, f"/ticket {mine.number}")
    detail = str((await emu.wait_for("sendMessage", to(chat))).params["text"])
    assert "138****5678" in detail and "13812345678" not in detail and "王小明" not in detail
    answers = []
    for number in (theirs.number, "2026-000099"):
        await emu.send_text(supporter, chat, f"/ticket {number}")
        reply = await emu.wait_for("sendMessage", to(chat))
        answers.append(str(reply.params["text"]).replace(number, "N"))
    assert answers[0] == answers[1], "someone else's ticket reads like a missing one"
    assert "13900001111" not in answers[0]
    no_refusals(limited)


# --- 6. a redelivered update is acted on once ---------------------------------------------------


async def test_a_redelivered_group_report_opens_one_ticket(limited: EmulatedDesk) -> None:
    emu, group = limited.emu, limited.group_of("qingxi")
    admin = limited.admin_of("qingxi")
    user = emu.user(3601, "周九")
    await emu.send_text(user, group, "/ts 村东头的路灯坏了一个月了")
    update_id = emu.last_update_id
    await emu.settle(timeout=10)
    assert emu.redeliver(update_id)
    await emu.settle(timeout=10)
    assert len(await limited.desk.tickets.all()) == 1
    assert len(ok_sends(limited, group.id)) == 1, "one acknowledgement"
    assert len(ok_sends(limited, admin.id)) == 1, "one card"
    no_refusals(limited)


async def test_a_redelivered_urgent_report_opens_one_ticket(limited: EmulatedDesk) -> None:
    emu = limited.emu
    user, chat = await resident(limited, 3602, "吴十")
    mark = emu.mark()
    await emu.send_text(user, chat, FIRE)
    update_id = emu.last_update_id
    await emu.settle(timeout=10)
    assert emu.redeliver(update_id)
    await emu.settle(timeout=10)
    assert len(await limited.desk.tickets.all()) == 1
    notices = [c for c in ok_sends(limited, chat.id, mark) if NOTICE in c.params["text"]]
    assert len(notices) == 1
    no_refusals(limited)


async def test_a_redelivered_private_text_is_not_added_twice(limited: EmulatedDesk) -> None:
    emu = limited.emu
    user, chat = await resident(limited, 3603, "郑十一")
    await emu.send_text(user, chat, "村口垃圾三天没人收了")
    update_id = emu.last_update_id
    await emu.settle(timeout=10)
    assert emu.redeliver(update_id)
    await emu.settle(timeout=10)
    draft = await limited.desk.intake.draft(person(user))
    assert draft is not None and draft.text == "村口垃圾三天没人收了"
    no_refusals(limited)


# --- 9. smaller ones ----------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["g:fhu", "g:fok"])
async def test_a_forged_faq_button_on_an_acknowledgement_opens_nothing(
    limited: EmulatedDesk, data: str
) -> None:
    """The acknowledgement replies to the asker's own report, so a forged 仍需人工 pressed on it
    by the asker would pass every check of the FAQ handler: only the guard stands in the way,
    and it must stand even when the press cannot be answered (an expired query)."""
    emu, group = limited.emu, limited.group_of("qingxi")
    user = emu.user(3901, "冯十三")
    await emu.send_text(user, group, "/ts 村口垃圾三天没人收了")
    await emu.settle(timeout=10)
    ack = emu.last_message(group)
    assert ack is not None
    assert [url.startswith("https://") for _, url in emu.buttons(ack) if url] == [True]
    mark = emu.mark()
    forge_press(emu, user, ack, data)
    await emu.settle(timeout=10)
    assert len(await limited.desk.tickets.all()) == 1, "no consultation ticket from the report"
    assert emu.message(group, ack["message_id"]) == ack, "the acknowledgement is untouched"
    sent = [c.method for c in emu.calls_since(mark) if c.method != "getUpdates"]
    assert sent == ["answerCallbackQuery"], "refused once, not retried"
    no_refusals(limited)


async def test_an_anonymous_group_admin_is_asked_to_write_as_themselves(
    limited: EmulatedDesk,
) -> None:
    emu, group = limited.emu, limited.group_of("qingxi")
    message = {
        "message_id": 77_001,
        "from": {
            "id": ANON_BOT_ID,
            "is_bot": True,
            "first_name": "Group",
            "username": "GroupAnonymousBot",
        },
        "sender_chat": {"id": group.id, "type": group.type, "title": group.title},
        "chat": {"id": group.id, "type": group.type, "title": group.title},
        "date": int(time.time()),
        "text": "/ts 村口垃圾三天没人收了",
        "entities": [{"type": "bot_command", "offset": 0, "length": 3}],
    }
    emu.inject("message", message)
    reply = await emu.wait_for("sendMessage", to(group))
    assert reply.ok and "匿名管理员" in reply.params["text"]
    await emu.settle(timeout=10)
    assert await limited.desk.tickets.all() == []
    assert ok_sends(limited, limited.admin_of("qingxi").id) == [], "no card"
    no_refusals(limited)


async def test_a_group_report_keeps_its_line_breaks(limited: EmulatedDesk) -> None:
    emu, group = limited.emu, limited.group_of("qingxi")
    user = emu.user(3902, "陈十四")
    report = "村口垃圾三天没人收了\n桥边的护栏也断了\n\n请尽快处理"
    await emu.send_text(user, group, f"/ts {report}")
    await emu.settle(timeout=10)
    (ticket,) = await limited.desk.tickets.all()
    assert ticket.text == report
    (card,) = ok_sends(limited, limited.admin_of("qingxi").id)
    assert "村口垃圾三天没人收了\n桥边的护栏也断了" in card.response["text"]
    no_refusals(limited)


# --- 8. flooding --------------------------------------------------------------------------------


async def test_one_member_flooding_a_group_opens_few_tickets_and_loses_nothing(
    limited: EmulatedDesk,
) -> None:
    """300 /ts from one member in about 3 s: the flood gate (5 reports per 2 minutes) opens
    five tickets; the rest are kept on the latest one, with one polite notice."""
    emu, group = limited.emu, limited.group_of("qingxi")
    admin = limited.admin_of("qingxi")
    user = emu.user(3801, "刘十五")
    reports = [f"第{i}件:{i}号路口的垃圾没人收" for i in range(300)]
    for report in reports:
        await emu.send_text(user, group, f"/ts {report}")
        await asyncio.sleep(0.01)
    await emu.settle(timeout=60)
    tickets = await limited.desk.tickets.all()
    assert [t.text for t in tickets] == reports[:5]
    stored = await stored_texts(limited)
    assert set(reports) <= set(stored), "every report is kept, on a ticket or as a message"
    assert len(stored) == 300, "and kept once"
    supplements = (await events(limited, tickets[-1].id)).count("supplement")
    assert supplements == 295
    group_sends = ok_sends(limited, group.id)
    notices = [c for c in group_sends if "短时间内反映了好几件事" in c.params["text"]]
    assert len(notices) == 1 and tickets[-1].number in notices[0].params["text"]
    # Five acknowledgements (the last ones combined once the group's first seconds are used)
    # and the notice.
    assert len(group_sends) <= 6
    acknowledged = " ".join(c.params["text"] for c in group_sends if c not in notices)
    assert all(t.number in acknowledged for t in tickets)
    cards = [c.params["text"] for c in ok_sends(limited, admin.id)]
    assert all(sum(f"新工单 {t.number}" in text for text in cards) == 1 for t in tickets)
    no_refusals(limited)


async def test_a_flood_in_private_does_not_lock_the_resident_out(
    limited: EmulatedDesk, clock: FakeClock
) -> None:
    """300 messages in one private chat: the draft merges them up to 3000 characters, then
    submits what it has (the village is known) and starts a new one; nothing is refused, and a
    later message still gets a preview. The chat gets 1 message a second, so the previews
    waiting in the outbox replace each other instead of queuing up."""
    emu = limited.emu
    user, chat = await resident(limited, 3802, "黄十六")
    lines = [f"第{i:03d}条:村口的垃圾堆了好几天没人清运" for i in range(300)]
    mark = emu.mark()
    for line in lines:
        await emu.send_text(user, chat, line)
        await asyncio.sleep(0.01)
    await emu.settle(timeout=60)
    replies = ok_sends(limited, chat.id, mark)
    tickets = await limited.desk.tickets.all()
    assert tickets, "the full draft was submitted"
    draft = await limited.desk.intake.draft(person(user))
    assert draft is not None
    kept = "\n".join([*(t.text for t in tickets), draft.text])
    assert kept.split("\n") == lines, "every line kept once, in order"
    assert all(len(t.text) <= 3000 for t in tickets)
    assert sum("草稿已经很长了" in c.params["text"] for c in replies) == len(tickets)
    assert sum("您发得比较快" in c.params["text"] for c in replies) == 1, "one notice"
    assert len(replies) < 30, "previews waiting for the chat replace each other"
    assert not any("失败" in c.params["text"] or "太长" in c.params["text"] for c in replies)
    mark = emu.mark()
    await emu.send_text(user, chat, "另外,桥边的路灯也坏了")
    preview = await emu.wait_for("sendMessage", to(chat), since=mark, timeout=5)
    assert "请确认您的诉求" in preview.params["text"]
    no_refusals(limited)


# --- a busy group at its limit ------------------------------------------------------------------


async def test_a_busy_group_gets_combined_acks_and_the_admin_chat_a_digest(
    busy: EmulatedDesk,
) -> None:
    """60 members report at once (group window scaled to 3 s, see `busy`). The group gets a
    few combined acknowledgements naming each member and ticket instead of 60 messages; the
    admin chat first gets a digest listing the new tickets, then every card one by one."""
    emu, group = busy.emu, busy.group_of("qingxi")
    admin = busy.admin_of("qingxi")
    members = [emu.user(4000 + i, f"村民{i:02d}") for i in range(60)]
    for i, member in enumerate(members):
        await emu.send_text(member, group, f"/ts {i}号路口的路灯坏了")
    await emu.settle(timeout=40)
    tickets = await busy.desk.tickets.all()
    assert len(tickets) == 60
    acks = [c.params["text"] for c in ok_sends(busy, group.id)]
    assert len(acks) <= 25, f"{len(acks)} group messages for 60 reports"
    assert any(text.startswith("已收到以下") for text in acks), "combined acknowledgements"
    everything = "\n".join(acks)
    for member, ticket in zip(members, tickets, strict=True):
        assert everything.count(ticket.number) == 1, ticket.number
        assert member.first_name in everything
    admin_sends = ok_sends(busy, admin.id)
    digests = [i for i, c in enumerate(admin_sends) if "新到" in c.params["text"]]
    assert digests, "a digest of the new tickets"
    cards = {
        t.number: i
        for t in tickets
        for i, c in enumerate(admin_sends)
        if t.number in c.params["text"] and "新到" not in c.params["text"]
    }
    assert sorted(cards) == sorted(t.number for t in tickets), "every card follows"
    digest = admin_sends[digests[0]].params["text"]
    listed = [t.number for t in tickets if t.number in digest]
    assert len(listed) > 1 and all(cards[n] > digests[0] for n in listed)
    assert all(t.admin_message_id is not None for t in await busy.desk.tickets.all())
    assert len(admin_sends) < 60 + 60 // 20 + 2
    no_refusals(busy)


async def test_urgent_messages_go_before_everything_waiting(busy: EmulatedDesk) -> None:
    """40 reports fill the group's and the admin chat's windows (scaled to 3 s, see `busy`);
    then someone reports a person in danger. Its card is the next message the admin chat gets,
    ahead of every card that was waiting, and the group is told at once."""
    emu, group = busy.emu, busy.group_of("qingxi")
    admin = busy.admin_of("qingxi")
    for i in range(40):
        await emu.send_text(emu.user(4100 + i, f"村民{i:02d}"), group, f"/ts {i}号路口的路灯坏了")
    await emu.wait_for(  # the admin chat's window is full
        "sendMessage", lambda c: len(ok_sends(busy, admin.id)) >= 20, since=0, timeout=10
    )
    mark, reported_at = emu.mark(), time.time()
    await emu.send_text(emu.user(4199, "王十二"), group, "/ts 有人掉河里了!快来人救命")
    await emu.settle(timeout=40)
    (urgent,) = [t for t in await busy.desk.tickets.all() if t.urgent]
    later_cards = [c.params["text"] for c in ok_sends(busy, admin.id, mark)]
    assert urgent.number in later_cards[0], "the urgent card is the next one the cadres get"
    (ack,) = [c for c in ok_sends(busy, group.id, mark) if urgent.number in c.params["text"]]
    assert "紧急" in ack.params["text"] and ack.at - reported_at < 1.5, "acknowledged at once"
    assert len(later_cards) > 10, "while many cards were still waiting"
    no_refusals(busy)
