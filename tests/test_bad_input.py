"""Every bad input gets a clear Chinese reply and leaves nothing half-stored."""

from __future__ import annotations

import pytest

from bot.sandbox.emulated import EmulatedDesk
from bot.sandbox.emulator import Chat, User


async def person(world: EmulatedDesk, uid: int = 3001) -> tuple[User, Chat]:
    user = world.emu.user(uid, "测试")
    return user, world.emu.private_chat(user)


async def reply_to(world: EmulatedDesk, chat: Chat) -> str:
    call = await world.emu.wait_for("sendMessage", lambda c: c.params["chat_id"] == chat.id)
    return str(call.params["text"])


@pytest.mark.parametrize("text", ["   ", "\n\t "])
async def test_blank_text(running: EmulatedDesk, text: str) -> None:
    user, chat = await person(running)
    await running.emu.send_text(user, chat, text)
    assert "内容是空的" in await reply_to(running, chat)
    assert await running.desk.intake.draft(_p(user)) is None


async def test_sticker_and_voice(running: EmulatedDesk) -> None:
    user, chat = await person(running)
    await running.emu.send_sticker(user, chat)
    assert "只能识别文字" in await reply_to(running, chat)
    await running.emu.send_voice(user, chat)
    assert "只能识别文字" in await reply_to(running, chat)
    assert await running.desk.intake.draft(_p(user)) is None


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/ticket", "/ticket 2026-000123"),
        ("/ticket abc", "不是有效的工单号"),
        ("/ticket 2026-999999", "没有找到工单 2026-999999"),
        ("/ts", "/ts 村口垃圾"),
        ("/qz   ", "/qz"),
        ("/frobnicate", "不认识这个命令"),
        ("/cancel", "没有未提交的草稿"),
        ("/my", "还没有提交过工单"),
    ],
)
async def test_commands_with_missing_or_wrong_arguments(
    running: EmulatedDesk, command: str, expected: str
) -> None:
    user, chat = await person(running)
    await running.emu.send_text(user, chat, command)
    assert expected in await reply_to(running, chat)
    assert await running.desk.tickets.all() == []


async def test_edited_message_is_answered_not_applied(running: EmulatedDesk) -> None:
    user, chat = await person(running)
    sent = await running.emu.send_text(user, chat, "/help")
    await running.emu.settle()
    await running.emu.edit_text(user, sent, "改过的内容")
    assert "不会更新" in await reply_to(running, chat)


async def test_too_long_text(running: EmulatedDesk) -> None:
    user, chat = await person(running)
    await running.emu.send_text(user, chat, "路" * 3500)
    assert "内容太长" in await reply_to(running, chat)
    assert await running.desk.intake.draft(_p(user)) is None


async def test_a_crashing_handler_is_reported_and_the_bot_keeps_running(
    running: EmulatedDesk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    user, chat = await person(running)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(running.desk.tickets, "of_resident", broken)
    await running.emu.send_text(user, chat, "/my")
    assert "系统出了点问题" in await reply_to(running, chat)
    assert any("failed" in r.message for r in caplog.records)
    monkeypatch.undo()
    await running.emu.send_text(user, chat, "/my")
    assert "还没有提交过工单" in await reply_to(running, chat)


def _p(user: User) -> object:
    from bot.dto import Person

    return Person(user.id, user.first_name)
