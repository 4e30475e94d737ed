"""The emulated server's state: chats, messages, the update queue, files, callback queries."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.emulator.types import JSON, ApiError, Chat, User, bad_request

# Telegram leaves these out unless they are asked for explicitly in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes = field(repr=False)


@dataclass
class CallbackQuery:
    id: str
    chat_id: int
    message_id: int
    answer: JSON | None = None  # the answerCallbackQuery parameters, once answered


@dataclass
class PendingUpdate:
    update_id: int
    kind: str
    payload: JSON
    # A redelivered update carries an id the bot may already have confirmed: an offset only
    # drops it once it has been handed out again.
    redelivered: bool = False
    handed_out: bool = False

    def to_dict(self) -> JSON:
        return {"update_id": self.update_id, self.kind: self.payload}


class World:
    """Everything the emulated Telegram server remembers. Single event loop, no locking."""

    def __init__(self, bot: User, now: Callable[[], float], *, privacy_mode: bool) -> None:
        self.bot = bot
        self.privacy_mode = privacy_mode
        self.now = now
        self.chats: dict[int, Chat] = {}
        self.users: dict[int, User] = {}
        self.blocked: set[int] = set()
        # (chat id, user id) → "creator" | "administrator" | "member" | "left" | ...; a user
        # not named here is a plain member of every group.
        self.member_status: dict[tuple[int, int], str] = {}
        self.messages: dict[int, dict[int, JSON]] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self.pinned: dict[int, list[int]] = {}
        self.reply_keyboards: dict[int, JSON] = {}
        self.chat_actions: dict[int, str] = {}
        self.files: dict[str, StoredFile] = {}
        self._file_ids = itertools.count(1)
        self.media_group_ids = itertools.count(13_800_000_000_000_001)
        self.callback_queries: dict[str, CallbackQuery] = {}
        self._query_ids = itertools.count(4_395_000_000_000_000_001)
        self.commands: dict[str, list[JSON]] = {}
        self.webhook: JSON = {}
        self.allowed_updates: frozenset[str] = frozenset()
        self.pending: deque[PendingUpdate] = deque()  # ordered by update_id
        self.history: dict[int, tuple[str, JSON]] = {}  # every update ever queued, for redeliver
        self._awaiting_redelivery: set[int] = set()
        self._update_ids = itertools.count(100_000_001)
        self.last_update_id = 100_000_000
        self.fetched_up_to = 100_000_000  # highest update_id delivered or dropped
        self.poller_generation = 0
        self.closing = False
        self._signal = asyncio.Event()

    # --- chats and messages ---------------------------------------------------------------

    def add_chat(self, chat: Chat) -> Chat:
        self.chats[chat.id] = chat
        self.messages.setdefault(chat.id, {})
        self._message_ids.setdefault(chat.id, itertools.count(1))
        return chat

    def chat(self, chat_id: Any) -> Chat:
        """The chat a `chat_id` parameter names (an id or "@username"), as Telegram resolves it."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            found = next(
                (c for c in self.chats.values() if (c.username or "").lower() == name), None
            )
            if found is None:
                raise bad_request("chat not found")
            return found
        try:
            chat = self.chats.get(int(chat_id))
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def writable_chat(self, chat_id: Any) -> Chat:
        chat = self.chat(chat_id)
        if chat.type == "private" and chat.id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def store(self, chat: Chat, sender: User, content: JSON) -> JSON:
        message: JSON = {
            "message_id": next(self._message_ids[chat.id]),
            "from": sender.to_dict(),
            "chat": chat.to_dict(),
            "date": int(self.now()),
            **content,
        }
        self.messages[chat.id][message["message_id"]] = message
        return message

    def replace(self, message: JSON) -> None:
        # A new dict per version, so snapshots handed out earlier keep what they showed.
        self.messages[message["chat"]["id"]][message["message_id"]] = message

    def find(self, chat_id: int, message_id: Any) -> JSON | None:
        try:
            return self.messages.get(chat_id, {}).get(int(message_id))
        except (TypeError, ValueError):
            return None

    def reply_snapshot(self, chat_id: int, message_id: int) -> JSON | None:
        """What `reply_to_message` shows: the replied message, one level deep."""
        message = self.find(chat_id, message_id)
        if message is None:
            return None
        return {k: v for k, v in message.items() if k != "reply_to_message"}

    # --- files ----------------------------------------------------------------------------

    def add_file(self, data: bytes, folder: str, suffix: str) -> StoredFile:
        n = next(self._file_ids)
        stored = StoredFile(
            file_id=f"EMU{folder.upper()}{n:08d}AAQ",
            file_unique_id=f"EMUQ{n:08d}",
            file_path=f"{folder}/file_{n}.{suffix}",
            data=data,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == path), None)

    # --- callback queries -------------------------------------------------------------------

    def new_callback_query(self, chat_id: int, message_id: int) -> CallbackQuery:
        query = CallbackQuery(str(next(self._query_ids)), chat_id, message_id)
        self.callback_queries[query.id] = query
        return query

    # --- commands ---------------------------------------------------------------------------

    @staticmethod
    def commands_key(scope: Any, language_code: Any) -> str:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return f"{json.dumps(scope, sort_keys=True)}|{language_code or ''}"

    # --- updates ----------------------------------------------------------------------------

    def enqueue(self, kind: str, payload: JSON) -> int:
        update = PendingUpdate(next(self._update_ids), kind, payload)
        self.pending.append(update)
        self.history[update.update_id] = (kind, payload)
        self.last_update_id = update.update_id
        self._wake()
        return update.update_id

    def redeliver(self, update_id: int) -> bool:
        """Queue an earlier update again under the same id, even if the bot confirmed it.

        Telegram does this when a webhook did not answer in time. Returns False when the update
        waits to be handed out anyway.
        """
        if update_id not in self.history:
            raise LookupError(f"no update {update_id} was ever queued")
        queued = next((u for u in self.pending if u.update_id == update_id), None)
        if queued is not None:
            if not queued.handed_out:
                return False
            # Handed out but not confirmed yet: the confirming offset must not drop it now.
            queued.redelivered, queued.handed_out = True, False
            self._awaiting_redelivery.add(update_id)
            self._wake()
            return True
        kind, payload = self.history[update_id]
        update = PendingUpdate(update_id, kind, payload, redelivered=True)
        # getUpdates hands updates out in id order, so the old id goes back in its place.
        self.pending.insert(
            bisect.bisect_left(self.pending, update_id, key=lambda u: u.update_id), update
        )
        self._awaiting_redelivery.add(update_id)
        self._wake()
        return True

    def all_fetched(self) -> bool:
        """Every update was handed out at least once, redelivered ones included."""
        return self.fetched_up_to >= self.last_update_id and not self._awaiting_redelivery

    def drop_pending(self) -> None:
        self.pending.clear()
        self._awaiting_redelivery.clear()
        self.fetched_up_to = self.last_update_id

    def _wake(self) -> None:
        self._signal.set()
        self._signal = asyncio.Event()

    def close(self) -> None:
        """Release every waiting getUpdates so the server can shut down at once."""
        self.closing = True
        self._wake()

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            kept: list[PendingUpdate] = []
            while self.pending and self.pending[0].update_id < offset:
                update = self.pending.popleft()
                if update.redelivered and not update.handed_out:
                    kept.append(update)
            self.pending.extendleft(reversed(kept))
        elif offset < 0:
            while len(self.pending) > -offset:
                self._awaiting_redelivery.discard(self.pending.popleft().update_id)

    def _wanted(self, kind: str) -> bool:
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _OPT_IN_UPDATES

    def _deliverable(self, limit: int) -> list[JSON]:
        unwanted = [u.update_id for u in self.pending if not self._wanted(u.kind)]
        if unwanted:
            # Telegram never produces updates of types the bot did not subscribe to.
            self.pending = deque(u for u in self.pending if self._wanted(u.kind))
            self.fetched_up_to = max(self.fetched_up_to, *unwanted)
            self._awaiting_redelivery.difference_update(unwanted)
        batch = list(itertools.islice(self.pending, limit))
        if batch:
            self.fetched_up_to = max(self.fetched_up_to, batch[-1].update_id)
            for update in batch:
                update.handed_out = True
                self._awaiting_redelivery.discard(update.update_id)
        return [u.to_dict() for u in batch]

    async def get_updates(
        self, offset: int, limit: int, wait: float, allowed_updates: list[str] | None
    ) -> list[JSON]:
        """Long polling: answer at once when updates are pending, else wait up to `wait` seconds."""
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if allowed_updates is not None:
            self.allowed_updates = frozenset(allowed_updates)
        # A newer poller takes over, as on Telegram; the older one gets a 409.
        self.poller_generation += 1
        generation = self.poller_generation
        self._wake()
        self._confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(wait, 0.0)
        while True:
            updates = self._deliverable(limit)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or self.closing:
                return updates
            signal = self._signal
            try:
                await asyncio.wait_for(signal.wait(), remaining)
            except TimeoutError:
                return []
            if generation != self.poller_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
