"""Helpers the emulator flows share: residents who choose a village, pressing buttons by their
label, forging button presses, and reading what the bot sent."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from bot.dto import Person
from bot.sandbox.emulated import EmulatedDesk
from bot.sandbox.emulator import BotApiEmulator, Call, Chat, User

JSON = dict[str, Any]

_forged_ids = itertools.count(900_000_001)


def to(chat: Chat) -> Callable[[Call], bool]:
    """A `wait_for` predicate: calls addressed to the chat."""
    return lambda call: call.params.get("chat_id") == chat.id


def texts_of(calls: list[Call]) -> list[str]:
    return [str(c.params.get("text", "")) for c in calls]


def person(user: User) -> Person:
    """The plain-value person the desk's services know the user as."""
    return Person(user.id, user.first_name)


async def choose_village(world: EmulatedDesk, user: User, chat: Chat, name: str) -> None:
    """Answer the village question the bot asked in the chat by pressing the village's button."""
    ask = await world.emu.wait_for("sendMessage", lambda c: "选择您所在" in c.params["text"])
    message = world.emu.message(chat, ask.response["message_id"])
    assert message is not None
    data = dict(world.emu.buttons(message))[name]
    assert data is not None
    await world.emu.press(user, message, data)
    await world.emu.settle()


async def press(world: EmulatedDesk, user: User, chat: Chat, sent: Call, label: str) -> None:
    """Press the button labelled `label` under the message `sent` created, and wait."""
    message = world.emu.message(chat, sent.response["message_id"])
    assert message is not None
    await world.emu.press(user, message, dict(world.emu.buttons(message))[label])
    await world.emu.settle()


async def resident(
    world: EmulatedDesk, uid: int = 1001, name: str = "张三", village: str = "青溪村"
) -> tuple[User, Chat]:
    """A user who pressed Start and chose their village."""
    user = world.emu.user(uid, name)
    chat = world.emu.private_chat(user)
    await world.emu.send_text(user, chat, "/start")
    await choose_village(world, user, chat, village)
    return user, chat


def forge_press(emu: BotApiEmulator, user: User, message: JSON, data: str) -> tuple[int, str]:
    """A callback query for `message` carrying `data` whatever its buttons show, as a modified
    client can send. Returns (update_id, query id); the query id is one the emulator never
    issued, so answering it fails like an expired query."""
    current = emu.message(message["chat"]["id"], message["message_id"]) or message
    query_id = str(next(_forged_ids))
    payload = {
        "id": query_id,
        "from": user.to_dict(),
        "message": current,
        "chat_instance": str(current["chat"]["id"]),
        "data": data,
    }
    return emu.inject("callback_query", payload), query_id
