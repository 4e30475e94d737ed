"""Helpers the emulator flows share: residents who choose a village, pressing buttons by their
label, forging button presses, reading what the bot sent, staff enrolled through an
invitation, and running the `fengqiao` command."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bot.dto import Person
from bot.sandbox.emulated import EmulatedDesk
from bot.sandbox.emulator import BotApiEmulator, Call, Chat, User
from storage import people
from tests.conftest import ROOT

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


async def staff(
    world: EmulatedDesk, uid: int, name: str, role: str = "cadre", place: str = "qingxi"
) -> User:
    """A registered staff member (as an accepted invitation leaves them), and their user."""
    from storage.models import Staff

    now = world.desk.clock.now()
    async with world.desk.sessions() as session, session.begin():
        session.add(
            Staff(
                telegram_id=uid,
                display_name=name,
                role=role,
                place_id=place,
                created_at=now,
                updated_at=now,
            )
        )
    return world.emu.user(uid, name)


def last_with_buttons(world: EmulatedDesk, chat: Chat, needle: str) -> JSON:
    """The newest message in the chat containing `needle` (as it looks now, edits applied)."""
    found = [
        m for m in world.emu.messages(chat) if needle in str(m.get("text", m.get("caption", "")))
    ]
    assert found, f"no message with {needle!r} in chat {chat.id}"
    return found[-1]


async def press_on(world: EmulatedDesk, user: User, message: JSON, label: str) -> JSON:
    """Press the button labelled `label` on a message as it looks now, and wait; the
    answerCallbackQuery the press drew."""
    current = world.emu.message(message["chat"]["id"], message["message_id"])
    assert current is not None
    labels = dict(world.emu.buttons(current))
    assert label in labels, f"{label!r} not among {list(labels)}"
    query_id = await world.emu.press(user, current, labels[label])
    await world.emu.settle()
    return world.emu.callback_answer(query_id) or {}


async def card_of(world: EmulatedDesk, number: str) -> JSON:
    """The ticket's card where the desk last posted it, as it looks now."""
    ticket = next(t for t in await world.desk.tickets.all() if t.number == number)
    assert ticket.admin_chat_id is not None and ticket.admin_message_id is not None
    card = world.emu.message(ticket.admin_chat_id, ticket.admin_message_id)
    assert card is not None
    return card


async def exchange(
    world: EmulatedDesk, user: User, chat: Chat, text: str, reply_to: JSON | None = None
) -> str:
    """Send `text` and wait: everything the bot sent into that chat meanwhile, joined."""
    mark = world.emu.mark()
    await world.emu.send_text(user, chat, text, reply_to=reply_to)
    await world.emu.settle()
    return "\n".join(
        texts_of([c for c in world.emu.calls_since(mark, "sendMessage") if to(chat)(c)])
    )


async def enrol(
    world: EmulatedDesk, uid: int, name: str, role: str = "admin", place: str = "qingxi"
) -> User:
    """A person invited by an operator who opened the invitation link: active staff."""
    code = await world.desk.staff.create_invite(role, place)
    user = world.emu.user(uid, name)
    welcome = await exchange(world, user, world.emu.private_chat(user), f"/start inv_{code}")
    assert "已登记" in welcome, welcome
    return user


async def audit_actions(world: EmulatedDesk) -> list[str]:
    """The audit trail's actions, oldest first."""
    async with world.desk.sessions() as session:
        return [event.action for event in await people.audit_events(session)]


def fengqiao(
    *args: str, database: Path, stdin: str = "", env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the `fengqiao` command as its own process on the database."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    environment = {
        **inherited,
        "FENGQIAO_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "FENGQIAO_CONFIG_DIR": str(ROOT / "config"),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def submit(
    world: EmulatedDesk, uid: int, text: str, name: str = "张三", village: str = "青溪村"
) -> str:
    """A resident reports `text` from a private chat; the ticket's number."""
    user, chat = await resident(world, uid, name, village)
    await world.emu.send_text(user, chat, text)
    draft = await world.emu.wait_for("sendMessage", to(chat))
    await press(world, user, chat, draft, "✅ 提交")
    return (await world.desk.tickets.all())[-1].number


async def answer_by_prompt(world: EmulatedDesk, cadre: User, number: str, text: str) -> None:
    """The cadre presses 回复 on the ticket's card and sends the answer into that chat."""
    card = await card_of(world, number)
    await press_on(world, cadre, card, "💬 回复")
    await world.emu.send_text(cadre, world.chats[card["chat"]["id"]], text)
    await world.emu.settle()


async def join_as_supporter(
    world: EmulatedDesk, uid: int, name: str, text: str, number: str
) -> tuple[User, Chat]:
    """A second resident writes about the same matter and presses 我也遇到 on the ticket."""
    user, chat = await resident(world, uid, name)
    await world.emu.send_text(user, chat, text)
    draft = await world.emu.wait_for("sendMessage", to(chat))
    await press(world, user, chat, draft, f"🙋 我也遇到({number})")
    return user, chat


SENDING = ("sendMessage", "sendPhoto", "sendLocation", "editMessageText", "editMessageCaption")


def calls_into(emu: BotApiEmulator, chat: Chat | int, since: int = 0) -> list[Call]:
    """Every message the bot sent or edited into the chat since the mark (every version of
    every message, not only how it looks now)."""
    chat_id = chat.id if isinstance(chat, Chat) else chat
    return [
        c
        for c in emu.calls_since(since)
        if c.method in SENDING and c.params.get("chat_id") == chat_id
    ]


def said_into(emu: BotApiEmulator, chat: Chat | int, since: int = 0) -> str:
    """The texts and captions of `calls_into`, joined."""
    return "\n".join(
        str(c.params.get("text") or c.params.get("caption") or "")
        for c in calls_into(emu, chat, since)
    )
