"""Hostile tests of what the desk lets slip: an anonymous reporter's name, phone and ID number
wherever a cadre can look; the reporter's details to supporters and the cadres' names to
residents; the report's words in its group; staff powers that end or never were; logs; and
presses and commands Telegram delivers twice."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.logs import MaskingFormatter
from bot.sandbox.emulated import TOKEN, EmulatedDesk
from bot.sandbox.emulator import BotApiEmulator, Chat
from storage.models import AuditEvent, Rating, TicketMessage
from tests.support import (
    answer_by_prompt,
    audit_actions,
    calls_into,
    card_of,
    enrol,
    exchange,
    fengqiao,
    join_as_supporter,
    last_with_buttons,
    press,
    press_on,
    resident,
    said_into,
    staff,
    to,
)

PHONE, ID_NUMBER, NAME = "13812345678", "110101199003071234", "王小明"
REPORT = f"我叫{NAME},家门口的排水沟堵了,污水漫到路上。电话{PHONE},身份证号{ID_NUMBER}"
# What must never show: the whole values, and pieces that identify on their own.
SECRETS = (PHONE, ID_NUMBER, NAME, "小明", "19900307", "38123456")
TOWNSHIP_CHAT = -1001000000010


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


async def anonymous_report(world: EmulatedDesk) -> tuple[str, Chat]:
    """王小明 reports anonymously, with his name, phone and ID number in the text."""
    emu = world.emu
    user, chat = await resident(world, 1001, NAME)
    await emu.send_text(user, chat, REPORT)
    draft = await emu.wait_for("sendMessage", to(chat))
    await press(world, user, chat, draft, "🕶 匿名提交")
    (ticket,) = await world.desk.tickets.all()
    assert ticket.anonymous
    return ticket.number, chat


# --- 1. anonymity ----------------------------------------------------------------------------


async def test_an_anonymous_reporter_stays_anonymous_wherever_cadres_look(
    running: EmulatedDesk, tmp_path: Path
) -> None:
    emu = running.emu
    number, chat = await anonymous_report(running)
    reporter = emu.user(1001, NAME)
    admin = running.admin_of("qingxi")
    cadre = await staff(running, 5001, "李主任")
    officer = await staff(running, 6001, "赵镇长", role="township", place="qingshan-town")
    # A later message added from its preview with 📎, carrying the name and phone again.
    mark = emu.mark()
    await emu.send_text(reporter, chat, f"补充:污水已经流进院子了,我叫{NAME},手机{PHONE}")
    draft = await emu.wait_for("sendMessage", to(chat), since=mark)
    await press(running, reporter, chat, draft, f"📎 补充到我的工单 {number}")
    await press_on(running, cadre, await card_of(running, number), "✋ 受理")
    # The cadre asks; the reporter answers with his name and phone again.
    await press_on(running, cadre, await card_of(running, number), "❓ 补充")
    await emu.send_text(cadre, admin, "请问具体是哪一段?")
    await emu.settle()
    question = last_with_buttons(running, chat, "想了解更多情况")
    await emu.send_text(
        reporter, chat, f"我是{NAME},就在小卖部门口,打{PHONE}找我", reply_to=question
    )
    await emu.settle()
    # An answer; 不满意 with a comment carrying his ID number and name.
    await answer_by_prompt(running, cadre, number, "已安排清理。")
    answer = last_with_buttons(running, chat, "已安排清理")
    await press_on(running, reporter, answer, "😞 不满意")
    await emu.send_text(reporter, chat, f"根本没人来,我叫{NAME},身份证{ID_NUMBER}", reply_to=answer)
    await emu.settle()
    # Escalated to the township, looked up, searched for and banned.
    await press_on(running, officer, await card_of(running, number), "⬆️ 上报")
    township = running.chats[TOWNSHIP_CHAT]
    assert (await card_of(running, number))["chat"]["id"] == township.id
    for command in (f"/ticket {number}", "/find 排水沟", f"/ban {number} 测试"):
        await exchange(running, cadre, admin, command)
    await exchange(running, officer, township, f"/ticket {number}")

    for chat_ in (admin, township):
        seen = said_into(emu, chat_)
        assert number in seen and "匿名居民" in seen
        leaked = [t for t in seen.split("\n") if leaks(t)]
        assert leaked == [], (chat_.title, leaked)
    assert said_into(emu, admin).count("居民补充</b>(匿名居民)") == 2
    assert "意见:" in said_into(emu, admin)
    assert "已屏蔽" in said_into(emu, admin)
    listed = fengqiao("tickets", "list", "--json", database=tmp_path / "desk.db")
    assert listed.returncode == 0 and number in listed.stdout, listed.stderr
    assert leaks(listed.stdout) == []


async def test_searching_for_an_anonymous_reporters_name_or_phone_finds_nothing(
    running: EmulatedDesk,
) -> None:
    """/find with the name or phone a cadre suspects would say who wrote the anonymous
    report (the ticket found is theirs): it looks like any search that finds nothing."""
    number, _ = await anonymous_report(running)
    admin = running.admin_of("qingxi")
    cadre = await staff(running, 5001, "李主任")
    assert number in await exchange(running, cadre, admin, "/find 排水沟")
    for words in (NAME, PHONE, ID_NUMBER, f"排水沟 {NAME}"):
        found = await exchange(running, cadre, admin, f"/find {words}")
        assert number not in found and "(共 0 件)" in found, (words, found)


# --- 2. supporters and cadres' names -----------------------------------------------------------

CADRES = ("李主任", "赵镇长")


def cadre_names(text: str) -> list[str]:
    return [name for name in CADRES if name in text]


async def test_supporters_never_see_the_reporter_nor_residents_the_cadres(
    running: EmulatedDesk,
) -> None:
    emu = running.emu
    reporter, chat = await resident(running, 1001, "张三")
    await emu.send_photo(reporter, chat, f"村口的路灯坏了一个星期了,晚上走路看不见,我电话{PHONE}")
    await emu.settle()
    await emu.send_location(reporter, chat, 30.27, 120.15)
    await emu.settle()
    await press_on(running, reporter, last_with_buttons(running, chat, "路灯坏了"), "✅ 提交")
    (ticket,) = await running.desk.tickets.all()
    number, photos = ticket.number, ticket.photo_file_ids
    assert photos and ticket.latitude is not None and not ticket.anonymous
    supporter, supporter_chat = await join_as_supporter(
        running, 1002, "王五", "村口路灯坏了好多天,晚上黑乎乎的", number
    )
    cadre = await staff(running, 5001, "李主任")
    officer = await staff(running, 6001, "赵镇长", role="township", place="qingshan-town")
    admin = running.admin_of("qingxi")
    await press_on(running, cadre, await card_of(running, number), "✋ 受理")
    await press_on(running, cadre, await card_of(running, number), "❓ 补充")
    await emu.send_text(cadre, admin, "请问是哪一盏?")
    await emu.settle()
    await press_on(running, cadre, await card_of(running, number), "⬆️ 上报")
    await press_on(running, officer, await card_of(running, number), "✋ 受理")
    await emu.send_photo(
        officer,
        running.chats[TOWNSHIP_CHAT],
        "已安排电工明天来修",
        reply_to=await card_of(running, number),
    )
    await emu.settle()
    await exchange(running, supporter, supporter_chat, f"/ticket {number}")
    await exchange(running, reporter, chat, f"/ticket {number}")
    await press_on(
        running, supporter, last_with_buttons(running, supporter_chat, "电工"), "🙂 基本满意"
    )
    await press_on(running, reporter, last_with_buttons(running, chat, "电工"), "😊 满意")
    assert (await running.desk.tickets.all())[0].status == "closed"

    to_supporter = calls_into(emu, supporter_chat)
    seen = said_into(emu, supporter_chat)
    assert "已上报" in seen and "电工" in seen and "已办结" in seen
    assert "张三" not in seen and PHONE not in seen, seen
    assert not [c for c in to_supporter if c.method == "sendLocation"]
    shown = {c.params.get("photo") for c in to_supporter if c.method == "sendPhoto"}
    assert shown and not shown & set(photos), "the cadre's photo only, never the reporter's"
    for chat_ in (chat, supporter_chat):
        assert cadre_names(said_into(emu, chat_)) == [], said_into(emu, chat_)


# --- 3. group updates --------------------------------------------------------------------------


async def test_a_groups_news_of_its_ticket_carries_neither_report_nor_answer(
    running: EmulatedDesk,
) -> None:
    emu = running.emu
    group = running.group_of("qingxi")
    mark = emu.mark()
    await emu.send_text(
        emu.user(1003, "赵六"), group, f"/ts 村委会门口的路灯坏了好几天了,联系电话{PHONE}"
    )
    await emu.settle()
    (ticket,) = await running.desk.tickets.all()
    cadre = await staff(running, 5001, "李主任")
    admin = running.admin_of("qingxi")
    await press_on(running, cadre, await card_of(running, ticket.number), "✋ 受理")
    await press_on(running, cadre, await card_of(running, ticket.number), "❓ 补充")
    await emu.send_text(cadre, admin, "请问是哪一盏路灯?")
    await emu.settle()
    await answer_by_prompt(running, cadre, ticket.number, "已经安排电工明天来修,李主任负责。")
    await press_on(running, cadre, await card_of(running, ticket.number), "✅ 办结")
    await emu.send_text(cadre, admin, "电工已修好,办结。")
    await emu.settle()
    in_group = said_into(emu, group, mark)
    assert in_group.count("有新进展") >= 3 and ticket.number in in_group
    for words in ("路灯坏了", "好几天", PHONE, "5678", "哪一盏", "电工", "电工已修好", *CADRES):
        assert words not in in_group, (words, in_group)


# --- 4. staff --------------------------------------------------------------------------------

NOT_ALLOWED = "没有这项权限"


async def test_one_invitation_opened_by_two_at_once_registers_one(running: EmulatedDesk) -> None:
    emu = running.emu
    code = await running.desk.staff.create_invite("cadre", "qingxi")
    users = [emu.user(3101, "甲"), emu.user(3102, "乙")]
    chats = [emu.private_chat(u) for u in users]
    mark = emu.mark()
    await asyncio.gather(
        *(emu.send_text(u, c, f"/start inv_{code}") for u, c in zip(users, chats, strict=True))
    )
    await emu.settle()
    async with running.desk.sessions() as session:
        members = [await running.desk.staff.member(session, u.id) for u in users]
    assert sum(m is not None for m in members) == 1, members
    replies = [said_into(emu, c, mark) for c in chats]
    assert sorted("已登记" in r for r in replies) == [False, True], replies
    assert await audit_actions(running) == ["invite", "invite_used"]


async def test_staff_powers_end_at_once_and_are_never_made_up(
    running: EmulatedDesk, tmp_path: Path
) -> None:
    emu, desk = running.emu, running.desk
    admin_chat = running.admin_of("qingxi")
    boss = await enrol(running, 3010, "王主任", "admin", "qingxi")
    cadre = await enrol(running, 3011, "李主任", "cadre", "qingxi")
    other = await enrol(running, 3012, "刘委员", "cadre", "qingxi")
    reporter, chat = await resident(running, 1001, "张三")
    await emu.send_text(reporter, chat, "村口的垃圾堆了三天没人清运")
    await press(running, reporter, chat, await emu.wait_for("sendMessage", to(chat)), "✅ 提交")
    (ticket,) = await desk.tickets.all()
    card = await card_of(running, ticket.number)
    # 李主任 presses 回复 and opens the 转派 list, then loses his rights.
    await press_on(running, cadre, card, "💬 回复")
    prompt = last_with_buttons(running, admin_chat, "请直接发送给居民")
    await press_on(running, cadre, card, "🔀 转派")
    transfer = last_with_buttons(running, admin_chat, "转派给")
    hello = await emu.send_text(cadre, admin_chat, "收到")
    assert "已撤销" in await exchange(running, boss, admin_chat, "/revoke", reply_to=hello)
    mark = emu.mark()
    await emu.send_text(cadre, admin_chat, "垃圾已经清运了。")
    await emu.settle()
    for message in (card, prompt, transfer):
        for label, _ in emu.buttons(emu.message(admin_chat, message["message_id"]) or message):
            if label != "✖️ 取消":
                await press_on(running, cadre, message, label)
    (after,) = await desk.tickets.all()
    assert (after.status, after.answers, after.handler_telegram_id) == ("open", 0, None)
    assert said_into(emu, chat, mark) == "", "the resident hears of nothing"
    # A cadre cannot make anyone an admin, himself included.
    stranger = await emu.send_text(emu.user(3099, "路人"), admin_chat, "我也想当管理员")
    for replied in (stranger, hello, await emu.send_text(other, admin_chat, "我来")):
        said = await exchange(running, other, admin_chat, "/grant admin", reply_to=replied)
        assert NOT_ALLOWED in said, said
    # An admin removed with `fengqiao staff remove` cannot invite a moment later.
    removed = fengqiao("staff", "remove", str(boss.id), database=tmp_path / "desk.db")
    assert removed.returncode == 0, removed.stderr
    assert NOT_ALLOWED in await exchange(running, boss, admin_chat, "/invite cadre")
    # A code for 桃源村 used in the chat that is already 青溪村's admin chat.
    code = await desk.staff.create_bind_code("taoyuan")
    emu.set_member_status(admin_chat, boss, "creator")
    assert "无法绑定" in await exchange(running, boss, admin_chat, f"/bind {code}")
    still = desk.places.place_of_admin_chat(admin_chat.id)
    assert still is not None and still.id == "qingxi"
    assert desk.places.admin_chat_for("taoyuan") == running.admin_of("taoyuan").id
    actions = await audit_actions(running)
    assert actions == [*["invite", "invite_used"] * 3, "revoke", "remove", "bind_code"], actions
    async with desk.sessions() as session:
        rows = (await session.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars()
        subjects = {(r.action, r.subject, r.actor_telegram_id) for r in rows}
    assert ("revoke", f"person:{cadre.id}", boss.id) in subjects
    assert ("remove", f"person:{boss.id}", None) in subjects


# --- 5. logs -----------------------------------------------------------------------------------

ANSWER_PHONE = "13900001111"


async def test_a_whole_loop_logs_no_phone_id_or_token(
    running: EmulatedDesk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emu = running.emu
    reporter, chat = await resident(running, 1001, "张三")
    await emu.send_text(reporter, chat, f"村口的路灯坏了一个星期了,联系电话{PHONE}")
    await press(running, reporter, chat, await emu.wait_for("sendMessage", to(chat)), "✅ 提交")
    (ticket,) = await running.desk.tickets.all()
    cadre = await staff(running, 5001, "李主任")
    await press_on(running, cadre, await card_of(running, ticket.number), "✋ 受理")
    await answer_by_prompt(running, cadre, ticket.number, f"已报修,电工电话{ANSWER_PHONE}")
    answer = last_with_buttons(running, chat, ANSWER_PHONE)
    await press_on(running, reporter, answer, "😞 不满意")
    await emu.send_text(reporter, chat, f"没修好,身份证{ID_NUMBER}", reply_to=answer)
    await emu.settle()
    assert "意见" in said_into(emu, running.admin_of("qingxi"))
    records = caplog.records
    assert any(r.levelno == logging.DEBUG for r in records), "DEBUG records were captured"
    secrets = (PHONE, ANSWER_PHONE, ID_NUMBER, TOKEN, TOKEN.split(":")[1])
    # What the desk itself logs carries none of them even before formatting...
    ours = ("bot.", "handlers.", "storage.", "nlp.")
    for record in records:
        if record.name.startswith(ours) and not record.name.startswith("bot.sandbox"):
            raw = record.getMessage() + str(record.exc_info or "")
            assert not [s for s in secrets if s in raw], (record.name, raw)
    # ...and every record, libraries' too, as the desk's log handler writes it.
    formatter = MaskingFormatter(secrets=(TOKEN,))
    for record in records:
        line = formatter.format(record)
        assert not [s for s in secrets if s in line], (record.name, line[:300])


# --- 6. redelivery ---------------------------------------------------------------------------


async def counts(world: EmulatedDesk, ticket_id: int) -> tuple[int, int, int]:
    async with world.desk.sessions() as session:

        async def count(model: type[Rating] | type[TicketMessage] | type[AuditEvent]) -> int:
            query = select(func.count()).select_from(model)
            if model is not AuditEvent:
                query = query.where(model.ticket_id == ticket_id)  # type: ignore[union-attr]
            return int((await session.execute(query)).scalar_one())

        return await count(Rating), await count(TicketMessage), await count(AuditEvent)


def redeliver_last(emu: BotApiEmulator) -> None:
    assert emu.redeliver(emu.last_update_id)


async def test_redelivered_rating_ban_and_addition_act_once(running: EmulatedDesk) -> None:
    emu = running.emu
    reporter, chat = await resident(running, 1001, "张三")
    await emu.send_text(reporter, chat, "村口的路灯坏了一个星期了,晚上走路看不见")
    await press(running, reporter, chat, await emu.wait_for("sendMessage", to(chat)), "✅ 提交")
    (ticket,) = await running.desk.tickets.all()
    admin = running.admin_of("qingxi")
    cadre = await staff(running, 5001, "李主任")
    # 📎 补充到我的工单, pressed once and delivered twice.
    mark = emu.mark()
    await emu.send_text(reporter, chat, "补充一下:是靠近小学那一盏")
    draft = await emu.wait_for("sendMessage", to(chat), since=mark)
    await press(running, reporter, chat, draft, f"📎 补充到我的工单 {ticket.number}")
    before = await counts(running, ticket.id)
    redeliver_last(emu)
    await emu.settle()
    assert await counts(running, ticket.id) == before
    assert said_into(emu, admin, mark).count("居民补充") == 1
    assert said_into(emu, chat, mark).count("已补充到工单") == 1
    # A rating press delivered twice.
    await answer_by_prompt(running, cadre, ticket.number, "路灯已经修好了。")
    mark = emu.mark()
    await press_on(running, reporter, last_with_buttons(running, chat, "修好了"), "😞 不满意")
    before = await counts(running, ticket.id)
    (rated,) = await running.desk.tickets.all()
    redeliver_last(emu)
    await emu.settle()
    assert await counts(running, ticket.id) == before and before[0] == 1
    (again,) = await running.desk.tickets.all()
    assert rated.status == "open" and (again.status, again.version) == ("open", rated.version)
    assert said_into(emu, admin, mark).count("居民评价") == 1
    assert not [
        c for c in emu.calls_since(mark, "answerCallbackQuery") if c.params.get("show_alert")
    ]
    # /ban delivered twice.
    mark = emu.mark()
    await emu.send_text(cadre, admin, f"/ban {ticket.number} 反复刷屏")
    await emu.settle()
    redeliver_last(emu)
    await emu.settle()
    said = said_into(emu, admin, mark)
    assert said.count("已屏蔽") == 1 and "此前已被屏蔽" not in said, said
    assert (await audit_actions(running)).count("ban") == 1
