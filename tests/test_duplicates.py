"""Same matter (同一问题?): joining a similar open ticket adds a supporter, not a ticket."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.sandbox.emulated import EmulatedDesk
from tests.test_private_flow import press, resident, to


async def submit_first(world: EmulatedDesk, text: str) -> str:
    emu = world.emu
    user, chat = await resident(world, 4001, "张三")
    await emu.send_text(user, chat, text)
    draft = await emu.wait_for("sendMessage", to(chat))
    await press(world, user, chat, draft, "✅ 提交")
    (ticket,) = await world.desk.tickets.all()
    return ticket.number


async def test_me_too_joins_instead_of_opening_a_second_ticket(running: EmulatedDesk) -> None:
    emu = running.emu
    number = await submit_first(running, "村口垃圾三天没人收了,电话13812345678")
    user, chat = await resident(running, 4002, "李四")
    await emu.send_text(user, chat, "村口的垃圾堆好几天没人清运,臭死了")
    draft = await emu.wait_for("sendMessage", to(chat))
    assert "同一问题" in draft.params["text"] and number in draft.params["text"]
    assert "13812345678" not in draft.params["text"], "another resident's phone stays masked"
    message = emu.message(chat, draft.response["message_id"])
    assert message is not None
    buttons = dict(emu.buttons(message))
    await emu.press(user, message, buttons[f"🙋 我也遇到({number})"])
    await emu.settle()
    assert len(await running.desk.tickets.all()) == 1
    joined = emu.message(chat, draft.response["message_id"])
    assert joined is not None and "已加入工单" in joined["text"] and "2 位居民" in joined["text"]
    card = emu.last_message(running.admin_of("qingxi"))
    assert card is not None and "附议:1 位居民" in card["text"]
    # The supporter follows the ticket like its owner.
    await emu.send_text(user, chat, "/my")
    listing = await emu.wait_for("sendMessage", to(chat))
    assert number in listing.params["text"]
    await emu.send_text(user, chat, f"/ticket {number}")
    detail = await emu.wait_for("sendMessage", to(chat))
    assert "有居民附议" in detail.params["text"]


async def test_different_matter_or_other_village_is_not_offered(running: EmulatedDesk) -> None:
    emu = running.emu
    await submit_first(running, "村口垃圾三天没人收了")
    user, chat = await resident(running, 4003, "王五")
    await emu.send_text(user, chat, "村口路灯坏了好几天")
    draft = await emu.wait_for("sendMessage", to(chat))
    assert "同一问题" not in draft.params["text"]
    await emu.send_text(user, chat, "/cancel")
    await emu.settle()
    await emu.send_text(user, chat, "/place")
    await emu.settle()
    place_msg = emu.last_message(chat)
    assert place_msg is not None
    await emu.press(user, place_msg, dict(emu.buttons(place_msg))["桃源村"])
    await emu.settle()
    await emu.send_text(user, chat, "村口的垃圾堆好几天没人清运")
    draft = await emu.wait_for("sendMessage", to(chat))
    assert "同一问题" not in draft.params["text"], "another village's ticket"


async def test_old_tickets_are_not_offered(running: EmulatedDesk, clock: FakeClock) -> None:
    emu = running.emu
    await submit_first(running, "村口垃圾三天没人收了")
    clock.advance(timedelta(days=15))
    user, chat = await resident(running, 4004, "赵六")
    await emu.send_text(user, chat, "村口的垃圾堆好几天没人清运")
    draft = await emu.wait_for("sendMessage", to(chat))
    assert "同一问题" not in draft.params["text"]


async def test_own_ticket_is_not_offered_back(running: EmulatedDesk, clock: FakeClock) -> None:
    emu = running.emu
    await submit_first(running, "村口垃圾三天没人收了")
    user = emu.user(4001, "张三")
    chat = emu.private_chat(user)
    clock.advance(timedelta(hours=1))
    await emu.send_text(user, chat, "村口的垃圾还是没人清运")
    draft = await emu.wait_for("sendMessage", to(chat))
    assert "同一问题" not in draft.params["text"]
