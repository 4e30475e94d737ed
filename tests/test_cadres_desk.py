"""The cadres' desk over the emulator: a resident's message to a rating, with the cadres'
buttons, the relay both ways, reopening and escalation."""

from __future__ import annotations

from bot.sandbox.emulated import EmulatedDesk
from tests.support import (
    answer_by_prompt,
    card_of,
    join_as_supporter,
    last_with_buttons,
    press,
    press_on,
    resident,
    staff,
    submit,
    to,
)


async def test_the_whole_loop_from_a_message_to_a_rating(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, "村口的路灯坏了一个星期了,晚上走路看不见")
    admin = running.admin_of("qingxi")
    cadre = await staff(running, 5001, "李主任")
    card = last_with_buttons(running, admin, number)
    await press_on(running, cadre, card, "✋ 受理")
    resident_chat = emu.private_chat(emu.user(1001, "张三"))
    assert "已受理" in (emu.last_message(resident_chat) or {})["text"]
    assert "办理人:李主任" in (emu.message(admin, card["message_id"]) or {})["text"]
    await press_on(running, cadre, card, "💬 回复")
    await emu.send_text(cadre, admin, "已安排电工明天上午来修。")
    await emu.settle()
    answer = last_with_buttons(running, resident_chat, "的答复")
    assert "已安排电工明天上午来修" in answer["text"]
    await press_on(running, emu.user(1001, "张三"), answer, "😊 满意")
    (ticket,) = await running.desk.tickets.all()
    assert ticket.status == "closed"
    assert "满意" in last_with_buttons(running, admin, "居民评价")["text"]


async def test_unsatisfied_reopens_and_the_third_time_escalates_to_the_township(
    running: EmulatedDesk,
) -> None:
    emu = running.emu
    number = await submit(running, 1001, "村口的路灯坏了一个星期了,晚上走路看不见")
    cadre = await staff(running, 5001, "李主任")
    officer = await staff(running, 6001, "赵镇长", role="township", place="qingshan-town")
    reporter = emu.user(1001, "张三")
    chat = emu.private_chat(reporter)
    for round_ in range(3):
        await answer_by_prompt(running, cadre, number, f"第{round_ + 1}次答复:已经报修。")
        await press_on(
            running,
            reporter,
            last_with_buttons(running, chat, f"第{round_ + 1}次答复"),
            "😞 不满意",
        )
        (ticket,) = await running.desk.tickets.all()
        assert ticket.status == "open"
        assert ticket.level == ("village" if round_ < 2 else "township")
    township = running.chats[-1001000000010]
    card = await card_of(running, number)
    assert card["chat"]["id"] == township.id and "已上报至青山镇" in card["text"]
    assert "上报至青山镇" in (emu.last_message(chat) or {})["text"]
    # The village's card keeps its history but loses its buttons; the township officer acts.
    old = [m for m in emu.messages(running.admin_of("qingxi")) if number in str(m.get("text"))]
    assert old and not emu.buttons(old[0]) and "已上报至青山镇" in old[0]["text"]
    await press_on(running, officer, card, "✋ 受理")
    (ticket,) = await running.desk.tickets.all()
    assert ticket.status == "accepted" and ticket.handler_name == "赵镇长"


async def test_relay_both_ways_with_photos_and_anonymity(running: EmulatedDesk) -> None:
    emu = running.emu
    user, chat = await resident(running, 1001, "张三")
    await emu.send_text(user, chat, "我家门口的排水沟堵了,污水漫到路上,我电话13812345678")
    draft = await emu.wait_for("sendMessage", to(chat))
    await press(running, user, chat, draft, "🕶 匿名提交")
    (ticket,) = await running.desk.tickets.all()
    admin = running.admin_of("qingxi")
    card = last_with_buttons(running, admin, ticket.number)
    assert "匿名居民" in card["text"] and "张三" not in card["text"]
    assert "13812345678" not in card["text"]
    cadre = await staff(running, 5001, "李主任")
    await press_on(running, cadre, card, "❓ 补充")
    await emu.send_text(cadre, admin, "请问具体是哪一段排水沟?能拍张照片吗?")
    await emu.settle()
    question = last_with_buttons(running, chat, "想了解更多情况")
    assert "李主任" not in question["text"], "the resident never sees a cadre's account"
    await emu.send_photo(user, chat, "就是这一段,靠近小卖部", reply_to=question)
    await emu.settle()
    relayed = [m for m in emu.messages(admin) if "居民补充" in str(m.get("text", ""))]
    assert relayed and "匿名居民" in relayed[-1]["text"] and "张三" not in relayed[-1]["text"]
    assert "就是这一段" in relayed[-1]["text"]
    assert any("photo" in m for m in emu.messages(admin)), "the photo reaches the cadres"
    # A cadre's answer with a photo, as a reply to the card, reaches the resident.
    await emu.send_photo(cadre, admin, "已清理完毕,请看现场照片", reply_to=card)
    await emu.settle()
    answer_msg = last_with_buttons(running, chat, "已清理完毕")
    assert "的答复" in answer_msg["text"]
    assert any("photo" in m for m in emu.messages(chat))
    (ticket,) = await running.desk.tickets.all()
    assert ticket.status == "answered"


