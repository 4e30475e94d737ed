"""`AiohttpRequest` over real sockets: the Bot API emulator for the happy paths, a tiny aiohttp
server, a closed port and a listener that never accepts for the failures."""

from __future__ import annotations

import asyncio
import io
import socket
import traceback
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest

from bot.app import build_application
from bot.delivery.transport import AiohttpRequest
from bot.sandbox.emulator import BotApiEmulator, Chat, UploadedFile
from bot.settings import Settings

TOKEN = "123456789:TEST-transport-SECRET"
SECRET = TOKEN.split(":", 1)[1]
# Enough of a JPEG for the emulator, with bytes that are not valid UTF-8.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) + b"\xff\xd9"


@pytest.fixture(autouse=True)
def no_proxy_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy set in the developer's shell must not reroute the loopback servers here."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
def dm(emu: BotApiEmulator) -> Chat:
    return emu.private_chat(emu.user(1001, "张三"))


def _bot(base: str, request: BaseRequest | None = None, updates: BaseRequest | None = None) -> Bot:
    return Bot(
        TOKEN,
        base_url=f"{base}/bot",
        request=request or AiohttpRequest(),
        get_updates_request=updates or AiohttpRequest(connection_pool_size=1),
    )


def _assert_no_token(exc: BaseException) -> None:
    """Neither the message nor a logged traceback may show the token (it is in the URL)."""
    for text in (str(exc), repr(exc), "".join(traceback.format_exception(exc))):
        assert SECRET not in text
        assert SECRET.lower() not in text.lower()


# --- the happy paths, against the emulator --------------------------------------------------


async def test_send_message_reaches_the_emulator_with_exact_params(
    emu: BotApiEmulator, dm: Chat
) -> None:
    text = "村口的垃圾池已经三天没人清运了,气味很大 & 100% 真实 <b>急</b> 🚮"
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("提交", callback_data="submit:1")],
            [InlineKeyboardButton("更改类别", callback_data="category:环境卫生")],
        ]
    )
    async with _bot(emu.url) as bot:
        sent = await bot.send_message(dm.id, text, reply_markup=markup)

    call = emu.calls_to("sendMessage")[-1]
    assert call.params["chat_id"] == dm.id
    assert call.params["text"] == text
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "提交", "callback_data": "submit:1"}],
            [{"text": "更改类别", "callback_data": "category:环境卫生"}],
        ]
    }
    assert sent.text == text
    assert sent.reply_markup == markup


async def test_photo_upload_arrives_as_a_multipart_file(emu: BotApiEmulator, dm: Chat) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("仍需人工", callback_data="faq:human")]])
    async with _bot(emu.url) as bot:
        await bot.send_photo(
            dm.id, JPEG, caption="村口垃圾池,拍于今早", filename="村口.jpg", reply_markup=markup
        )

    params = emu.calls_to("sendPhoto")[-1].params
    assert params["photo"] == UploadedFile("村口.jpg", "image/jpeg", JPEG)
    assert params["photo"].data == JPEG  # not part of the dataclass comparison
    assert params["chat_id"] == dm.id
    assert params["caption"] == "村口垃圾池,拍于今早"
    assert params["reply_markup"] == {
        "inline_keyboard": [[{"text": "仍需人工", "callback_data": "faq:human"}]]
    }


async def test_an_unread_file_handle_is_streamed(emu: BotApiEmulator, dm: Chat) -> None:
    # PTB hands the handle itself to the transport when asked not to read it first.
    handle = io.BytesIO(JPEG)
    async with _bot(emu.url) as bot:
        await bot.send_photo(dm.id, InputFile(handle, filename="现场.jpg", read_file_handle=False))

    photo = emu.calls_to("sendPhoto")[-1].params["photo"]
    assert isinstance(photo, UploadedFile)
    assert (photo.filename, photo.data) == ("现场.jpg", JPEG)


