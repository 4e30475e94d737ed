"""The Bot API emulator: raw HTTP, a real `telegram.Bot`, and a real polling `Application`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.sandbox.emulator import BotApiEmulator, Call, Chat, UploadedFile, User
from bot.sandbox.emulator.formatting import parse_html, parse_markdown_v2

TOKEN = "123456789:TEST-fengqiao-emulator"


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN, bot_username="FengqiaoDeskBot") as emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url) as client:
        yield client


@pytest.fixture
def resident(emu: BotApiEmulator) -> User:
    return emu.user(1001, "张三", username="zhangsan")


@pytest.fixture
def dm(emu: BotApiEmulator, resident: User) -> Chat:
    return emu.private_chat(resident)


@pytest.fixture
def group(emu: BotApiEmulator) -> Chat:
    return emu.group_chat(-100123, "青溪村村民群")


async def _api(
    http: aiohttp.ClientSession, emu: BotApiEmulator, method: str, **params: Any
) -> tuple[int, Any]:
    # Encoded the way python-telegram-bot does: strings as-is, everything else JSON.
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    async with http.post(f"{emu.base_url}{TOKEN}/{method}", data=form) as response:
        return response.status, await response.json()


# --- raw HTTP ---------------------------------------------------------------------------------


async def test_get_me_token_and_unknown_method(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    status, body = await _api(http, emu, "getMe")
    assert status == 200
    assert body["result"]["username"] == "FengqiaoDeskBot"
    assert body["result"]["is_bot"] is True

    async with http.post(f"{emu.base_url}999:WRONG/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    status, body = await _api(http, emu, "sendTelepathy")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert [c.method for c in emu.calls] == ["getMe", "getMe", "sendTelepathy"]


async def test_params_are_decoded_like_telegram_does(
    emu: BotApiEmulator, http: aiohttp.ClientSession, dm: Chat
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "受理", "callback_data": "take:1"}]]}
    status, body = await _api(
        http, emu, "sendMessage", chat_id=dm.id, text="123", reply_markup=keyboard
    )
    assert status == 200
    call = emu.calls[-1]
    assert call.params == {"chat_id": dm.id, "text": "123", "reply_markup": keyboard}
    assert call.ok and call.response == body["result"]
    assert body["result"]["text"] == "123"
    assert body["result"]["reply_markup"] == keyboard
    assert body["result"]["from"]["username"] == "FengqiaoDeskBot"

    # A JSON body works too, as on Telegram.
    async with http.post(
        f"{emu.base_url}{TOKEN}/sendMessage", json={"chat_id": dm.id, "text": "json"}
    ) as response:
        assert (await response.json())["result"]["message_id"] == body["result"]["message_id"] + 1


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    emu: BotApiEmulator, http: aiohttp.ClientSession, resident: User, dm: Chat
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(_api(http, emu, "getUpdates", timeout=10))
    await asyncio.sleep(0.05)
    assert not poll.done()
    sent = await emu.send_text(resident, dm, "村口垃圾三天没人收了")
    status, body = await poll
    assert time.monotonic() - started < 1
    assert status == 200
    [update] = body["result"]
    assert update["message"] == sent

    # Unconfirmed updates come again; an offset above them confirms and drops them.
    _, again = await _api(http, emu, "getUpdates")
    assert again["result"] == [update]
    _, after = await _api(http, emu, "getUpdates", offset=update["update_id"] + 1)
    assert after["result"] == []


async def test_long_poll_times_out_empty(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    started = time.monotonic()
    _, body = await _api(http, emu, "getUpdates", timeout=0.3)
    assert body == {"ok": True, "result": []}
    assert 0.25 < time.monotonic() - started < 2


async def test_offset_limit_and_allowed_updates(
    emu: BotApiEmulator, http: aiohttp.ClientSession, resident: User, dm: Chat
) -> None:
    for n in range(5):
        await emu.send_text(resident, dm, f"第{n}条")
    _, body = await _api(http, emu, "getUpdates", limit=2)
    first, second = body["result"]
    assert second["update_id"] == first["update_id"] + 1
    _, body = await _api(http, emu, "getUpdates", offset=-1)
    assert [u["message"]["text"] for u in body["result"]] == ["第4条"]

    message = await emu.send_text(resident, dm, "编辑前")
    await emu.edit_text(resident, message, "编辑后")
    last = body["result"][-1]["update_id"]
    _, body = await _api(
        http, emu, "getUpdates", offset=last + 1, allowed_updates=["edited_message"]
    )
    assert [list(u)[1] for u in body["result"]] == ["edited_message"]
    assert body["result"][0]["edited_message"]["text"] == "编辑后"


async def test_second_poller_terminates_the_first(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    first = asyncio.create_task(_api(http, emu, "getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    _, second = await _api(http, emu, "getUpdates", timeout=0)
    status, body = await first
    assert second["ok"] is True
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")


async def test_stop_releases_a_waiting_long_poll(http: aiohttp.ClientSession) -> None:
    emulator = BotApiEmulator(token=TOKEN)
    await emulator.start()
    poll = asyncio.create_task(_api(http, emulator, "getUpdates", timeout=30))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await emulator.stop()
    assert (await poll)[1] == {"ok": True, "result": []}
    assert time.monotonic() - started < 1.5


async def test_multipart_photo_upload_and_download(
    emu: BotApiEmulator, http: aiohttp.ClientSession, dm: Chat
) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(dm.id))
    form.add_field("caption", "现场照片")
    form.add_field("photo", b"\xff\xd8jpeg-bytes", filename="scene.jpg", content_type="image/jpeg")
    async with http.post(f"{emu.base_url}{TOKEN}/sendPhoto", data=form) as response:
        body = await response.json()
    assert body["result"]["caption"] == "现场照片"
    upload = emu.calls[-1].params["photo"]
    assert upload == UploadedFile("scene.jpg", "image/jpeg", b"\xff\xd8jpeg-bytes")

    file_id = body["result"]["photo"][-1]["file_id"]
    _, info = await _api(http, emu, "getFile", file_id=file_id)
    async with http.get(f"{emu.base_file_url}{TOKEN}/{info['result']['file_path']}") as response:
        assert await response.read() == b"\xff\xd8jpeg-bytes"


# --- a real telegram.Bot ----------------------------------------------------------------------


async def test_bot_send_message_with_html_and_keyboards(
    emu: BotApiEmulator, bot: Bot, dm: Chat
) -> None:
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("受理", callback_data="take:7")],
            [InlineKeyboardButton("查看", url="https://example.org/t/7")],
        ]
    )
    message = await bot.send_message(
        dm.id,
        "工单 <b>#7</b> 已提交 &amp; 等待受理",
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
    )
    assert message.text == "工单 #7 已提交 & 等待受理"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 3, 2)]
    assert message.from_user is not None and message.from_user.id == emu.bot.id
    assert message.reply_markup == markup
    stored = emu.last_message(dm)
    assert stored is not None
    assert emu.buttons(stored) == [("受理", "take:7"), ("查看", "https://example.org/t/7")]
    assert emu.calls[-1].params["parse_mode"] == "HTML"

    await bot.send_message(
        dm.id, "请选择", reply_markup=ReplyKeyboardMarkup([[KeyboardButton("我的工单"), "帮助"]])
    )
    assert emu.reply_keyboard(dm) == [["我的工单", "帮助"]]
    assert "reply_markup" not in emu.calls[-1].response  # reply keyboards stay off the Message
    await bot.send_message(dm.id, "好的", reply_markup=ReplyKeyboardRemove())
    assert emu.reply_keyboard(dm) is None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"chat_id": 4242, "text": "hi"}, "chat not found"),
        ({"text": "   "}, "message text is empty"),
        ({"text": "长" * 4097}, "message is too long"),
        ({"text": "<b>粗体</i>", "parse_mode": "HTML"}, "can't parse entities: unmatched end tag"),
        ({"text": "<b>未闭合", "parse_mode": "HTML"}, "can't find end tag"),
        ({"text": "<div>x</div>", "parse_mode": "HTML"}, 'unsupported start tag "div"'),
        ({"text": "第1.2条", "parse_mode": "MarkdownV2"}, "character '.' is reserved"),
        (
            {
                "text": "x",
                "reply_markup": InlineKeyboardMarkup(
                    [[InlineKeyboardButton("太长", callback_data="x" * 65)]]
                ),
            },
            "button_data_invalid",
        ),
        (
            {"text": "x", "reply_parameters": ReplyParameters(message_id=999)},
            "message to be replied not found",
        ),
    ],
)
async def test_bad_requests_raise_with_telegrams_wording(
    emu: BotApiEmulator, bot: Bot, dm: Chat, kwargs: dict[str, Any], error: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(**{"chat_id": dm.id, **kwargs})
    assert error in raised.value.message.lower()
    assert not emu.calls[-1].ok
    assert emu.calls[-1].response["error_code"] == 400
    assert emu.sent_messages(dm) == []


async def test_edits_and_their_errors(emu: BotApiEmulator, bot: Bot, dm: Chat) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("评价", callback_data="rate")]])
    sent = await bot.send_message(dm.id, "已办结", reply_markup=keyboard)
    edited = await bot.edit_message_text(
        "已办结,请评价", dm.id, sent.message_id, reply_markup=keyboard
    )
    assert not isinstance(edited, bool) and edited.edit_date is not None
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("已办结,请评价", dm.id, sent.message_id, reply_markup=keyboard)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", dm.id, 999)
    await bot.edit_message_reply_markup(dm.id, sent.message_id, reply_markup=None)
    [current] = emu.sent_messages(dm)
    assert current["text"] == "已办结,请评价" and "reply_markup" not in current
    assert emu.buttons(current) == []

    assert await bot.pin_chat_message(dm.id, sent.message_id)
    assert emu.pinned(dm) == [sent.message_id]
    chat = await bot.get_chat(dm.id)
    assert chat.pinned_message is not None and chat.pinned_message.text == "已办结,请评价"
    assert await bot.unpin_chat_message(dm.id)
    assert await bot.delete_message(dm.id, sent.message_id)
    assert emu.sent_messages(dm) == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(dm.id, sent.message_id)


async def test_replies_photos_locations_and_files(
    emu: BotApiEmulator, bot: Bot, resident: User, group: Chat
) -> None:
    asked = await emu.send_text(resident, group, "路灯坏了 @FengqiaoDeskBot")
    assert asked["entities"] == [{"type": "mention", "offset": 5, "length": 16}]
    reply = await bot.send_message(
        group.id, "收到", reply_parameters=ReplyParameters(message_id=asked["message_id"])
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "路灯坏了 @FengqiaoDeskBot"

    photo = await bot.send_photo(
        group.id, b"\xff\xd8upload", caption="<i>示意图</i>", parse_mode="HTML"
    )
    assert photo.caption == "示意图"
    assert photo.caption_entities[0].type == "italic"
    recaptioned = await bot.edit_message_caption(group.id, photo.message_id, caption="新图")
    assert not isinstance(recaptioned, bool) and recaptioned.caption == "新图"
    again = await bot.send_photo(group.id, photo.photo[-1].file_id)
    assert again.photo[-1].file_id == photo.photo[-1].file_id
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(group.id, "no-such-file")

    shared = await emu.send_photo(resident, group, caption="现场")
    file = await bot.get_file(shared["photo"][-1]["file_id"])
    assert bytes(await file.download_as_bytearray()).startswith(b"\xff\xd8")

    location = await bot.send_location(group.id, 30.27, 120.15)
    assert location.location is not None and location.location.latitude == pytest.approx(30.27)
    assert await bot.send_chat_action(group.id, "typing")
    assert emu.chat_action(group) == "typing"


async def test_commands_and_blocked_users(
    emu: BotApiEmulator, bot: Bot, resident: User, dm: Chat
) -> None:
    scope = BotCommandScopeAllPrivateChats()
    assert await bot.set_my_commands([BotCommand("ts", "投诉")], scope=scope)
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["ts"]
    assert emu.commands({"type": "all_private_chats"}) == [{"command": "ts", "description": "投诉"}]
    assert await bot.get_my_commands() == ()
    assert await bot.delete_my_commands(scope=scope)
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])

    emu.block(resident)
    with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(dm.id, "提醒")
    with pytest.raises(InvalidToken):
        async with Bot("1:WRONG", base_url=emu.base_url):
            pass


async def test_privacy_mode_limits_what_groups_deliver(http: aiohttp.ClientSession) -> None:
    async with BotApiEmulator(token=TOKEN, privacy_mode=True) as emulator:
        resident = emulator.user(1001, "张三")
        group = emulator.group_chat(-100123, "青溪村村民群")
        _, me = await _api(http, emulator, "getMe")
        assert me["result"]["can_read_all_group_messages"] is False
        await emulator.send_text(resident, group, "大家好")
        await emulator.send_text(resident, group, "/ts@OtherBot 别的机器人")
        await emulator.send_text(resident, group, "😀 /ts@FengqiaoDeskBot 路灯坏了")
        _, sent = await _api(http, emulator, "sendMessage", chat_id=group.id, text="请说明位置")
        await emulator.send_text(resident, group, "村东头", reply_to=sent["result"])
        _, body = await _api(http, emulator, "getUpdates")
        texts = [u["message"]["text"] for u in body["result"]]
        assert texts == ["😀 /ts@FengqiaoDeskBot 路灯坏了", "村东头"]
        assert body["result"][1]["message"]["reply_to_message"]["text"] == "请说明位置"


async def test_unknown_callback_query(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("42")


# --- a real Application, polling ----------------------------------------------------------------


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="ok")]])
    await update.effective_message.reply_text(
        f"收到:{update.effective_message.text}", reply_markup=keyboard
    )


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"start {' '.join(context.args or [])}")


async def _pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("已确认")
    await query.edit_message_text(f"已确认:{query.data}")


def track_processed(app: Application, emu: BotApiEmulator) -> None:  # type: ignore[type-arg]
    """Let `emu.settle()` wait until the application has finished every injected update.

    Kept here rather than borrowed from the desk, so these tests depend on PTB alone. A handler
    in a late group sees each update after the others; "done" is the highest id up to which
    every update finished (different chats finish out of order).
    """
    done = [emu.last_update_id]
    finished: set[int] = set()

    async def mark(update: object, context: object) -> None:
        if isinstance(update, Update):
            finished.add(update.update_id)
            while done[0] + 1 in finished:
                done[0] += 1
                finished.discard(done[0])

    app.add_handler(TypeHandler(Update, mark), group=1_000)
    emu.bot_idle = lambda last_update_id: done[0] >= last_update_id


@pytest.fixture
async def app(emu: BotApiEmulator) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    application.add_handler(CallbackQueryHandler(_pressed))
    track_processed(application, emu)
    await application.initialize()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=5)
    await application.start()
    yield application
    started = time.monotonic()
    await application.updater.stop()
    await application.stop()
    await application.shutdown()
    assert time.monotonic() - started < 2, "stopping must not wait for the long poll"


async def test_application_echoes_and_handles_buttons(
    emu: BotApiEmulator,
    app: Application,  # type: ignore[type-arg]
    resident: User,
    dm: Chat,
) -> None:
    await emu.send_text(resident, dm, "村口垃圾三天没人收了")
    call = await emu.wait_for("sendMessage", lambda c: c.params["chat_id"] == dm.id, timeout=5)
    assert call.params["text"] == "收到:村口垃圾三天没人收了"
    reply = call.response
    assert emu.buttons(reply) == [("确认", "ok")]

    query_id = await emu.press(resident, reply, "ok")
    answer = await emu.wait_for("answerCallbackQuery")
    assert answer.ok and answer.params == {"callback_query_id": query_id, "text": "已确认"}
    assert emu.callback_answer(query_id) == {"text": "已确认"}
    await emu.wait_for("editMessageText")
    await emu.settle()
    [shown] = emu.sent_messages(dm)
    assert shown["text"] == "已确认:ok" and emu.buttons(shown) == []
    with pytest.raises(LookupError):
        await emu.press(resident, reply, "ok")  # the button is gone after the edit


async def test_application_commands_get_entities(
    emu: BotApiEmulator,
    app: Application,  # type: ignore[type-arg]
    resident: User,
    dm: Chat,
    group: Chat,
) -> None:
    sent = await emu.send_text(resident, dm, "/start ticket-7")
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    call = await emu.wait_for("sendMessage")
    assert call.params["text"] == "start ticket-7"

    await emu.send_text(resident, group, "/start@FengqiaoDeskBot")
    call = await emu.wait_for("sendMessage", lambda c: c.params["chat_id"] == group.id)
    assert call.params["text"] == "start "
    # PTB quotes in groups: the reply points at the user's message.
    assert call.response["reply_to_message"]["text"] == "/start@FengqiaoDeskBot"


async def test_settle_and_listeners_under_load(
    emu: BotApiEmulator,
    app: Application,  # type: ignore[type-arg]
    resident: User,
    dm: Chat,
) -> None:
    seen: list[Call] = []

    async def listen(call: Call) -> None:
        seen.append(call)

    unsubscribe = emu.on_call(listen)
    mark = emu.mark()
    started = time.monotonic()
    for n in range(200):
        await emu.send_text(resident, dm, f"第{n}条")
    await emu.settle(quiet=0.1, timeout=20)
    elapsed = time.monotonic() - started
    replies = emu.calls_since(mark, "sendMessage")
    assert len(replies) == 200
    assert {c.params["text"] for c in replies} == {f"收到:第{n}条" for n in range(200)}
    assert len([c for c in seen if c.method == "sendMessage"]) == 200
    assert elapsed < 15
    unsubscribe()
    with pytest.raises(TimeoutError):
        await emu.wait_for("deleteMessage", timeout=0.05)


async def test_settle_times_out_when_nobody_polls(
    emu: BotApiEmulator, resident: User, dm: Chat
) -> None:
    await emu.send_text(resident, dm, "没人收")
    with pytest.raises(TimeoutError, match="unfetched updates: True"):
        await emu.settle(timeout=0.1)


# --- formatting -----------------------------------------------------------------------------


def test_html_parsing_matches_telegram() -> None:
    text, entities = parse_html(
        '<b>加粗 <i>斜体</i></b> <a href="https://x.org/?a=1&amp;b=2">链接</a> 😀<code>c</code> '
        '<pre><code class="language-python">p</code></pre>'
    )
    assert text == "加粗 斜体 链接 😀c p"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 5},
        {"type": "italic", "offset": 3, "length": 2},
        {"type": "text_link", "url": "https://x.org/?a=1&b=2", "offset": 6, "length": 2},
        {"type": "code", "offset": 11, "length": 1},
        {"type": "pre", "language": "python", "offset": 13, "length": 1},
    ]


def test_markdown_v2_parsing() -> None:
    text, entities = parse_markdown_v2(
        r"*粗* _斜_ __下__ ~删~ ||藏|| [链](https://x.org) `a\`b` 1\.2"
    )
    assert text == "粗 斜 下 删 藏 链 a`b 1.2"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "text_link",
        "code",
    ]
