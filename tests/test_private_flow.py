"""A resident in a private chat: place, draft, submit, cancel, /my and /ticket, end to end."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.sandbox.emulated import EmulatedDesk
from tests.support import choose_village, person, press, resident, to


async def test_start_greets_and_asks_the_village_once(running: EmulatedDesk) -> None:
    emu = running.emu
    user = emu.user(1001, "张三")
    chat = emu.private_chat(user)
    await emu.send_text(user, chat, "/start")
    greeting = await emu.wait_for("sendMessage", to(chat))
    assert "枫桥服务台" in greeting.params["text"] and "/my" in greeting.params["text"]
    await choose_village(running, user, chat, "桃源村")
    assert "桃源村" in (emu.last_message(chat) or {})["text"]
    mark = emu.mark()
    await emu.send_text(user, chat, "/start")
    await emu.settle()
    texts = [c.params["text"] for c in emu.calls_since(mark, "sendMessage")]
    assert len(texts) == 1, "the village is remembered, not asked again"


async def test_text_becomes_draft_then_ticket_with_card(
    running: EmulatedDesk, clock: FakeClock
) -> None:
    emu = running.emu
    user, chat = await resident(running)
    await emu.send_text(user, chat, "村口的垃圾堆了三天没人清运,臭得很")
    draft = await emu.wait_for("sendMessage", to(chat))
    assert "环境卫生" in draft.params["text"]
    assert "11月26日(周四)" in draft.params["text"], "3 local days after Monday"
    message = emu.message(chat, draft.response["message_id"])
    assert message is not None
    buttons = dict(emu.buttons(message))
    mark = emu.mark()
    await emu.press(user, message, buttons["✅ 提交"])
    await emu.settle()
    edits = emu.calls_since(mark, "editMessageText")
    assert len(edits) == 1
    ack = edits[0].params["text"]
    assert "2026-000001" in ack and "环境卫生" in ack and "11月26日" in ack
    card = await emu.wait_for("sendMessage", to(running.admin_of("qingxi")), since=mark)
    assert "2026-000001" in card.params["text"]
    assert "村口的垃圾堆了三天没人清运" in card.params["text"], "cadres see the original"
    assert "张三" in card.params["text"]
    tickets = await running.desk.tickets.all()
    assert [(t.number, t.category, t.place_id, t.status) for t in tickets] == [
        ("2026-000001", "environment", "qingxi", "open")
    ]
    # The acknowledgement replaced the preview, so its buttons are gone.
    assert emu.buttons(emu.message(chat, draft.response["message_id"]) or {}) == []


async def test_an_older_preview_cannot_submit_newer_content(
    running: EmulatedDesk, clock: FakeClock
) -> None:
    emu = running.emu
    user, chat = await resident(running)
    await emu.send_text(user, chat, "村口垃圾三天没人收了")
    first = await emu.wait_for("sendMessage", to(chat))
    clock.advance(timedelta(hours=2))  # past the merge window: a new matter, a new draft
    await emu.send_text(user, chat, "路灯坏了")
    second = await emu.wait_for("sendMessage", to(chat))
    old = emu.message(chat, first.response["message_id"])
    assert old is not None and second.response["message_id"] != first.response["message_id"]
    mark = emu.mark()
    await emu.press(user, old, dict(emu.buttons(old))["✅ 提交"])
    await emu.settle()
    assert await running.desk.tickets.all() == []
    (answer,) = emu.calls_since(mark, "answerCallbackQuery")
    assert "失效" in answer.params["text"]


async def test_change_category_and_cancel(running: EmulatedDesk) -> None:
    emu = running.emu
    user, chat = await resident(running)
    await emu.send_text(user, chat, "村口垃圾三天没人收了")
    draft = await emu.wait_for("sendMessage", to(chat))
    await press(running, user, chat, draft, "✏️ 更改类别")
    message = emu.message(chat, draft.response["message_id"])
    assert message is not None
    labels = dict(emu.buttons(message))
    assert len(labels) == 15, "14 categories and a back button"
    await emu.press(user, message, labels["道路交通"])
    await emu.settle()
    message = emu.message(chat, draft.response["message_id"])
    assert message is not None and "道路交通" in message["text"]
    await emu.press(user, message, dict(emu.buttons(message))["✖️ 放弃"])
    await emu.settle()
    message = emu.message(chat, draft.response["message_id"])
    assert message is not None and "已放弃" in message["text"]
    assert await running.desk.tickets.all() == []
    assert await running.desk.intake.draft(person(user)) is None


async def test_urgent_message_warns_first_and_opens_at_once(running: EmulatedDesk) -> None:
    emu = running.emu
    user, chat = await resident(running)
    mark = emu.mark()
    await emu.send_text(user, chat, "隔壁厨房着火了,烟很大,快来人")
    await emu.settle()
    sent = [c for c in emu.calls_since(mark) if c.method in ("sendMessage", "editMessageText")]
    assert "119" in sent[0].params["text"], "the emergency number comes before anything else"
    assert sent[0].params["chat_id"] == chat.id
    (ticket,) = await running.desk.tickets.all()
    assert ticket.urgent
    assert (ticket.due_at - ticket.created_at).total_seconds() <= 24 * 3600
    card = [c for c in sent if c.params["chat_id"] == running.admin_of("qingxi").id]
    assert card and "紧急" in card[0].params["text"]


async def test_text_before_place_waits_for_the_place(running: EmulatedDesk) -> None:
    emu = running.emu
    user = emu.user(1002, "李四")
    chat = emu.private_chat(user)
    await emu.send_text(user, chat, "我们村的路灯坏了一个月了")
    await choose_village(running, user, chat, "桃源村")
    draft = emu.last_message(chat)
    assert draft is not None and "道路交通" in draft["text"] and "桃源村" in draft["text"]
    await emu.press(user, draft, dict(emu.buttons(draft))["✅ 提交"])
    await emu.settle()
    (ticket,) = await running.desk.tickets.all()
    assert ticket.place_id == "taoyuan"
    assert emu.last_message(running.admin_of("taoyuan")) is not None


async def test_photo_alone_waits_for_words_and_location_attaches(running: EmulatedDesk) -> None:
    emu = running.emu
    user, chat = await resident(running)
    await emu.send_photo(user, chat)
    ask = await emu.wait_for("sendMessage", to(chat))
    assert "照片" in ask.params["text"] and "描述" in ask.params["text"]
    await emu.send_location(user, chat, 29.71, 120.24)
    await emu.settle()
    await emu.send_text(user, chat, "河道里漂满了死鱼,水发黑发臭")
    draft = await emu.wait_for("sendMessage", to(chat))
    assert "附图:1 张" in draft.params["text"] and "已附位置" in draft.params["text"]
    message = emu.message(chat, draft.response["message_id"])
    assert message is not None
    mark = emu.mark()
    await emu.press(user, message, dict(emu.buttons(message))["✅ 提交"])
    await emu.settle()
    admin = running.admin_of("qingxi")
    methods = [c.method for c in emu.calls_since(mark) if c.params.get("chat_id") == admin.id]
    assert methods == ["sendMessage", "sendPhoto", "sendLocation"]


async def test_photo_with_caption_is_a_draft(running: EmulatedDesk) -> None:
    emu = running.emu
    user, chat = await resident(running)
    await emu.send_photo(user, chat, caption="小区电梯又困人了,物业不管")
    draft = await emu.wait_for("sendMessage", to(chat))
    assert "附图:1 张" in draft.params["text"]


async def test_my_and_ticket_show_only_own_tickets(running: EmulatedDesk) -> None:
    emu = running.emu
    user, chat = await resident(running)
    await emu.send_text(user, chat, "/ts 村里的路灯坏了好久")
    draft = await emu.wait_for("sendMessage", to(chat))
    await press(running, user, chat, draft, "✅ 提交")
    await emu.send_text(user, chat, "/my")
    listing = await emu.wait_for("sendMessage", to(chat))
    assert "2026-000001" in listing.params["text"] and "待受理" in listing.params["text"]
    await emu.send_text(user, chat, "/ticket 2026-000001")
    detail = await emu.wait_for("sendMessage", to(chat))
    assert "提交" in detail.params["text"] and "已派送村干部" in detail.params["text"]
    other = emu.user(1003, "王五")
    other_chat = emu.private_chat(other)
    await emu.send_text(other, other_chat, "/ticket 2026-000001")
    refusal = await emu.wait_for("sendMessage", to(other_chat))
    assert "没有找到工单 2026-000001" in refusal.params["text"], "read like a missing one"
    assert "路灯" not in refusal.params["text"]


async def test_common_question_answered_then_solved(running: EmulatedDesk) -> None:
    emu = running.emu
    user, chat = await resident(running)
    await emu.send_text(user, chat, "请问残疾人补贴去哪里申请?")
    answer = await emu.wait_for("sendMessage", to(chat))
    assert "残疾" in answer.params["text"] and "解决了吗" in answer.params["text"]
    await press(running, user, chat, answer, "👍 已解决")
    assert "很高兴" in (emu.last_message(chat) or {})["text"]
    assert await running.desk.tickets.all() == []
    assert await running.desk.intake.draft(person(user)) is None


async def test_common_question_still_needs_a_person(running: EmulatedDesk) -> None:
    emu = running.emu
    user, chat = await resident(running)
    await emu.send_text(user, chat, "医保今年在哪里缴费")
    answer = await emu.wait_for("sendMessage", to(chat))
    await press(running, user, chat, answer, "🙋 仍需人工")
    (ticket,) = await running.desk.tickets.all()
    assert ticket.kind == "consultation"
    kept = emu.message(chat, answer.response["message_id"])
    assert kept is not None and "医保" in kept["text"] and emu.buttons(kept) == []
    assert ticket.number in (emu.last_message(chat) or {})["text"]


async def test_complaint_gets_no_faq_answer(running: EmulatedDesk) -> None:
    emu = running.emu
    user, chat = await resident(running)
    await emu.send_text(user, chat, "低保评定不公平,村干部优亲厚友")
    draft = await emu.wait_for("sendMessage", to(chat))
    assert "请确认您的诉求" in draft.params["text"]
