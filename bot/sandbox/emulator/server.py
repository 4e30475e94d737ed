"""`BotApiEmulator`: an in-memory Bot API server over HTTP, and the handle tests drive it by.

The bot under test talks to it exactly as to api.telegram.org (python-telegram-bot's own HTTP
client, form or multipart requests); the test side injects what users do as updates and reads
back every call the bot made.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import inspect
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import BodyPartReader, web

from bot.sandbox.emulator.control import add_control_routes
from bot.sandbox.emulator.faults import Fault, ParamsPredicate, matches
from bot.sandbox.emulator.formatting import auto_entities, utf16_slice
from bot.sandbox.emulator.limits import FloodGate, FloodLimits
from bot.sandbox.emulator.methods import METHODS, photo_sizes
from bot.sandbox.emulator.types import JSON, ApiError, Call, Chat, UploadedFile, User
from bot.sandbox.emulator.world import World

log = logging.getLogger(__name__)

CallListener = Callable[[Call], Awaitable[None] | None]
CallPredicate = Callable[[Call], bool]

# Parameters Telegram reads as strings: their form values must not be JSON-decoded
# (a message text "123" stays the string "123").
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "photo",
        "document",
        "audio",
        "voice",
        "video",
        "animation",
        "sticker",
        "file_id",
        "action",
        "title",
        "description",
        "short_description",
        "name",
        "emoji",
        "language_code",
        "secret_token",
        "ip_address",
        "phone_number",
        "first_name",
        "last_name",
        "address",
        "business_connection_id",
        "message_effect_id",
    }
)
_CANONICAL = {name.lower(): name for name in METHODS}
_FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00emulated-photo\xff\xd9"
_FAKE_OGG = b"OggS\x00emulated-voice"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _decode_value(name: str, value: str) -> Any:
    """Undo python-telegram-bot's encoding: non-string values arrive JSON-encoded."""
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class BotApiEmulator:
    """A Bot API server for one bot, plus the test-side controls.

    `privacy_mode=True` is BotFather's group privacy: in groups the bot then gets only
    commands and replies to its own messages. `now` gives message dates (unix seconds).

    `limits` turns on Telegram's flood limits (off by default): a counted call that would
    break a window is refused with 429 and `retry_after`, and `(method, chat_id)` is appended
    to `flood_refusals` (chat_id None when the call names no known chat). The windows run on
    `monotonic`, which tests replace to step time without sleeping.

    `control=True` also serves the JSON control API under `/control/` (see `control.py`),
    for driving the emulator from another process.

    ```
    async with BotApiEmulator() as emu:
        app = ApplicationBuilder().token(emu.token).base_url(emu.base_url)
        ...
    ```
    """

    def __init__(
        self,
        token: str = "123456789:TEST-fengqiao-emulator",
        bot_username: str = "FengqiaoDeskBot",
        bot_name: str = "枫桥议事台",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        privacy_mode: bool = False,
        now: Callable[[], float] = time.time,
        limits: FloodLimits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        control: bool = False,
    ) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456789
        self.bot = User(bot_id, bot_name, username=bot_username, language_code=None, is_bot=True)
        self._host = host
        self._port = port
        self._now = now
        self._world = World(self.bot, now, privacy_mode=privacy_mode)
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        self.calls: list[Call] = []
        self._calls_by_method: dict[str, list[Call]] = {}
        self._waiters: dict[str, list[tuple[CallPredicate | None, asyncio.Future[Call]]]] = {}
        self._listeners: list[CallListener] = []
        self._inject_mark = 0
        # A harness that sees inside the bot can say it has finished the updates it fetched;
        # settle() then waits for that too instead of trusting a quiet period alone.
        self.bot_idle: Callable[[int], bool] = lambda last_update_id: True
        self._inflight = 0
        self._last_activity = 0.0  # loop time of the last bot call or update hand-out
        self._chat_instances = itertools.count(-7_000_000_000_000_000_000, 7919)
        self.limits = limits
        self._flood = FloodGate(limits, monotonic) if limits is not None else None
        self.flood_refusals: list[tuple[str, int | None]] = []
        self.faults: list[Fault] = []
        self._fault_ids = itertools.count(1)
        self._stopping = asyncio.Event()
        self._control = control

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the server (a free port on 127.0.0.1 unless `port` was given)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        if self._control:
            add_control_routes(app, self)
        # handler_cancellation: a bot that drops its long poll must not leave a waiter behind.
        self._runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=1.0,
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        self._bound_port = int(self._runner.addresses[0][1])
        self._last_activity = asyncio.get_running_loop().time()
        log.info("Bot API emulator listening on %s", self.url)

    async def stop(self) -> None:
        """Release pending long polls and held responses, then close the server."""
        self._world.close()
        self._stopping.set()
        for waiters in self._waiters.values():
            for _, future in waiters:
                future.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The server root, e.g. for the desk's `bot_api_url` setting."""
        if self._bound_port is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self._host}:{self._bound_port}"

    @property
    def base_url(self) -> str:
        """For `Bot(base_url=...)` / `ApplicationBuilder().base_url(...)`."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # --- the world: people and chats ------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        last_name: str | None = None,
    ) -> User:
        user = User(user_id, first_name, username=username, last_name=last_name)
        self._world.users[user_id] = user
        return user

    def private_chat(self, user: User) -> Chat:
        """The user's private chat with the bot (the user has pressed Start)."""
        chat = Chat(
            user.id,
            "private",
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
        )
        return self._world.add_chat(chat)

    def group_chat(self, chat_id: int, title: str, username: str | None = None) -> Chat:
        """A group the bot is in; ids starting with -100 are supergroups, as on Telegram."""
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return self._world.add_chat(Chat(chat_id, kind, title=title, username=username))

    def set_member_status(self, chat: Chat, user: User, status: str) -> None:
        """What getChatMember answers for the user in the group: "creator", "administrator",
        "member" (everyone's default), "left", ..."""
        self._world.member_status[(chat.id, user.id)] = status

    def block(self, user: User, blocked: bool = True) -> None:
        """The user blocks the bot: sends to their private chat fail with 403 Forbidden."""
        if blocked:
            self._world.blocked.add(user.id)
        else:
            self._world.blocked.discard(user.id)

    # --- what users do (each becomes an update for getUpdates) ----------------------------------

    async def send_text(
        self,
        user: User,
        chat: Chat,
        text: str,
        *,
        reply_to: JSON | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """A user message; commands, @mentions, links and #tags get their entities as in clients."""
        found = auto_entities(text) if entities is None else entities
        content: JSON = {"text": text, **({"entities": found} if found else {})}
        return self._user_message(user, chat, content, reply_to)

    async def send_photo(
        self,
        user: User,
        chat: Chat,
        caption: str | None = None,
        *,
        data: bytes = _FAKE_JPEG,
        reply_to: JSON | None = None,
    ) -> JSON:
        """A photo; the bot can getFile it and download `data` from `base_file_url`."""
        stored = self._world.add_file(data, "photos", "jpg")
        content: JSON = {"photo": photo_sizes(self._world, stored.file_id)}
        if caption:
            content["caption"] = caption
            if found := auto_entities(caption):
                content["caption_entities"] = found
        return self._user_message(user, chat, content, reply_to)

    async def send_location(
        self,
        user: User,
        chat: Chat,
        latitude: float,
        longitude: float,
        *,
        reply_to: JSON | None = None,
    ) -> JSON:
        content = {"location": {"latitude": latitude, "longitude": longitude}}
        return self._user_message(user, chat, content, reply_to)

    async def send_sticker(self, user: User, chat: Chat, emoji: str = "👍") -> JSON:
        stored = self._world.add_file(b"RIFFemulated-sticker", "stickers", "webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.data),
        }
        return self._user_message(user, chat, {"sticker": sticker}, None)

    async def send_voice(self, user: User, chat: Chat, duration: int = 3) -> JSON:
        stored = self._world.add_file(_FAKE_OGG, "voice", "oga")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(stored.data),
        }
        return self._user_message(user, chat, {"voice": voice}, None)

    async def send_contact(
        self, user: User, chat: Chat, phone_number: str, first_name: str | None = None
    ) -> JSON:
        """A shared contact; without `first_name` it is the user's own (their "share my number")."""
        contact: JSON = {"phone_number": phone_number, "first_name": first_name or user.first_name}
        if first_name is None:
            contact["user_id"] = user.id
        return self._user_message(user, chat, {"contact": contact}, None)

    async def edit_text(self, user: User, message: JSON, text: str) -> JSON:
        """The user edits their message: an `edited_message` update."""
        current = self._current(message)
        if current["from"]["id"] != user.id or "text" not in current:
            raise ValueError("a user can only edit their own text messages")
        edited = {k: v for k, v in current.items() if k != "entities"}
        edited.update(text=text, edit_date=int(self._now()))
        if found := auto_entities(text):
            edited["entities"] = found
        self._world.replace(edited)
        self._inject("edited_message", edited)
        return edited

    async def press(
        self, user: User, message: JSON, data: str | None = None, *, text: str | None = None
    ) -> str:
        """The user taps an inline button (by `callback_data`, or by its label `text`).

        Only buttons the message currently shows can be pressed. Returns the callback query id.
        """
        current = self._current(message)
        buttons = [
            b for row in current.get("reply_markup", {}).get("inline_keyboard", []) for b in row
        ]
        button = next(
            (
                b
                for b in buttons
                if "callback_data" in b
                and (b["callback_data"] == data if data is not None else b["text"] == text)
            ),
            None,
        )
        if button is None:
            shown = [(b["text"], b.get("callback_data")) for b in buttons]
            raise LookupError(
                f"message {current['message_id']} has no button {data or text!r}: {shown}"
            )
        chat_id = current["chat"]["id"]
        query = self._world.new_callback_query(chat_id, current["message_id"])
        payload = {
            "id": query.id,
            "from": user.to_dict(),
            "message": current,
            "chat_instance": str(next(self._chat_instances) + chat_id),
            "data": button["callback_data"],
        }
        self._inject("callback_query", payload)
        return query.id

    def inject(self, kind: str, payload: JSON) -> int:
        """Any other update (`kind` is its field, e.g. "my_chat_member"); returns the update_id."""
        return self._inject(kind, payload)

    def redeliver(self, update_id: int) -> bool:
        """Deliver an earlier update again with the same update_id, as Telegram does after a
        webhook timeout: even one the bot has confirmed comes back once with the next poll.

        Returns False if the update waits to be handed out anyway (nothing to repeat).
        Raises LookupError for an id that was never queued.
        """
        self._inject_mark = len(self.calls)
        return self._world.redeliver(update_id)

    # --- faults ----------------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        times: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        hang: float | None = None,
        predicate: ParamsPredicate | None = None,
        match: JSON | None = None,
        description: str | None = None,
    ) -> Fault:
        """Make the next `times` calls of `method` (whose params pass `predicate` and contain
        `match`) fail. Returns the `Fault`: `.calls` are the calls it hit, `.cancel()` ends it.

        - `status` 5xx (default 502 "Bad Gateway"), 400, 403 ("Forbidden: bot was blocked by
          the user"): refused with that error, not performed;
        - `retry_after=N` (status 429 implied): "Too Many Requests: retry after N", not
          performed;
        - `hang=seconds` alone: performed and recorded, but the response is held back that
          long, so the client times out while Telegram did the work; with a status or
          retry_after the error is what arrives late.

        Faults registered earlier take precedence; each failing call uses up one of `times`.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        name = self._method_name(method)
        if retry_after is not None:
            if status not in (None, 429):
                raise ValueError("retry_after goes with status 429")
            status = 429
        elif status is None and hang is None:
            status = 502
        if status is not None and not 400 <= status <= 599:
            raise ValueError(f"status {status} is not an error")
        checks: list[ParamsPredicate] = [] if predicate is None else [predicate]
        if match:
            expected = dict(match)
            checks.append(lambda p: matches(expected, p))
        fault = Fault(
            id=next(self._fault_ids),
            method=name,
            times=times,
            status=status,
            retry_after=retry_after,
            hang=hang,
            predicate=(lambda p: all(check(p) for check in checks)) if checks else None,
            description=description,
        )
        self.faults.append(fault)
        return fault

    def _take_fault(self, method: str, params: JSON) -> Fault | None:
        for fault in self.faults:
            if fault.applies(method, params):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault
        return None

    async def _hold(self, seconds: float) -> None:
        # stop() cuts the wait short, so a held response never delays shutdown.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _user_message(self, user: User, chat: Chat, content: JSON, reply_to: JSON | None) -> JSON:
        if chat.id not in self._world.chats:
            raise LookupError(
                f"unknown chat {chat.id}: create it with private_chat/group_chat first"
            )
        if reply_to is not None:
            snapshot = self._world.reply_snapshot(reply_to["chat"]["id"], reply_to["message_id"])
            if snapshot is None:
                raise LookupError(f"no message {reply_to['message_id']} to reply to")
            content["reply_to_message"] = snapshot
        message = self._world.store(chat, user, content)
        if self._delivered_to_bot(chat, message):
            self._inject("message", message)
        return message

    def _delivered_to_bot(self, chat: Chat, message: JSON) -> bool:
        if chat.type == "private" or not self._world.privacy_mode:
            return True
        replied = message.get("reply_to_message", {}).get("from", {}).get("id")
        mine = f"@{self.bot.username}".lower()
        commands = [
            utf16_slice(message["text"], e["offset"], e["length"])
            for e in message.get("entities", [])
            if e["type"] == "bot_command"
        ]
        return replied == self.bot.id or any(
            "@" not in c or c.lower().endswith(mine) for c in commands
        )

    def _inject(self, kind: str, payload: JSON) -> int:
        self._inject_mark = len(self.calls)
        return self._world.enqueue(kind, payload)

    def _current(self, message: JSON) -> JSON:
        current = self._world.find(message["chat"]["id"], message["message_id"])
        if current is None:
            raise LookupError(f"message {message['message_id']} no longer exists")
        return current

    # --- what the bot did ------------------------------------------------------------------------

    @property
    def last_update_id(self) -> int:
        """The id of the newest injected update (or the id before the first one)."""
        return self._world.last_update_id

    @property
    def fetched_up_to(self) -> int:
        """The highest update_id handed out to the bot (or dropped unseen)."""
        return self._world.fetched_up_to

    @property
    def pending_count(self) -> int:
        """Updates Telegram still holds: not yet confirmed by a higher offset."""
        return len(self._world.pending)

    def all_fetched(self) -> bool:
        """Every update, redelivered ones included, was handed out at least once."""
        return self._world.all_fetched()

    def known_user(self, user_id: int) -> User:
        user = self._world.users.get(user_id)
        if user is None:
            raise LookupError(f"unknown user {user_id}: create it with user() first")
        return user

    def known_chat(self, chat_id: int) -> Chat:
        chat = self._world.chats.get(chat_id)
        if chat is None:
            raise LookupError(f"unknown chat {chat_id}")
        return chat

    def chats(self) -> list[Chat]:
        return list(self._world.chats.values())

    def messages(self, chat: Chat | int) -> list[JSON]:
        """Every message the chat shows (users' and the bot's), as they look after edits."""
        return list(
            self._world.messages.get(chat.id if isinstance(chat, Chat) else chat, {}).values()
        )

    def mark(self) -> int:
        """A position in `calls`, for `calls_since` and `wait_for(since=...)`."""
        return len(self.calls)

    def calls_since(self, mark: int, method: str | None = None) -> list[Call]:
        if method is None:
            return self.calls[mark:]
        calls = self._calls_by_method.get(self._method_name(method), [])
        return calls[bisect.bisect_left(calls, mark, key=lambda c: c.index) :]

    def calls_to(self, method: str) -> list[Call]:
        return list(self._calls_by_method.get(self._method_name(method), []))

    async def wait_for(
        self,
        method: str,
        predicate: CallPredicate | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline per wait reads best in tests
        since: int | None = None,
    ) -> Call:
        """The first `method` call matching `predicate`, waiting for it if need be.

        Calls count from `since` (a `mark()`), by default from the latest injected update, so
        `await emu.send_text(...)` then `await emu.wait_for("sendMessage")` finds the reply.
        """
        name = self._method_name(method)
        for call in self.calls_since(self._inject_mark if since is None else since, name):
            if predicate is None or predicate(call):
                return call
        future: asyncio.Future[Call] = asyncio.get_running_loop().create_future()
        waiter = (predicate, future)
        self._waiters.setdefault(name, []).append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            seen = [c.params for c in self.calls_to(name)[-3:]]
            raise TimeoutError(
                f"no matching {name} call within {timeout}s; last ones: {seen}"
            ) from None
        finally:
            self._waiters[name].remove(waiter)

    async def settle(self, quiet: float = 0.15, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot fetched every injected update and then made no call for `quiet` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = loop.time()
            idle = now - self._last_activity
            if (
                self._world.all_fetched()
                and self._inflight == 0
                and idle >= quiet
                and self.bot_idle(self._world.last_update_id)
            ):
                return
            if now >= deadline:
                raise TimeoutError(
                    f"the bot did not settle within {timeout}s "
                    f"(unfetched updates: {not self._world.all_fetched()}, "
                    f"requests in flight: {self._inflight}, "
                    f"bot idle: {self.bot_idle(self._world.last_update_id)})"
                )
            await asyncio.sleep(min(max(quiet - idle, 0.005), 0.05, max(deadline - now, 0.0)))

    def on_call(self, listener: CallListener) -> Callable[[], None]:
        """Call `listener` with every recorded call, in order; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # --- what chats show now ---------------------------------------------------------------------

    def sent_messages(self, chat: Chat | int) -> list[JSON]:
        """Messages the bot sent to the chat and has not deleted, as they look after edits."""
        chat_id = chat.id if isinstance(chat, Chat) else chat
        return [
            m
            for m in self._world.messages.get(chat_id, {}).values()
            if m["from"]["id"] == self.bot.id
        ]

    def last_message(self, chat: Chat | int) -> JSON | None:
        sent = self.sent_messages(chat)
        return sent[-1] if sent else None

    def message(self, chat: Chat | int, message_id: int) -> JSON | None:
        """Any stored message (bot's or user's) in its current version."""
        return self._world.find(chat.id if isinstance(chat, Chat) else chat, message_id)

    def buttons(self, message: JSON) -> list[tuple[str, str | None]]:
        """The inline buttons of the message's current version: (text, callback_data or url)."""
        current = self._world.find(message["chat"]["id"], message["message_id"]) or message
        rows = current.get("reply_markup", {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", b.get("url"))) for row in rows for b in row]

    def reply_keyboard(self, chat: Chat | int) -> list[list[str]] | None:
        """The reply keyboard the chat shows (set by a ReplyKeyboardMarkup, cleared by Remove)."""
        markup = self._world.reply_keyboards.get(chat.id if isinstance(chat, Chat) else chat)
        if markup is None:
            return None
        return [[b if isinstance(b, str) else b["text"] for b in row] for row in markup["keyboard"]]

    def callback_answer(self, query_id: str) -> JSON | None:
        """The answerCallbackQuery parameters for the query, or None while unanswered."""
        query = self._world.callback_queries.get(query_id)
        return None if query is None else query.answer

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The command list setMyCommands stored for the scope (default scope if None)."""
        return self._world.commands.get(World.commands_key(scope, language_code), [])

    def pinned(self, chat: Chat | int) -> list[int]:
        return list(self._world.pinned.get(chat.id if isinstance(chat, Chat) else chat, []))

    def chat_action(self, chat: Chat | int) -> str | None:
        """The last sendChatAction action for the chat."""
        return self._world.chat_actions.get(chat.id if isinstance(chat, Chat) else chat)

    @staticmethod
    def _method_name(method: str) -> str:
        name = _CANONICAL.get(method.lower())
        if name is None:
            raise ValueError(f"the emulator does not serve {method!r}")
        return name

    # --- HTTP ------------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        method = _CANONICAL.get(raw_method.lower(), raw_method)
        long_poll = method == "getUpdates"
        if not long_poll:
            self._inflight += 1
        try:
            params = await self._params(request)
            fault: Fault | None = None
            try:
                if request.match_info["token"] != self.token:
                    raise ApiError(401, "Unauthorized")
                fault = self._take_fault(method, params)
                error = fault.error() if fault is not None else None
                if error is not None:
                    raise error
                counted = self._flood is not None and self._flood.counts(method)
                chat_id, chat_type = self._target(params) if counted else (None, None)
                if self._flood is not None and counted:
                    wait = self._flood.retry_after(chat_id, chat_type)
                    if wait is not None:
                        self.flood_refusals.append((method, chat_id))
                        raise ApiError(
                            429, f"Too Many Requests: retry after {wait}", {"retry_after": wait}
                        )
                impl = METHODS.get(method)
                if impl is None:
                    # python-telegram-bot reports this 404 as InvalidToken; say what it really is.
                    log.warning("the Bot API emulator does not implement %s", raw_method)
                    raise ApiError(404, "Not Found")
                result = impl(self._world, params)
                if inspect.isawaitable(result):
                    result = await result
                body: JSON = {"ok": True, "result": result}
                if self._flood is not None and counted:
                    self._flood.performed(chat_id, chat_type)
            except ApiError as exc:
                body = exc.body()
            call = await self._record(method, params, body, long_poll)
            if fault is not None:
                fault.calls.append(call)
                if fault.hang is not None:
                    await self._hold(fault.hang)
        finally:
            if not long_poll:
                self._inflight -= 1
        return web.json_response(body, status=body.get("error_code", 200), dumps=_dumps)

    def _target(self, params: JSON) -> tuple[int | None, str | None]:
        """The chat a send goes to, for the per-chat window (none if it names no known chat)."""
        try:
            chat = self._world.chat(params.get("chat_id"))
        except ApiError:
            return None, None
        return chat.id, chat.type

    async def _params(self, request: web.Request) -> JSON:
        params: JSON = {k: _decode_value(k, v) for k, v in request.query.items()}
        if request.content_type == "application/json":
            body = await request.json()
            params.update(body if isinstance(body, dict) else {})
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    params[part.name] = UploadedFile(part.filename, content_type, await part.read())
                else:
                    params[part.name] = _decode_value(part.name, await part.text())
        elif request.can_read_body:
            form = await request.post()
            params.update({k: _decode_value(k, v) for k, v in form.items() if isinstance(v, str)})
        return params

    async def _record(self, method: str, params: JSON, body: JSON, long_poll: bool) -> Call:
        ok = bool(body["ok"])
        call = Call(
            method, params, self._now(), body["result"] if ok else body, ok, len(self.calls)
        )
        self.calls.append(call)
        self._calls_by_method.setdefault(method, []).append(call)
        if not long_poll or (ok and call.response):
            self._last_activity = asyncio.get_running_loop().time()
        for predicate, future in self._waiters.get(method, []):
            if future.done():
                continue
            try:
                if predicate is None or predicate(call):
                    future.set_result(call)
            except Exception as exc:
                # A broken predicate fails the test that waits, not the bot's request.
                future.set_exception(exc)
        for listener in list(self._listeners):
            try:
                outcome = listener(call)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                log.exception("emulator call listener failed")
        return call

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        stored = self._world.file_by_path(request.match_info["path"])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")
