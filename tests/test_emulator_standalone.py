"""`fengqiao emulator` as a real process, driven through its control API by `EmulatorClient`."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, RetryAfter

from bot.places import PlaceDirectory
from bot.sandbox.emulator import BotApiEmulator, ControlError, EmulatorClient

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
TOKEN = "4242:STANDALONE"
ANNOUNCED = re.compile(r"FENGQIAO_BOT_API_URL=(\S+) FENGQIAO_BOT_TOKEN=(\S+)")


@dataclass
class Running:
    process: asyncio.subprocess.Process
    url: str
    token: str


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "emulator",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    process = await _spawn("--port", "0", "--config-dir", str(CONFIG), "--limits", "--token", TOKEN)
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        found = ANNOUNCED.fullmatch(line.strip())
        assert found, f"unexpected first line {line!r}"
        yield Running(process, found[1], found[2])
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 10)
    assert code == 0


async def test_the_standalone_emulator_end_to_end(running: Running) -> None:
    assert running.token == TOKEN
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", running.url)
    async with (
        EmulatorClient(running.url) as emu,
        Bot(TOKEN, base_url=f"{running.url}/bot") as bot,
    ):
        state = await emu.state()
        assert (state.token, state.pending, state.all_fetched) == (TOKEN, 0, True)
        assert [c.method for c in await emu.calls()] == ["getMe"]  # the Bot's initialize()

        # Every configured chat, titled as in the emulated desk.
        titles = {c["id"]: c.get("title") for c in await emu.chats()}
        for place in PlaceDirectory.load(CONFIG):
            if place.admin_chat_id is not None:
                assert titles[place.admin_chat_id] == f"{place.name}管理群"
            if place.group_chat_id is not None:
                assert titles[place.group_chat_id] == f"{place.name}村民群"

        await emu.user(1001, "张三", username="zhangsan")
        dm = (await emu.private_chat(1001))["id"]
        sent = await emu.send_text(1001, dm, "村口垃圾三天没人收了")
        [update] = await bot.get_updates(timeout=0)
        assert update.message is not None and update.message.text == sent["text"]

        # The bot answers with a button; the second send within a second hits the flood limit.
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("受理", callback_data="take:1")]])
        reply = await bot.send_message(dm, "收到", reply_markup=keyboard)
        with pytest.raises(RetryAfter):
            await bot.send_message(dm, "太快了")
        assert (await emu.state()).flood_refusals == [("sendMessage", dm)]
        call = await emu.wait_for("sendMessage", lambda c: c.ok)
        assert call.params["text"] == "收到" and call.response["message_id"] == reply.message_id
        assert [c.ok for c in await emu.calls(call.index, "sendMessage")] == [True, False]
        assert [m["text"] for m in await emu.messages(dm)] == ["村口垃圾三天没人收了", "收到"]
        assert [m["text"] for m in await emu.messages(dm, from_bot=True)] == ["收到"]

        # A button press and a reply, as the user would.
        query_id = await emu.press(1001, dm, reply.message_id, "take:1")
        await emu.send_text(1001, dm, "补充:在桥头", reply_to=reply.message_id)
        pressed, replied = await bot.get_updates(offset=update.update_id + 1, timeout=0)
        assert pressed.callback_query is not None and pressed.callback_query.id == query_id
        assert pressed.callback_query.data == "take:1"
        assert replied.message is not None and replied.message.reply_to_message is not None
        assert replied.message.reply_to_message.message_id == reply.message_id
        with pytest.raises(ControlError) as missing:
            await emu.press(1001, dm, reply.message_id, text="不存在")
        assert missing.value.status == 404

        # Faults and redelivery.
        fault_id = await emu.fail("answerCallbackQuery", status=502)
        assert [f["id"] for f in await emu.faults()] == [fault_id]
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.answer_callback_query(query_id)
        assert await emu.faults() == []
        assert await emu.redeliver(update.update_id) is True
        [again] = await bot.get_updates(offset=replied.update_id + 1, timeout=0)
        assert again.update_id == update.update_id
        assert await bot.get_updates(offset=replied.update_id + 1, timeout=0) == ()

        await emu.settle(quiet=0.05)
        state = await emu.state()
        assert state.all_fetched and state.pending == 0
        assert state.last_update_id == state.fetched_up_to == replied.update_id


async def test_a_missing_config_is_one_clear_line(tmp_path: Path) -> None:
    process = await _spawn("--port", "0", "--config-dir", str(tmp_path))
    stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    assert stdout == b""
    assert b"places.toml is missing" in stderr and b"Traceback" not in stderr


# --- the control API in process: its error answers ------------------------------------------------


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN, control=True) as emulator:
        yield emulator


async def test_control_errors_and_fault_cancelling(emu: BotApiEmulator) -> None:
    async with EmulatorClient(emu.url) as client:
        with pytest.raises(ControlError) as raised:
            await client.send_text(7, 7, "谁")
        assert raised.value.status == 404
        with pytest.raises(ControlError) as raised:
            await client.fail("sendTelepathy")
        assert raised.value.status == 400
        with pytest.raises(ControlError) as raised:
            await client.redeliver(1)
        assert raised.value.status == 404

        fault_id = await client.fail("sendMessage", hang=5, times=3, match={"chat_id": 5})
        [armed] = await client.faults()
        assert (armed["hang"], armed["remaining"], armed["status"]) == (5, 3, None)
        await client.cancel_fault(fault_id)
        assert emu.faults == []

        await client.user(5, "李四")
        await client.private_chat(5)
        await client.send_text(5, 5, "没人收")
        with pytest.raises(TimeoutError):
            await client.settle(timeout=0.05)
        with pytest.raises(TimeoutError):
            await client.wait_for("sendMessage", timeout=0.05)

    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{emu.url}/control/users", json={"id": 1}) as response,
    ):
        assert response.status == 400
        assert await response.json() == {"error": "missing field 'first_name'"}
