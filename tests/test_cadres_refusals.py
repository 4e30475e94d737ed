"""Hostile tests of the cadres' desk: every press, rating, command and reply that is not the
presser's to make is refused with a clear message, and nothing changes (the ticket's status,
version and timeline, its messages and ratings, and nothing reaches the resident).

Forged presses come two ways: data that is not on the pressed message's buttons (the guard in
handlers/__init__.py stops it), and a message copy whose buttons were forged too, which only
the server's own checks can stop (bot/cadres.py)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.sandbox.emulated import EmulatedDesk, emulated_desk
from bot.sandbox.emulator import BotApiEmulator, Chat, User
from storage.models import PendingInput, Rating, Ticket, TicketEvent, TicketMessage
from tests.conftest import CONFIG
from tests.support import (
    JSON,
    answer_by_prompt,
    card_of,
    forge_press,
    last_with_buttons,
    press,
    press_on,
    resident,
    staff,
    submit,
    to,
)

LAMP = "村口的路灯坏了一个星期了,晚上走路看不见"
DITCH = "村里的排水沟堵了,污水漫到路上好几天了"
# A second township beside 青山镇, so "another township" exists.
HEXI = """
[[county.townships]]
id = "hexi-town"
name = "河西镇"
admin_chat_id = -1001000000020

[[county.townships.villages]]
id = "hexi"
name = "河西村"
admin_chat_id = -1001000000301
group_chat_id = -1001000000302
"""
TOWNSHIP_CHAT, COUNTY_CHAT, HEXI_TOWN_CHAT = -1001000000010, -1001000000001, -1001000000020

STALE = "这个按钮已经失效了"
STAFF_ONLY = "只有登记在册的干部可以操作工单"
NOT_IN_CHARGE = "您不负责这个工单所在的辖区"
NOT_NOW = "不能再做这个操作"
ADMIN_ONLY = "干部命令只能在干部管理群里使用"
NOT_YOURS = "只有提交或附议这件工单的居民可以评价"
RATING_CLOSED = "这次答复的评价已经结束"


@pytest.fixture
async def running(tmp_path: Path, clock: FakeClock) -> AsyncIterator[EmulatedDesk]:
    """The desk over the emulator, with the shipped places and a second township."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    with (config / "places.toml").open("a", encoding="utf-8") as places:
        places.write(HEXI)
    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    async with emulated_desk(url, config, clock, poll_timeout=1) as world:
        yield world


# --- helpers -----------------------------------------------------------------------------------


