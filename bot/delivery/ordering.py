"""Which stored update is handled next: in order within a conversation, fair across chats.

A conversation is a private chat, or one member's messages in a group (residents of a village
group report independent matters, and a burst in one group is exactly when the desk must keep
up). Its updates are handled one at a time in the order Telegram numbered them, so a "submit"
never overtakes the text it submits. Chats take turns: a group with two hundred waiting
reports gets one handled, then the next chat with work gets one, so a private conversation is
never queued behind a group's burst.
"""

from __future__ import annotations

from collections import deque
from typing import Any

ConversationKey = tuple[int, int]


def conversation_key(payload: dict[str, Any]) -> ConversationKey:
    """What must stay in order: (chat, 0) for a private chat, (chat, member) in a group."""
    body: dict[str, Any] = next(
        (v for k, v in payload.items() if k != "update_id" and isinstance(v, dict)), {}
    )
    # A button press carries the message it was pressed on; anything else is the message.
    message = (body.get("message") or {}) if "chat_instance" in body else body
    chat = message.get("chat") or {}
    sender = body.get("from") or message.get("from") or {}
    chat_id = int(chat.get("id", sender.get("id", 0)))
    if chat.get("type", "private") == "private":
        return (chat_id, 0)
    return (chat_id, int(sender.get("id", 0)))


class FairQueue:
    """Updates by conversation; `take` hands out the next one whose conversation is free,
    round-robin over chats."""

    def __init__(self) -> None:
        self._items: dict[ConversationKey, deque[Any]] = {}
        self._busy: set[ConversationKey] = set()
        self._chats: dict[int, deque[ConversationKey]] = {}  # chat → free keys with work
        self._turns: deque[int] = deque()  # chats with a free key with work, in turn order

    def __len__(self) -> int:
        return sum(len(items) for items in self._items.values())

    def put(self, key: ConversationKey, item: Any) -> None:
        items = self._items.setdefault(key, deque())
        items.append(item)
        if len(items) == 1 and key not in self._busy:
            self._ready(key)

    def take(self) -> tuple[ConversationKey, Any] | None:
        """The next update to handle, its conversation now busy; None if none is free."""
        if not self._turns:
            return None
        chat = self._turns.popleft()
        keys = self._chats[chat]
        key = keys.popleft()
        if keys:
            self._turns.append(chat)
        else:
            del self._chats[chat]
        self._busy.add(key)
        return key, self._items[key].popleft()

    def done(self, key: ConversationKey) -> None:
        """The conversation's update is handled: its next one may go."""
        self._busy.discard(key)
        if self._items.get(key):
            self._ready(key)
        else:
            self._items.pop(key, None)

    def _ready(self, key: ConversationKey) -> None:
        chat = key[0]
        if chat not in self._chats:
            self._chats[chat] = deque()
            self._turns.append(chat)
        self._chats[chat].append(key)