async def test_a_long_poll_gets_its_own_read_timeout(emu: BotApiEmulator) -> None:
    # getUpdates asks for read_timeout = poll timeout + the default: 1.3 s > the default 0.3 s.
    updates = AiohttpRequest(connection_pool_size=1, read_timeout=0.3)
    async with _bot(emu.url, updates=updates) as bot:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await bot.get_updates(timeout=1) == ()
        assert loop.time() - started >= 0.9


async def test_shutdown_then_initialize_again(emu: BotApiEmulator, dm: Chat) -> None:
    request = AiohttpRequest()
    bot = _bot(emu.url, request=request)
    async with bot:
        await bot.send_message(dm.id, "第一次")
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{emu.base_url}{TOKEN}/getMe", "POST")
    async with bot:
        await bot.send_message(dm.id, "第二次")
    await request.shutdown()  # a second shutdown is harmless
    assert [c.params["text"] for c in emu.calls_to("sendMessage")] == ["第一次", "第二次"]


async def test_do_request_before_initialize_says_so() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"http://127.0.0.1:9/bot{TOKEN}/getMe", "POST")


def test_the_defaults_are_those_of_ptb() -> None:
    assert AiohttpRequest().read_timeout == 5.0
    assert AiohttpRequest().connection_pool_size == 256
    with pytest.raises(ValueError, match="connection_pool_size"):
        AiohttpRequest(connection_pool_size=0)


def test_the_desk_sends_everything_through_aiohttp() -> None:
    settings = Settings(bot_token=TOKEN)  # type: ignore[arg-type]
    app = build_application(settings, migrate=False)
    # Bot keeps (getUpdates request, request for everything else); no public accessor.
    updates, calls = app.bot._request
    assert isinstance(calls, AiohttpRequest)
    assert calls.connection_pool_size == 256
    assert isinstance(updates, AiohttpRequest)
    assert updates.connection_pool_size == 1


# --- failures, against servers that misbehave -----------------------------------------------


@dataclass
class Stub:
    """A stand-in Bot API: getMe answers at once, any other method after `delay` seconds."""

    name: str = "stub"
    delay: float = 0.0
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # (url, method, user agent)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.path.rsplit("/", 1)[-1]
        self.seen.append((str(request.url), method, request.headers.get("User-Agent", "")))
        if method == "getMe":
            me = {"id": 123456789, "is_bot": True, "first_name": self.name, "username": "b_bot"}
            return web.json_response({"ok": True, "result": me})
        await asyncio.sleep(self.delay)
        return web.json_response({"ok": True, "result": True})