async def test_supporters_hear_of_every_change_and_the_answer(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, "村口的路灯坏了一个星期了,晚上走路看不见")
    other, other_chat = await join_as_supporter(
        running, 1002, "王五", "村口路灯坏了好多天,晚上黑乎乎的", number
    )
    cadre = await staff(running, 5001, "李主任")
    await press_on(
        running, cadre, last_with_buttons(running, running.admin_of("qingxi"), number), "✋ 受理"
    )
    assert "已受理" in (emu.last_message(other_chat) or {})["text"]
    await answer_by_prompt(running, cadre, number, "路灯已经修好了。")
    supporter_answer = last_with_buttons(running, other_chat, "路灯已经修好了")
    await press_on(running, other, supporter_answer, "🙂 基本满意")
    (ticket,) = await running.desk.tickets.all()
    assert ticket.status == "answered", "a supporter's rating is recorded, it does not close"


async def test_a_complaint_about_the_village_cadres_goes_to_the_township(
    running: EmulatedDesk,
) -> None:
    emu = running.emu
    mark = emu.mark()
    number = await submit(running, 1001, "举报村干部优亲厚友,把低保名额给了自己亲戚,村务也不公开")
    (ticket,) = await running.desk.tickets.all()
    assert ticket.category == "village_affairs" and ticket.level == "township"
    township = running.chats[-1001000000010]
    assert any(
        number in str(c.params.get("text", ""))
        for c in emu.calls_since(mark, "sendMessage")
        if c.params["chat_id"] == township.id
    )
    assert not any(
        number in str(m.get("text", "")) for m in emu.messages(running.admin_of("qingxi"))
    )
    village_cadre = await staff(running, 5001, "李主任")
    card = last_with_buttons(running, township, number)
    mark = emu.mark()
    await press_on(running, village_cadre, card, "✋ 受理")
    (ticket,) = await running.desk.tickets.all()
    assert ticket.status == "open", "the village's cadre is not in charge of a complaint about them"


async def test_a_satisfied_rating_closes_and_supporters_are_told_so(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, "村口的路灯坏了一个星期了,晚上走路看不见")
    _, other_chat = await join_as_supporter(
        running, 1002, "王五", "村口路灯坏了好多天,晚上黑乎乎的", number
    )
    cadre = await staff(running, 5001, "李主任")
    await answer_by_prompt(running, cadre, number, "路灯已经修好了。")
    reporter = emu.user(1001, "张三")
    chat = emu.private_chat(reporter)
    mark = emu.mark()
    await press_on(running, reporter, last_with_buttons(running, chat, "路灯已经修好了"), "😊 满意")
    to_reporter = [
        c.params["text"] for c in emu.calls_since(mark) if c.params.get("chat_id") == chat.id
    ]
    assert to_reporter and all("重新办理" not in t for t in to_reporter), to_reporter
    assert "感谢评价:满意" in to_reporter[-1]
    assert "已办结" in (emu.last_message(other_chat) or {})["text"]