async def snapshot(world: EmulatedDesk, number: str) -> dict[str, Any]:
    """Everything a refused attempt must leave as it was."""
    async with world.desk.sessions() as session:
        t = (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one()

        async def count(model: Any) -> int:
            query = select(func.count()).select_from(model).where(model.ticket_id == t.id)
            return int((await session.execute(query)).scalar_one())

        ratings = (
            await session.execute(
                select(Rating.answer, Rating.resident_telegram_id, Rating.rating)
                .where(Rating.ticket_id == t.id)
                .order_by(Rating.answer, Rating.resident_telegram_id)
            )
        ).all()
        return {
            "status": t.status,
            "version": t.version,
            "level": t.level,
            "place": t.place_id,
            "category": t.category,
            "handler": t.handler_telegram_id,
            "answers": t.answers,
            "card": (t.admin_chat_id, t.admin_message_id),
            "events": await count(TicketEvent),
            "messages": await count(TicketMessage),
            "pending": await count(PendingInput),
            "ratings": [tuple(r) for r in ratings],
        }


def answers_to(emu: BotApiEmulator, query_id: str) -> list[JSON]:
    """The answers the bot gave a (forged) query, whether or not Telegram accepted them."""
    return [
        c.params
        for c in emu.calls_to("answerCallbackQuery")
        if str(c.params.get("callback_query_id")) == query_id
    ]


def forge_markup(emu: BotApiEmulator, user: User, message: JSON, data: str) -> str:
    """A press whose message copy shows the forged data among its buttons as well: it gets
    past the guard, so only the server's own checks can refuse it. Returns the query id."""
    current = dict(emu.message(message["chat"]["id"], message["message_id"]) or message)
    rows = current.get("reply_markup", {}).get("inline_keyboard", [])
    current["reply_markup"] = {"inline_keyboard": [*rows, [{"text": "x", "callback_data": data}]]}
    query_id = f"forged-{data}-{user.id}-{len(emu.calls)}"
    payload = {
        "id": query_id,
        "from": user.to_dict(),
        "message": current,
        "chat_instance": str(current["chat"]["id"]),
        "data": data,
    }
    emu.inject("callback_query", payload)
    return query_id


def alert(answer: JSON, needle: str) -> None:
    assert answer.get("show_alert") is True, answer
    assert needle in str(answer.get("text")), answer


def bot_texts(emu: BotApiEmulator, chat: Chat | int, since: int) -> list[str]:
    """What the bot said into the chat since the mark."""
    chat_id = chat.id if isinstance(chat, Chat) else chat
    return [
        str(c.params.get("text", c.params.get("caption", "")))
        for c in emu.calls_since(since)
        if c.params.get("chat_id") == chat_id
        and c.method in ("sendMessage", "sendPhoto", "editMessageText")
    ]


async def ticket_id(world: EmulatedDesk, number: str) -> int:
    return next(t.id for t in await world.desk.tickets.all() if t.number == number)


# --- people without jurisdiction ----------------------------------------------------------------


async def test_people_without_jurisdiction_press_card_buttons_in_vain(
    running: EmulatedDesk,
) -> None:
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    reporter_chat = emu.private_chat(emu.user(1001, "张三"))
    card = await card_of(running, number)
    before, mark = await snapshot(running, number), emu.mark()
    # The reporter, added to the admin chat; a stranger there; another village's cadre; a grid
    # worker of another village's grid; a township officer of another township.
    pressers = [
        (emu.user(1001, "张三"), STAFF_ONLY),
        (emu.user(7001, "路人甲"), STAFF_ONLY),
        (await staff(running, 5101, "桃源村陈书记", place="taoyuan"), NOT_IN_CHARGE),
        (await staff(running, 5102, "桃源网格员", role="grid", place="taoyuan-1"), NOT_IN_CHARGE),
        (
            await staff(running, 6101, "河西镇干部", role="township", place="hexi-town"),
            NOT_IN_CHARGE,
        ),
    ]
    for user, refusal in pressers:
        for label in ("✋ 受理", "💬 回复", "⛔ 驳回", "⬆️ 上报", "🔀 转派"):
            alert(await press_on(running, user, card, label), refusal)
    assert await snapshot(running, number) == before
    assert bot_texts(emu, reporter_chat, mark) == [], "the resident hears of nothing"
    admin = running.admin_of("qingxi")
    assert bot_texts(emu, admin, mark) == [], "no prompt, no card change"


async def test_forged_presses_are_stopped_by_the_guard_and_by_the_server(
    running: EmulatedDesk,
) -> None:
    emu = running.emu
    qingxi = await submit(running, 1001, LAMP)
    taoyuan = await submit(running, 1002, DITCH, "李四", "桃源村")
    cadre = await staff(running, 5001, "李主任")
    other = await staff(running, 5101, "桃源村陈书记", place="taoyuan")
    card = await card_of(running, qingxi)
    a, b = await ticket_id(running, qingxi), await ticket_id(running, taoyuan)
    before = [await snapshot(running, qingxi), await snapshot(running, taoyuan)]
    # Data that is not on the card's buttons: the guard refuses it.
    for data in (
        f"k:claim:{b}",  # another village's ticket, from this village's card
        f"k:close:{a}",  # 办结 on an open ticket: the card does not offer it
        f"k:to:{a}:p.hexi",  # a transfer outside the township
        f"k:pick:{a}:0",
        f"r:{a}:0:satisfied",
    ):
        _, query_id = forge_press(emu, cadre, card, data)
        await emu.settle()
        (answer,) = answers_to(emu, query_id)
        assert STALE in answer["text"], data
    # The same with the message copy forged too: the server's checks refuse each.
    for data, refusal in (
        (f"k:claim:{b}", NOT_IN_CHARGE),
        (f"k:close:{a}", "工单当前状态为「待受理」,不能再做这个操作"),
        (f"k:to:{a}:p.hexi", "没有这个转派对象"),
        (f"k:to:{a}:p.anning-county", "没有这个转派对象"),
        (f"k:to:{a}:p.qingxi-1", "没有这个转派对象"),
        (f"k:to:{a}:s.{other.id}", "没有这个转派对象"),
        (f"k:setcat:{a}:nonsense", "没有这个类别"),
        (f"k:pick:{a}:99", "没有这条常用答复"),
        (f"k:overdue:{a}", "只能由系统执行"),
    ):
        query_id = forge_markup(emu, cadre, card, data)
        await emu.settle()
        (answer,) = answers_to(emu, query_id)
        assert answer.get("show_alert") and refusal in answer["text"], (data, answer)
    assert [await snapshot(running, qingxi), await snapshot(running, taoyuan)] == before


# --- moves the status does not allow -----------------------------------------------------------


async def test_claiming_twice_and_closing_an_open_ticket(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    reporter_chat = emu.private_chat(emu.user(1001, "张三"))
    li = await staff(running, 5001, "李主任")
    wang = await staff(running, 5002, "王委员")
    card = await card_of(running, number)
    mark = emu.mark()
    # Both tap 受理 before the card changes: one wins, the other is told who.
    first = await emu.press(li, card, dict(emu.buttons(card))["✋ 受理"])
    second = await emu.press(wang, card, dict(emu.buttons(card))["✋ 受理"])
    again = await emu.press(li, card, dict(emu.buttons(card))["✋ 受理"])
    await emu.settle()
    assert "受理" in str((emu.callback_answer(first) or {}).get("text"))
    alert(emu.callback_answer(second) or {}, "已由 李主任 受理")
    alert(emu.callback_answer(again) or {}, "已由 李主任 受理")
    after = await snapshot(running, number)
    assert after["status"] == "accepted" and after["handler"] == li.id
    notices = [t for t in bot_texts(emu, reporter_chat, mark) if "已受理" in t]
    assert len(notices) == 1, "the resident hears of the claim once"
    # A township officer taps 上报 and 办结 on the accepted card together: the ticket is open
    # one level up when 办结 arrives, and 办结 is refused.
    officer = await staff(running, 6001, "赵镇长", role="township", place="qingshan-town")
    card = await card_of(running, number)
    up = await emu.press(officer, card, dict(emu.buttons(card))["⬆️ 上报"])
    close = await emu.press(officer, card, dict(emu.buttons(card))["✅ 办结"])
    await emu.settle()
    assert "上报" in str((emu.callback_answer(up) or {}).get("text"))
    alert(emu.callback_answer(close) or {}, "工单当前状态为「待受理」,不能再做这个操作")
    after = await snapshot(running, number)
    assert after["status"] == "open" and after["level"] == "township" and after["pending"] == 0


async def test_escalating_at_the_county_is_refused(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    officer = await staff(running, 8001, "县督办", role="county", place="anning-county")
    for chat_id in (running.admin_of("qingxi").id, TOWNSHIP_CHAT):
        card = await card_of(running, number)
        assert card["chat"]["id"] == chat_id
        assert "上报" in str((await press_on(running, officer, card, "⬆️ 上报")).get("text"))
    card = await card_of(running, number)
    assert card["chat"]["id"] == COUNTY_CHAT
    before, mark = await snapshot(running, number), emu.mark()
    alert(await press_on(running, officer, card, "⬆️ 上报"), "已经是最高一级,不能再上报")
    assert await snapshot(running, number) == before
    assert bot_texts(emu, emu.private_chat(emu.user(1001, "张三")), mark) == []


async def test_a_prompt_whose_ticket_moved_on_is_refused(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    reporter = emu.user(1001, "张三")
    cadre = await staff(running, 5001, "李主任")
    admin = running.admin_of("qingxi")
    await press_on(running, cadre, await card_of(running, number), "✋ 受理")
    await answer_by_prompt(running, cadre, number, "路灯已经修好了。")
    # 改类 is offered on an answered ticket: the cadre opens the category list...
    await press_on(running, cadre, await card_of(running, number), "🏷 改类")
    prompt = last_with_buttons(running, admin, "改为哪一类")
    # ...and the resident closes the ticket with 满意 before a category is chosen.
    answer = last_with_buttons(running, emu.private_chat(reporter), "路灯已经修好了")
    await press_on(running, reporter, answer, "😊 满意")
    before = await snapshot(running, number)
    assert before["status"] == "closed"
    label = next(text for text, _ in emu.buttons(prompt) if text != "✖️ 取消")
    alert(
        await press_on(running, cadre, prompt, label), "工单当前状态为「已办结」,不能再做这个操作"
    )
    assert await snapshot(running, number) == before


# --- ratings -----------------------------------------------------------------------------------


async def test_ratings_belong_to_the_people_of_the_answer(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    reporter, chat = emu.user(1001, "张三"), emu.private_chat(emu.user(1001, "张三"))
    supporter, supporter_chat = await resident(running, 1002, "王五")
    await emu.send_text(supporter, supporter_chat, "村口路灯坏了好多天,晚上黑乎乎的")
    draft = await emu.wait_for("sendMessage", to(supporter_chat))
    await press(running, supporter, supporter_chat, draft, f"🙋 我也遇到({number})")
    outsider, _ = await resident(running, 1003, "赵六")
    cadre = await staff(running, 5001, "李主任")
    await answer_by_prompt(running, cadre, number, "第一次答复:已经报修。")
    first = last_with_buttons(running, chat, "第一次答复")
    supporters_first = last_with_buttons(running, supporter_chat, "第一次答复")
    tid = await ticket_id(running, number)

    # Someone who neither reported nor supported it presses the reporter's rating button.
    before = await snapshot(running, number)
    query_id = forge_markup(emu, outsider, first, f"r:{tid}:1:satisfied")
    await emu.settle()
    (refusal,) = answers_to(emu, query_id)
    assert refusal["show_alert"] and NOT_YOURS in refusal["text"]
    assert await snapshot(running, number) == before

    # A supporter's rating may change while the answer waits.
    await press_on(running, supporter, supporters_first, "🙂 基本满意")
    await press_on(running, supporter, supporters_first, "😞 不满意")
    after = await snapshot(running, number)
    assert after["status"] == "answered"
    assert after["ratings"] == [(1, supporter.id, "unsatisfied")]

    # The reporter taps 不满意 and 满意 at once: the first reopens the ticket, the second is
    # refused (one rating per person per answer, no change once the ticket moved on).
    mark = emu.mark()
    unhappy = await emu.press(reporter, first, dict(emu.buttons(first))["😞 不满意"])
    happy = await emu.press(reporter, first, dict(emu.buttons(first))["😊 满意"])
    await emu.settle()
    assert "不满意" in str((emu.callback_answer(unhappy) or {}).get("text"))
    alert(emu.callback_answer(happy) or {}, RATING_CLOSED)
    reopened = await snapshot(running, number)
    assert reopened["status"] == "open"
    assert (1, reporter.id, "unsatisfied") in reopened["ratings"]
    assert sum("重新办理" in t or "不满意" in t for t in bot_texts(emu, chat, mark)) >= 1

    # The supporter's first-answer buttons are still shown: pressing them now is refused.
    alert(await press_on(running, supporter, supporters_first, "😊 满意"), RATING_CLOSED)
    assert await snapshot(running, number) == reopened

    # After the second answer, the first answer's ratings stay closed, forged or not.
    await answer_by_prompt(running, cadre, number, "第二次答复:电工今天来修。")
    second = await snapshot(running, number)
    assert second["answers"] == 2
    _, stale = forge_press(emu, reporter, first, f"r:{tid}:1:satisfied")
    forged = forge_markup(emu, reporter, first, f"r:{tid}:1:satisfied")
    await emu.settle()
    assert STALE in answers_to(emu, stale)[0]["text"]
    assert RATING_CLOSED in answers_to(emu, forged)[0]["text"]
    assert await snapshot(running, number) == second

    # The reporter closes it with 满意; rating again, or the supporter changing theirs, is
    # refused.
    latest = last_with_buttons(running, chat, "第二次答复")
    await press_on(running, reporter, latest, "😊 满意")
    closed = await snapshot(running, number)
    assert closed["status"] == "closed"
    again = forge_markup(emu, reporter, latest, f"r:{tid}:2:unsatisfied")
    await emu.settle()
    assert RATING_CLOSED in answers_to(emu, again)[0]["text"]
    supporters_second = last_with_buttons(running, supporter_chat, "第二次答复")
    alert(await press_on(running, supporter, supporters_second, "😞 不满意"), RATING_CLOSED)
    assert await snapshot(running, number) == closed


# --- commands ----------------------------------------------------------------------------------


async def test_cadre_commands_outside_admin_chats_are_refused(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    cadre = await staff(running, 5001, "李主任")
    before = await snapshot(running, number)
    private = emu.private_chat(cadre)
    group = running.group_of("qingxi")
    for chat in (private, group):
        commands = ["/open", "/mine", "/overdue", "/find 路灯", "/find", f"/ticket {number}"]
        if chat is group:
            commands += ["/ticket", "/ticket abc"]
        for command in commands:
            mark = emu.mark()
            await emu.send_text(cadre, chat, command)
            await emu.settle()
            said = bot_texts(emu, chat, mark)
            assert "路灯" not in "".join(said) or command.startswith("/find"), (command, said)
            if chat is private and command.startswith("/ticket"):
                # The resident's own /ticket: someone else's ticket looks like a missing one.
                assert len(said) == 1 and f"没有找到工单 {number}" in said[0]
            else:
                assert len(said) == 1 and ADMIN_ONLY in said[0], (chat.type, command, said)
    assert await snapshot(running, number) == before


async def test_a_lookup_outside_the_jurisdiction_looks_like_a_missing_ticket(
    running: EmulatedDesk,
) -> None:
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    missing = number[:5] + "999999"
    before = await snapshot(running, number)
    lookers = [
        (await staff(running, 5101, "桃源村陈书记", place="taoyuan"), running.admin_of("taoyuan")),
        (
            await staff(running, 6101, "河西镇干部", role="township", place="hexi-town"),
            running.chats[HEXI_TOWN_CHAT],
        ),
    ]
    for user, chat in lookers:
        said = []
        for asked in (number, missing):
            mark = emu.mark()
            await emu.send_text(user, chat, f"/ticket {asked}")
            await emu.settle()
            (text,) = bot_texts(emu, chat, mark)
            said.append(text.replace(asked, "N"))
        assert said[0] == said[1] and "没有找到工单 N" in said[0], said
        # /find of its words or number finds nothing either.
        for words in ("路灯", number):
            mark = emu.mark()
            await emu.send_text(user, chat, f"/find {words}")
            await emu.settle()
            (found,) = bot_texts(emu, chat, mark)
            assert "(共 0 件)" in found and "没有符合条件的工单" in found, found
    assert await snapshot(running, number) == before


async def test_looking_a_ticket_up_moves_nothing(running: EmulatedDesk) -> None:
    """/ticket posts the card again for the cadre; the ticket's own card stays where the
    ticket is handled, and the timeline does not change."""
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    officer = await staff(running, 6001, "赵镇长", role="township", place="qingshan-town")
    cadre = await staff(running, 5001, "李主任")
    await press_on(running, officer, await card_of(running, number), "⬆️ 上报")
    before = await snapshot(running, number)
    assert before["card"][0] == TOWNSHIP_CHAT
    # The village cadre looks the escalated ticket up in the village's admin chat.
    admin = running.admin_of("qingxi")
    await emu.send_text(cadre, admin, f"/ticket {number}")
    await emu.settle()
    assert await snapshot(running, number) == before
    mark = emu.mark()
    await emu.send_text(officer, running.chats[TOWNSHIP_CHAT], "/open")
    await emu.settle()
    assert number in "".join(bot_texts(emu, TOWNSHIP_CHAT, mark)), "still the township's"


# --- words in admin chats ----------------------------------------------------------------------


async def test_words_without_a_pending_action_and_empty_answers(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    reporter_chat = emu.private_chat(emu.user(1001, "张三"))
    cadre = await staff(running, 5001, "李主任")
    admin = running.admin_of("qingxi")
    before, mark = await snapshot(running, number), emu.mark()
    await emu.send_text(cadre, admin, "大家好,下午三点开会。")
    await emu.settle()
    assert bot_texts(emu, admin, mark) == [], "cadres talking among themselves are left alone"
    assert await snapshot(running, number) == before
    await press_on(running, cadre, await card_of(running, number), "💬 回复")
    waiting, mark = await snapshot(running, number), emu.mark()
    assert waiting["pending"] == 1
    await emu.send_text(cadre, admin, "   ")
    await emu.settle()
    said = bot_texts(emu, admin, mark)
    assert len(said) == 1 and "内容是空的" in said[0]
    assert await snapshot(running, number) == waiting, "still waiting for the answer"
    assert bot_texts(emu, reporter_chat, mark) == []
    await emu.send_text(cadre, admin, "路灯已经修好了。")
    await emu.settle()
    assert (await snapshot(running, number))["status"] == "answered"


async def test_replies_outside_the_jurisdiction_reach_nobody(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    reporter_chat = emu.private_chat(emu.user(1001, "张三"))
    admin = running.admin_of("qingxi")
    card = await card_of(running, number)
    before, mark = await snapshot(running, number), emu.mark()
    for user, refusal in (
        (await staff(running, 5101, "桃源村陈书记", place="taoyuan"), NOT_IN_CHARGE),
        (emu.user(7001, "路人甲"), STAFF_ONLY),
    ):
        here = emu.mark()
        await emu.send_text(user, admin, "这件事我来答复:已经修好了。", reply_to=card)
        await emu.settle()
        said = bot_texts(emu, admin, here)
        assert len(said) == 1 and refusal in said[0], said
    assert await snapshot(running, number) == before
    assert bot_texts(emu, reporter_chat, mark) == []


async def test_a_resident_cannot_reply_into_someone_elses_ticket(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    other = await submit(running, 1002, DITCH, "李四")
    cadre = await staff(running, 5001, "李主任")
    admin = running.admin_of("qingxi")
    await press_on(running, cadre, await card_of(running, number), "❓ 补充")
    await emu.send_text(cadre, admin, "请问是哪一盏路灯?")
    await emu.settle()
    question = last_with_buttons(running, emu.private_chat(emu.user(1001, "张三")), "哪一盏路灯")
    before = [await snapshot(running, number), await snapshot(running, other)]
    mark = emu.mark()
    # 李四 replies to 张三's question (and to the message of the same number in their own chat).
    intruder = emu.user(1002, "李四")
    intruder_chat = emu.private_chat(intruder)
    await emu.send_text(intruder, intruder_chat, "我来回答:是村口第三盏", reply_to=question)
    same_id = emu.message(intruder_chat, question["message_id"])
    if same_id is not None:
        await emu.send_text(intruder, intruder_chat, "也是村口第三盏", reply_to=same_id)
    await emu.settle()
    assert [await snapshot(running, number), await snapshot(running, other)] == before
    relayed = [t for t in bot_texts(emu, admin, mark) if "居民补充" in t]
    assert relayed == [], "nothing reaches the cadres as 张三's ticket's words"


# --- redeliveries ------------------------------------------------------------------------------


async def test_a_redelivered_claim_or_answer_acts_once(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    reporter, chat = emu.user(1001, "张三"), emu.private_chat(emu.user(1001, "张三"))
    cadre = await staff(running, 5001, "李主任")
    admin = running.admin_of("qingxi")
    card = await card_of(running, number)
    mark = emu.mark()
    await press_on(running, cadre, card, "✋ 受理")
    claimed = await snapshot(running, number)
    assert emu.redeliver(emu.last_update_id)
    await emu.settle()
    assert await snapshot(running, number) == claimed
    assert sum("已受理" in t for t in bot_texts(emu, chat, mark)) == 1
    # The answer typed after 回复, delivered twice.
    await press_on(running, cadre, await card_of(running, number), "💬 回复")
    await emu.send_text(cadre, admin, "第一次答复:已经报修。")
    await emu.settle()
    answered = await snapshot(running, number)
    assert emu.redeliver(emu.last_update_id)
    await emu.settle()
    assert await snapshot(running, number) == answered and answered["answers"] == 1
    assert sum("第一次答复" in t for t in bot_texts(emu, chat, mark)) == 1
    # Reopened, then answered as a reply to the card, delivered twice.
    await press_on(running, reporter, last_with_buttons(running, chat, "第一次答复"), "😞 不满意")
    await emu.send_text(
        cadre, admin, "第二次答复:电工今天来。", reply_to=await card_of(running, number)
    )
    await emu.settle()
    again = await snapshot(running, number)
    assert again["answers"] == 2
    assert emu.redeliver(emu.last_update_id)
    await emu.settle()
    assert await snapshot(running, number) == again
    assert sum("第二次答复" in t for t in bot_texts(emu, chat, mark)) == 1


# --- a wait for words whose ticket moved on ----------------------------------------------------


async def test_a_wait_for_words_ends_when_its_ticket_moves_on(running: EmulatedDesk) -> None:
    """李主任 pressed 回复 while 王委员 answered by replying to the card: 李主任's prompt
    loses its buttons (取消 among them), so the wait must end too. His next words are refused
    once, and later chatter is left alone instead of drawing the refusal again and again."""
    emu = running.emu
    number = await submit(running, 1001, LAMP)
    li = await staff(running, 5001, "李主任")
    wang = await staff(running, 5002, "王委员")
    admin = running.admin_of("qingxi")
    await press_on(running, li, await card_of(running, number), "💬 回复")
    await emu.send_text(wang, admin, "路灯已经修好了。", reply_to=await card_of(running, number))
    await emu.settle()
    answered = await snapshot(running, number)
    assert answered["status"] == "answered"
    mark = emu.mark()
    await emu.send_text(li, admin, "好的,我知道了。")
    await emu.settle()
    said = bot_texts(emu, admin, mark)
    assert len(said) == 1 and "工单当前状态为「已答复」,不能再做这个操作" in said[0], said
    mark = emu.mark()
    await emu.send_text(li, admin, "下午三点开会。")
    await emu.settle()
    assert bot_texts(emu, admin, mark) == [], "the wait is over: chatter is left alone"
    after = await snapshot(running, number)
    assert after == {**answered, "pending": 0}