@asynccontextmanager
async def serving(stub: Stub) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", stub.handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def _closed_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def _never_accepting() -> Iterator[int]:
    """A port whose accept queue is full: further SYNs are dropped, so connecting hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield port
    finally:
        for sock in [*fillers, listener]:
            sock.close()


async def test_sends_ptb_user_agent() -> None:
    stub = Stub()
    async with serving(stub) as url, _bot(url) as bot:
        assert await bot.delete_webhook()
    assert [ua for _, _, ua in stub.seen] == [BaseRequest.USER_AGENT] * 2


async def test_connection_refused_is_a_network_error_without_the_token() -> None:
    bot = _bot(f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(NetworkError) as caught:
        async with bot:
            pass
    assert not isinstance(caught.value, TimedOut)
    assert str(caught.value).startswith("aiohttp.ClientConnectorError")
    _assert_no_token(caught.value)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"", "aiohttp.ServerDisconnectedError"),
        # aiohttp's message for this one quotes the URL.
        (b"HTTP/1.1 banana\r\n\r\n", "aiohttp.ClientResponseError"),
    ],
)
async def test_a_broken_reply_is_a_network_error_without_the_token(
    reply: bytes, error: str
) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(NetworkError) as caught:
            async with _bot(f"http://127.0.0.1:{port}"):
                pass
    finally:
        server.close()
        await server.wait_closed()
    assert str(caught.value).startswith(error)
    _assert_no_token(caught.value)


async def test_a_server_slower_than_the_read_timeout_times_out() -> None:
    stub = Stub(delay=1.0)
    async with serving(stub) as url, _bot(url, request=AiohttpRequest(read_timeout=0.2)) as bot:
        with pytest.raises(TimedOut, match="Read timeout") as caught:
            await bot.delete_webhook()
    _assert_no_token(caught.value)


async def test_a_per_call_read_timeout_longer_than_the_default_is_honoured() -> None:
    stub = Stub(delay=0.5)
    async with serving(stub) as url, _bot(url, request=AiohttpRequest(read_timeout=0.2)) as bot:
        assert await bot.delete_webhook(read_timeout=3)
        with pytest.raises(TimedOut):
            await bot.delete_webhook()  # and the default still applies afterwards


async def test_a_full_pool_times_out_without_sending() -> None:
    stub = Stub(delay=0.5)
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.1)
    async with serving(stub) as url, _bot(url, request=request) as bot:
        first, second = await asyncio.gather(
            bot.delete_webhook(), bot.delete_webhook(), return_exceptions=True
        )
    assert first is True
    assert isinstance(second, TimedOut)
    assert "not sent" in str(second)
    _assert_no_token(second)
    assert [method for _, method, _ in stub.seen] == ["getMe", "deleteWebhook"]


async def test_a_connect_timeout_says_the_request_was_not_sent() -> None:
    with _never_accepting() as port:
        bot = _bot(f"http://127.0.0.1:{port}", request=AiohttpRequest(connect_timeout=0.2))
        with pytest.raises(TimedOut, match=r"Connect timeout.*not sent") as caught:
            async with bot:
                pass
    # aiohttp's own message for this one quotes the whole URL.
    _assert_no_token(caught.value)


async def test_a_stalled_upload_times_out_after_connect_write_and_read() -> None:
    # The stub never reads the body: once the socket buffers are full the upload stalls, and
    # only the total (connect 0.1 + media write 0.3 + read 0.2 s) ends it.
    stub = Stub(delay=10)
    request = AiohttpRequest(read_timeout=0.2, connect_timeout=0.1, media_write_timeout=0.3)
    async with serving(stub) as url, _bot(url, request=request) as bot:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(TimedOut, match=r"longer than 0\.6 s") as caught:
            await bot.send_photo(1001, JPEG * 100_000)
        assert loop.time() - started < 3
    _assert_no_token(caught.value)


async def test_an_http_error_reply_is_left_to_ptb() -> None:
    async with (
        BotApiEmulator(token=TOKEN) as emu,
        _bot(emu.url) as bot,
    ):
        with pytest.raises(TelegramError, match=r"(?i)chat not found"):
            await bot.send_message(-1, "没有这个群")


# --- proxies from the environment, as httpx honoured them -----------------------------------


async def test_http_proxy_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    direct, proxy = Stub(name="direct"), Stub(name="proxy")
    async with serving(direct) as direct_url, serving(proxy) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        async with _bot(direct_url) as bot:
            assert bot.bot.first_name == "proxy"
        # The proxy got the absolute URL, so it knows where the request was going.
        assert proxy.seen[0][0] == f"{direct_url}/bot{TOKEN}/getMe"
        assert direct.seen == []

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with _bot(direct_url) as bot:  # a new session reads the environment again
            assert bot.bot.first_name == "direct"


async def test_file_names_go_as_utf8_and_cannot_break_the_part_header(
    emu: BotApiEmulator, dm: Chat
) -> None:
    async with _bot(emu.url) as bot:
        await bot.send_photo(dm.id, JPEG, filename='村口"夜景"\r\nX-Evil: 1.jpg')

    photo = emu.calls_to("sendPhoto")[-1].params["photo"]
    assert photo.filename == "村口%22夜景%22%0D%0AX-Evil: 1.jpg"
    assert photo.data == JPEG
