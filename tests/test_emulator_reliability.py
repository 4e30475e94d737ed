"""The emulator where reliability matters: flood limits, injected faults, redelivered updates."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from telegram import Bot, InputMediaPhoto, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.sandbox.emulator import BotApiEmulator, Chat, FloodLimits, User

TOKEN = "123456789:TEST-fengqiao-emulator"


class Clock:
    """The flood windows' monotonic clock, stepped by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def emu(clock: Clock) -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN, monotonic=clock) as emulator:
        yield emulator


@pytest.fixture
async def limited(clock: Clock) -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN, limits=FloodLimits(), monotonic=clock) as emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _bot(emu: BotApiEmulator, read_timeout: float = 5.0) -> Bot:
    return Bot(
        TOKEN,
        base_url=emu.base_url,
        base_file_url=emu.base_file_url,
        request=HTTPXRequest(read_timeout=read_timeout),
        get_updates_request=HTTPXRequest(read_timeout=read_timeout),
    )


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with _bot(emu) as client:
        yield client


async def _api(
    http: aiohttp.ClientSession, emu: BotApiEmulator, method: str, **params: Any
) -> tuple[int, Any]:
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    async with http.post(f"{emu.base_url}{TOKEN}/{method}", data=form) as response:
        return response.status, await response.json()


def _seconds(error: RetryAfter) -> float:
    # PTB 22 gives an int (with a deprecation warning) or a timedelta, by its PTB_TIMEDELTA.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _too_many(n: int) -> tuple[int, Any]:
    return 429, {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {n}",
        "parameters": {"retry_after": n},
    }


def _people(emu: BotApiEmulator, n: int) -> list[tuple[User, Chat]]:
    users = [emu.user(2000 + i, f"村民{i}") for i in range(n)]
    return [(u, emu.private_chat(u)) for u in users]


# --- flood limits -----------------------------------------------------------------------------


async def test_limits_are_off_by_default(emu: BotApiEmulator, bot: Bot) -> None:
    [(_, dm)] = _people(emu, 1)
    for n in range(5):
        await bot.send_message(dm.id, f"第{n}条")
    assert len(emu.sent_messages(dm)) == 5
    assert emu.flood_refusals == []


async def test_private_chat_one_per_second(
    limited: BotApiEmulator, http: aiohttp.ClientSession, clock: Clock
) -> None:
    [(_, dm)] = _people(limited, 1)
    status, _ = await _api(http, limited, "sendMessage", chat_id=dm.id, text="一")
    assert status == 200
    assert await _api(http, limited, "sendMessage", chat_id=dm.id, text="二") == _too_many(1)
    clock.advance(0.4)
    # Edits count too, and the wait is rounded up to whole seconds.
    first = limited.sent_messages(dm)[0]
    edit = await _api(
        http, limited, "editMessageText", chat_id=dm.id, message_id=first["message_id"], text="改"
    )
    assert edit == _too_many(1)
    assert [m["text"] for m in limited.sent_messages(dm)] == ["一"]  # refused = not performed
    assert limited.flood_refusals == [("sendMessage", dm.id), ("editMessageText", dm.id)]
    assert [c.ok for c in limited.calls] == [True, False, False]

    clock.advance(0.6)
    status, _ = await _api(http, limited, "sendMessage", chat_id=dm.id, text="二")
    assert status == 200


async def test_group_twenty_per_minute_seen_by_ptb(limited: BotApiEmulator, clock: Clock) -> None:
    group = limited.group_chat(-100555, "青溪村村民群")
    async with _bot(limited) as bot:
        for n in range(20):
            await bot.send_message(group.id, f"通知{n}")
            clock.advance(0.5)  # slow enough for the global window
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(group.id, "第21条")
        # The first send was 10 s ago: it leaves the window in 50 s.
        assert _seconds(refused.value) == 50
        clock.advance(49.5)
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(group.id, "第21条")
        assert _seconds(refused.value) == 1
        clock.advance(0.5)
        await bot.send_message(group.id, "第21条")
    assert len(limited.sent_messages(group)) == 21
    assert limited.flood_refusals == [("sendMessage", group.id)] * 2


