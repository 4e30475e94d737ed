"""Village groups: tickets only when addressed, brief replies, deep links, unconfigured chats."""

from __future__ import annotations

from bot.sandbox.emulated import BOT_USERNAME, EmulatedDesk


async def test_command_with_text_opens_a_ticket_and_posts_the_card(running: EmulatedDesk) -> None:
    emu, group = running.emu, running.group_of("qingxi")
    user = emu.user(2001, "赵六")
    mark = emu.mark()
    await emu.send_text(user, group, "/ts 我家电话13812345678,村口垃圾三天没人收了")
    await emu.settle()
    replies = [c for c in emu.calls_since(mark, "sendMessage") if c.params["chat_id"] == group.id]
    assert len(replies) == 1
    reply = replies[0].params
    assert "2026-000001" in reply["text"] and "投诉" in reply["text"]
    assert "13812345678" not in reply["text"] and "垃圾" not in reply["text"], "no personal details"
    (link,) = [url for _, url in emu.buttons(emu.last_message(group) or {})]
    assert link == f"https://t.me/{BOT_USERNAME}?start=t2026000001"
    card = emu.last_message(running.admin_of("qingxi"))
    assert card is not None and "2026-000001" in card["text"] and "村民群" in card["text"]
    (ticket,) = await running.desk.tickets.all()
    assert (ticket.place_id, ticket.kind, ticket.source) == ("qingxi", "complaint", "group")


async def test_deep_link_shows_the_ticket_privately(running: EmulatedDesk) -> None:
    emu, group = running.emu, running.group_of("taoyuan")
    user = emu.user(2002, "钱七")
    await emu.send_text(user, group, f"@{BOT_USERNAME} 建议村里在小学门口装个减速带")
    await emu.settle()
    (ticket,) = await running.desk.tickets.all()
    assert ticket.place_id == "taoyuan" and ticket.kind == "suggestion"
    chat = emu.private_chat(user)
    await emu.send_text(user, chat, "/start t2026000001")
    detail = await emu.wait_for("sendMessage", lambda c: c.params["chat_id"] == chat.id)
    assert "2026-000001" in detail.params["text"] and "减速带" in detail.params["text"]


async def test_reply_to_the_bot_counts_as_addressed(running: EmulatedDesk) -> None:
    emu, group = running.emu, running.group_of("qingxi")
    user = emu.user(2003, "孙八")
    await emu.send_text(user, group, "/ts 村东头的路灯坏了一个月了")
    await emu.settle()
    bot_reply = emu.last_message(group)
    assert bot_reply is not None
    await emu.send_text(user, group, "还有桥边的护栏也断了", reply_to=bot_reply)
    await emu.settle()
    assert len(await running.desk.tickets.all()) == 2


async def test_common_question_is_answered_at_once_in_the_group(running: EmulatedDesk) -> None:
    emu, group = running.emu, running.group_of("qingxi")
    asker, neighbour = emu.user(2008, "孙八"), emu.user(2009, "李九")
    await emu.send_text(asker, group, "/zx 低保怎么申请")
    answer = await emu.wait_for("sendMessage", lambda c: c.params["chat_id"] == group.id)
    assert "低保" in answer.params["text"]
    assert await running.desk.tickets.all() == [], "answered, no ticket yet"
    message = emu.message(group, answer.response["message_id"])
    assert message is not None
    buttons = dict(emu.buttons(message))
    query = await emu.press(neighbour, message, buttons["🙋 仍需人工"])
    await emu.settle()
    assert "提问的居民本人" in (emu.callback_answer(query) or {}).get("text", "")
    assert await running.desk.tickets.all() == []
    await emu.press(asker, message, buttons["🙋 仍需人工"])
    await emu.settle()
    (ticket,) = await running.desk.tickets.all()
    assert ticket.kind == "consultation" and ticket.text == "低保怎么申请"
    assert emu.buttons(emu.message(group, answer.response["message_id"]) or {}) == []
    card = emu.last_message(running.admin_of("qingxi"))
    assert card is not None and ticket.number in card["text"]