async def test_only_the_cadre_a_prompt_waits_on_can_cancel_it(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit(running, 1001, "村口的路灯坏了一个星期了,晚上走路看不见")
    first = await staff(running, 5001, "李主任")
    second = await staff(running, 5002, "王会计")
    admin = running.admin_of("qingxi")
    await press_on(running, first, await card_of(running, number), "💬 回复")
    prompt = last_with_buttons(running, admin, "请直接发送给居民")
    await press_on(running, second, prompt, "✖️ 取消")
    assert "其他干部" in emu.calls_since(0, "answerCallbackQuery")[-1].params.get("text", "")
    await press_on(running, first, prompt, "✖️ 取消")
    await emu.send_text(first, admin, "这句是干部之间的闲聊")
    await emu.settle()
    (ticket,) = await running.desk.tickets.all()
    assert ticket.status == "open" and ticket.answers == 0


async def test_the_resident_sees_the_public_timeline_without_internal_notes(
    running: EmulatedDesk,
) -> None:
    emu = running.emu
    number = await submit(running, 1001, "村口的路灯坏了一个星期了,晚上走路看不见")
    cadre = await staff(running, 5001, "李主任")
    admin = running.admin_of("qingxi")
    await press_on(running, cadre, await card_of(running, number), "📝 备注")
    await emu.send_text(cadre, admin, "内部备注:这户上次也反映过")
    await emu.settle()
    await press_on(running, cadre, await card_of(running, number), "✋ 受理")
    user = emu.user(1001, "张三")
    chat = emu.private_chat(user)
    await emu.send_text(user, chat, f"/ticket {number}")
    detail = await emu.wait_for(
        "sendMessage",
        lambda c: (
            "/ticket" not in c.params["text"]
            and number in c.params["text"]
            and c.params["chat_id"] == chat.id
        ),
    )
    assert "干部已受理" in detail.params["text"]
    assert "备注" not in detail.params["text"] and "这户上次" not in detail.params["text"]
    await emu.send_text(cadre, admin, f"/ticket {number}")
    await emu.settle()
    assert "这户上次也反映过" in (emu.last_message(admin) or {})["text"]


async def test_a_later_message_can_be_added_to_an_open_ticket_chosen_from_the_preview(
    running: EmulatedDesk,
) -> None:
    emu = running.emu
    number = await submit(running, 1001, "村口的路灯坏了一个星期了,晚上走路看不见")
    user = emu.user(1001, "张三")
    chat = emu.private_chat(user)
    mark = emu.mark()
    await emu.send_text(user, chat, "补充一下:是靠近小学那一盏,灯杆也歪了")
    draft = await emu.wait_for("sendMessage", to(chat), since=mark)
    await press(running, user, chat, draft, f"📎 补充到我的工单 {number}")
    assert "已补充到工单" in (emu.message(chat, draft.response["message_id"]) or {})["text"]
    assert len(await running.desk.tickets.all()) == 1, "no second ticket"
    relayed = last_with_buttons(running, running.admin_of("qingxi"), "居民补充")
    assert "灯杆也歪了" in relayed["text"]


async def test_a_group_report_hears_of_its_answer_in_the_group_without_details(
    running: EmulatedDesk,
) -> None:
    emu = running.emu
    group = running.group_of("qingxi")
    user = emu.user(1003, "赵六")
    await emu.send_text(user, group, "/ts 村委会门口的路灯坏了好几天了")
    await emu.settle()
    (ticket,) = await running.desk.tickets.all()
    cadre = await staff(running, 5001, "李主任")
    await answer_by_prompt(running, cadre, ticket.number, "已经安排电工明天来修,谢谢反映。")
    update = last_with_buttons(running, group, "有新进展")
    assert ticket.number in update["text"] and "已答复" in update["text"]
    assert "电工" not in update["text"], "the answer itself goes privately"
    assert any("url" in b for row in update["reply_markup"]["inline_keyboard"] for b in row)


async def test_admin_chats_get_the_cadres_command_menu(running: EmulatedDesk) -> None:
    admin = running.admin_of("qingxi")
    menu = running.emu.commands({"type": "chat", "chat_id": admin.id})
    assert {c["command"] for c in menu} >= {"open", "mine", "overdue", "find", "ticket"}
    groups = running.emu.commands({"type": "all_group_chats"})
    assert "open" not in {c["command"] for c in groups}, "residents' groups keep their own menu"


async def test_transfer_to_another_village_or_to_a_grid_worker(running: EmulatedDesk) -> None:
    emu = running.emu
    first = await submit(running, 1001, "村口的路灯坏了一个星期了,晚上走路看不见")
    cadre = await staff(running, 5001, "李主任")
    await staff(running, 5003, "周网格员", role="grid", place="qingxi-1")
    admin = running.admin_of("qingxi")
    await press_on(running, cadre, await card_of(running, first), "🔀 转派")
    choice = last_with_buttons(running, admin, "转派给")
    labels = [label for label, _ in emu.buttons(choice)]
    assert "📍 桃源村" in labels and "👤 周网格员(网格员)" in labels
    await press_on(running, cadre, choice, "👤 周网格员(网格员)")
    (ticket,) = await running.desk.tickets.all()
    assert ticket.status == "accepted" and ticket.handler_name == "周网格员"
    await press_on(running, cadre, await card_of(running, first), "🔀 转派")
    await press_on(running, cadre, last_with_buttons(running, admin, "转派给"), "📍 桃源村")
    (ticket,) = await running.desk.tickets.all()
    assert ticket.place_id == "taoyuan" and ticket.status == "open"
    card = await card_of(running, first)
    assert card["chat"]["id"] == running.admin_of("taoyuan").id and emu.buttons(card)
    old = [m for m in emu.messages(admin) if f"工单 {first}" in str(m.get("text"))]
    assert old and not emu.buttons(old[0]), "the village's old card keeps no buttons"