async def test_global_thirty_per_second(
    limited: BotApiEmulator, http: aiohttp.ClientSession, clock: Clock
) -> None:
    people = _people(limited, 31)
    for _, dm in people[:30]:
        status, _ = await _api(http, limited, "sendMessage", chat_id=dm.id, text="通知")
        assert status == 200
        clock.advance(0.01)
    last = people[30][1]
    assert await _api(http, limited, "sendMessage", chat_id=last.id, text="通知") == _too_many(1)
    assert limited.flood_refusals == [("sendMessage", last.id)]
    clock.advance(0.71)  # one second after the first send
    status, _ = await _api(http, limited, "sendMessage", chat_id=last.id, text="通知")
    assert status == 200


async def test_uncounted_and_failed_calls_leave_the_windows_alone(
    limited: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    [(user, dm)] = _people(limited, 1)
    # A refused-by-validation send is not performed, so it does not use up the chat's second.
    status, _ = await _api(http, limited, "sendMessage", chat_id=dm.id, text="")
    assert status == 400
    keyboard = {"inline_keyboard": [[{"text": "确认", "callback_data": "ok"}]]}
    status, sent = await _api(
        http, limited, "sendMessage", chat_id=dm.id, text="一", reply_markup=keyboard
    )
    assert status == 200
    query_id = await limited.press(user, sent["result"], "ok")
    calls: list[tuple[str, dict[str, Any]]] = [
        ("sendChatAction", {"chat_id": dm.id, "action": "typing"}),
        ("getMe", {}),
        ("setMyCommands", {"commands": [{"command": "start", "description": "开始"}]}),
        ("getUpdates", {}),
        ("answerCallbackQuery", {"callback_query_id": query_id}),
    ]
    for method, params in calls:
        assert (await _api(http, limited, method, **params))[0] == 200, method
    assert limited.flood_refusals == []


# --- injected faults, seen by a real telegram.Bot -----------------------------------------------


async def test_bad_gateway_is_not_performed(emu: BotApiEmulator, bot: Bot) -> None:
    [(_, dm)] = _people(emu, 1)
    fault = emu.fail("sendMessage")
    with pytest.raises(NetworkError, match="Bad Gateway") as raised:
        await bot.send_message(dm.id, "一")
    assert type(raised.value) is NetworkError
    assert emu.sent_messages(dm) == []
    assert emu.calls[-1].response == {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    assert fault.calls == [emu.calls[-1]] and fault.remaining == 0 and emu.faults == []
    await bot.send_message(dm.id, "一")  # the fault was used up
    assert len(emu.sent_messages(dm)) == 1


async def test_other_statuses(emu: BotApiEmulator, bot: Bot) -> None:
    [(_, dm)] = _people(emu, 1)
    emu.fail("sendMessage", status=503)
    with pytest.raises(NetworkError, match="Service Unavailable"):
        await bot.send_message(dm.id, "一")
    emu.fail("sendMessage", status=403)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(dm.id, "一")
    emu.fail("editMessageText", status=400, description="Bad Request: message to edit not found")
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("改", chat_id=dm.id, message_id=1)
    emu.fail("sendMessage", retry_after=7, times=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(dm.id, "一")
        assert _seconds(refused.value) == 7
    assert emu.calls[-1].response["parameters"] == {"retry_after": 7}
    assert emu.sent_messages(dm) == []
    assert emu.flood_refusals == []  # injected, not the limits


async def test_predicate_match_and_cancel(emu: BotApiEmulator, bot: Bot) -> None:
    [(_, first), (_, second)] = _people(emu, 2)
    only_first = emu.fail("sendMessage", times=5, match={"chat_id": first.id})
    await bot.send_message(second.id, "二")
    with pytest.raises(NetworkError):
        await bot.send_message(first.id, "一")
    assert only_first.remaining == 4
    only_first.cancel()
    await bot.send_message(first.id, "一")

    emu.fail("sendMessage", predicate=lambda p: "紧急" in p["text"])
    await bot.send_message(first.id, "普通")
    with pytest.raises(NetworkError):
        await bot.send_message(first.id, "紧急通知")
    with pytest.raises(ValueError, match="does not serve"):
        emu.fail("sendTelepathy")
    with pytest.raises(ValueError, match="retry_after goes with status 429"):
        emu.fail("sendMessage", status=502, retry_after=3)


async def test_hang_performs_the_call_but_the_client_times_out(emu: BotApiEmulator) -> None:
    [(_, dm)] = _people(emu, 1)
    fault = emu.fail("sendMessage", hang=5)
    async with _bot(emu, read_timeout=0.2) as bot:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(dm.id, "一")
        assert time.monotonic() - started < 2
        # Telegram did it; the bot did not hear. Retrying blindly duplicates the message.
        [shown] = emu.sent_messages(dm)
        assert shown["text"] == "一"
        assert fault.calls[0].ok and fault.calls[0].response == shown
        await bot.send_message(dm.id, "一")
    assert [m["text"] for m in emu.sent_messages(dm)] == ["一", "一"]


async def test_late_error(emu: BotApiEmulator) -> None:
    [(_, dm)] = _people(emu, 1)
    emu.fail("sendMessage", status=502, hang=0.3)
    async with _bot(emu) as bot:
        started = time.monotonic()
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(dm.id, "一")
        assert time.monotonic() - started >= 0.3
    assert emu.sent_messages(dm) == []


async def test_stop_releases_a_held_response(http: aiohttp.ClientSession, clock: Clock) -> None:
    emulator = BotApiEmulator(token=TOKEN)
    await emulator.start()
    [(_, dm)] = _people(emulator, 1)
    emulator.fail("sendMessage", hang=30)
    held = asyncio.create_task(_api(http, emulator, "sendMessage", chat_id=dm.id, text="一"))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await emulator.stop()
    status, _ = await held
    assert status == 200
    assert time.monotonic() - started < 1.5


# --- redelivery ----------------------------------------------------------------------------------


async def test_unconfirmed_updates_come_again(emu: BotApiEmulator, bot: Bot) -> None:
    [(user, dm)] = _people(emu, 1)
    for text in ("一", "二"):
        await emu.send_text(user, dm, text)
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == ["一", "二"]
    assert emu.all_fetched() and emu.pending_count == 2
    # A bot that restarts without confirming (offset omitted, or the same offset) gets them again.
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [u.update_id for u in first]
    same = await bot.get_updates(offset=first[0].update_id, timeout=0)
    assert [u.update_id for u in same] == [u.update_id for u in first]
    # Confirming the first one only.
    rest = await bot.get_updates(offset=first[0].update_id + 1, timeout=0)
    assert [u.update_id for u in rest] == [first[1].update_id]
    assert await bot.get_updates(offset=first[1].update_id + 1, timeout=0) == ()
    assert emu.pending_count == 0


async def test_a_lost_get_updates_answer_is_delivered_again(emu: BotApiEmulator) -> None:
    [(user, dm)] = _people(emu, 1)
    await emu.send_text(user, dm, "一")
    emu.fail("getUpdates", hang=5)
    async with _bot(emu, read_timeout=0.2) as bot:
        with pytest.raises(TimedOut):
            await bot.get_updates(timeout=0)
        [update] = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.text == "一"


async def test_redeliver_a_confirmed_update(emu: BotApiEmulator, bot: Bot) -> None:
    [(user, dm)] = _people(emu, 1)
    await emu.send_text(user, dm, "一")
    await emu.send_text(user, dm, "二")
    one, two = await bot.get_updates(timeout=0)
    assert await bot.get_updates(offset=two.update_id + 1, timeout=0) == ()

    assert emu.redeliver(one.update_id) is True
    assert not emu.all_fetched()
    with pytest.raises(TimeoutError, match="unfetched updates: True"):
        await emu.settle(timeout=0.05)
    new = emu.last_update_id + 1
    await emu.send_text(user, dm, "三")
    # Same id, same content, in id order before the newer update; the confirming offset the
    # bot already sent does not drop it.
    again = await bot.get_updates(offset=two.update_id + 1, timeout=0)
    assert [u.update_id for u in again] == [one.update_id, new]
    assert again[0].to_dict() == one.to_dict()
    assert emu.all_fetched()
    assert await bot.get_updates(offset=new + 1, timeout=0) == ()
    await emu.settle(quiet=0.01)

    assert emu.redeliver(two.update_id) is True
    assert emu.redeliver(two.update_id) is False  # queued and not handed out yet
    [back] = await bot.get_updates(offset=new + 1, timeout=0)
    # Handed out but not confirmed: a redelivery survives the next confirming offset.
    assert emu.redeliver(back.update_id) is True
    [back_again] = await bot.get_updates(offset=back.update_id + 1, timeout=0)
    assert back_again.update_id == two.update_id
    assert await bot.get_updates(offset=back.update_id + 1, timeout=0) == ()
    with pytest.raises(LookupError):
        emu.redeliver(new + 100)


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"收到:{update.effective_message.text}")


async def test_a_polling_application_handles_a_redelivered_update_twice(
    emu: BotApiEmulator,
) -> None:
    [(user, dm)] = _people(emu, 1)
    app: Application = (  # type: ignore[type-arg]
        ApplicationBuilder().token(TOKEN).base_url(emu.base_url).build()
    )
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    try:
        await emu.send_text(user, dm, "村口垃圾")
        first = await emu.wait_for("sendMessage")
        emu.redeliver(emu.last_update_id)
        second = await emu.wait_for("sendMessage", lambda c: c.index > first.index)
        await emu.send_text(user, dm, "路灯坏了")
        third = await emu.wait_for("sendMessage", lambda c: c.index > second.index)
        await emu.settle(quiet=0.05)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert [c.params["text"] for c in (first, second, third)] == [
        "收到:村口垃圾",
        "收到:村口垃圾",
        "收到:路灯坏了",
    ]
    assert emu.all_fetched()


# --- the other counted sends ----------------------------------------------------------------------


async def test_documents_albums_forwards_and_copies(limited: BotApiEmulator, clock: Clock) -> None:
    [(user, dm)] = _people(limited, 1)
    admins = limited.group_chat(-100777, "青溪村管理群")
    report = await limited.send_text(user, dm, "村口垃圾三天没人收了")
    async with _bot(limited) as bot:
        document = await bot.send_document(admins.id, b"a,b\n1,2\n", filename="周报.csv")
        assert document.document is not None and document.document.file_name == "周报.csv"
        album = await bot.send_media_group(
            admins.id,
            [InputMediaPhoto(b"\xff\xd8one", caption="现场一"), InputMediaPhoto(b"\xff\xd8two")],
        )
        assert [m.caption for m in album] == ["现场一", None]
        assert len({m.media_group_id for m in album}) == 1 and album[0].media_group_id
        forwarded = await bot.forward_message(admins.id, dm.id, report["message_id"])
        assert forwarded.text == report["text"]
        assert forwarded.forward_origin is not None
        copied = await bot.copy_message(admins.id, dm.id, report["message_id"])
        with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
            await bot.copy_message(admins.id, dm.id, 999)
    shown = limited.message(admins, copied.message_id)
    assert shown is not None and shown["text"] == report["text"] and "forward_origin" not in shown
    assert [c.method for c in limited.calls if not c.ok] == ["copyMessage"]
    assert limited.flood_refusals == []
    # Four performed sends in the group's window (an album counts once; the failed copy not):
    # sixteen more fit in the minute, the seventeenth does not.
    async with _bot(limited) as bot:
        for _ in range(16):
            clock.advance(0.1)
            await bot.copy_message(admins.id, dm.id, report["message_id"])
        with pytest.raises(RetryAfter):
            await bot.copy_message(admins.id, dm.id, report["message_id"])
    assert limited.flood_refusals == [("copyMessage", admins.id)]