async def test_unaddressed_chatter_is_ignored(running: EmulatedDesk) -> None:
    emu, group = running.emu, running.group_of("qingxi")
    user = emu.user(2004, "周九")
    mark = emu.mark()
    await emu.send_text(user, group, "今天谁去镇上赶集?顺便带点菜")
    await emu.settle()
    assert [c.method for c in emu.calls_since(mark) if c.method != "getUpdates"] == []
    assert await running.desk.tickets.all() == []


async def test_group_bad_input(running: EmulatedDesk) -> None:
    emu, group = running.emu, running.group_of("qingxi")
    user = emu.user(2005, "吴十")
    await emu.send_text(user, group, "/ts")
    usage = await emu.wait_for("sendMessage")
    assert "/ts 村口垃圾" in usage.params["text"]
    await emu.send_text(user, group, f"@{BOT_USERNAME}")
    hint = await emu.wait_for("sendMessage")
    assert "写清楚" in hint.params["text"]
    assert await running.desk.tickets.all() == []


async def test_unconfigured_group_and_admin_chat_explain_themselves(
    running: EmulatedDesk,
) -> None:
    emu = running.emu
    stranger = emu.group_chat(-100555, "外村闲聊群")
    user = emu.user(2006, "郑十一")
    await emu.send_text(user, stranger, "/ts 路灯坏了")
    refusal = await emu.wait_for("sendMessage")
    assert "-100555" in refusal.params["text"] and "places.toml" in refusal.params["text"]
    await emu.send_text(user, running.admin_of("qingxi"), "/ts 路灯坏了")
    hint = await emu.wait_for("sendMessage")
    assert "干部工作群" in hint.params["text"]
    assert await running.desk.tickets.all() == []


async def test_urgent_in_group_gives_the_number_first(running: EmulatedDesk) -> None:
    emu, group = running.emu, running.group_of("qingxi")
    user = emu.user(2007, "王十二")
    await emu.send_text(user, group, f"@{BOT_USERNAME} 有人掉河里了!快来人救命")
    reply = await emu.wait_for("sendMessage", lambda c: c.params["chat_id"] == group.id)
    assert "120" in reply.params["text"] or "110" in reply.params["text"]
    card = await emu.wait_for("sendMessage", lambda c: c.params["chat_id"] != group.id)
    assert "紧急" in card.params["text"]


async def test_a_burst_from_many_members_gets_every_ack_and_card(running: EmulatedDesk) -> None:
    emu, group = running.emu, running.group_of("qingxi")
    members = [emu.user(2100 + i, f"村民{i}") for i in range(12)]
    mark = emu.mark()
    sent = []
    for round_ in range(2):  # each member twice: their two reports keep their order
        for i, member in enumerate(members):
            text = f"/ts 第{round_ + 1}件事:{i}号路口的路灯坏了"
            sent.append((member.id, (await emu.send_text(member, group, text))["message_id"]))
    await emu.settle()
    tickets = await running.desk.tickets.all()
    assert sorted(t.number for t in tickets) == [f"2026-{n:06d}" for n in range(1, 25)]
    calls = emu.calls_since(mark, "sendMessage")
    acks = [c for c in calls if c.params["chat_id"] == group.id]
    cards = [c for c in calls if c.params["chat_id"] == running.admin_of("qingxi").id]
    assert len(acks) == 24 and len(cards) == 24
    number_of = {t.text: t.number for t in tickets}
    for i in range(len(members)):
        first, second = (number_of[f"第{n}件事:{i}号路口的路灯坏了"] for n in (1, 2))
        assert first < second, "one member's reports are handled in the order they wrote them"
    stored = {t.number: t.admin_message_id for t in tickets}
    assert None not in stored.values(), "every card's place was recorded"
