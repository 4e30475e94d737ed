"""The outbox: every message that matters is a row written with the change that causes it.

A service adds `Outgoing` values inside its own transaction; once that transaction commits, the
rows are handed to the sender (bot/delivery/sender.py), which delivers them within Telegram's
limits and retries until they are sent. A state change never waits for a send.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.buttons import Button, Keyboard
from bot.clock import Clock
from bot.delivery.kinds import Method, Priority, Purpose
from storage import queues
from storage.db import after_commit


@dataclass(frozen=True)
class Outgoing:
    """One message to send (or edit), as plain values."""

    chat_id: int
    text: str = ""
    keyboard: Keyboard | None = None  # None: no buttons; () on an edit removes them
    method: Method = Method.SEND
    reply_to: int | None = None  # a message of the chat this answers
    edit_message_id: int | None = None
    photo: str | None = None
    location: tuple[float, float] | None = None
    priority: Priority = Priority.PRIVATE
    purpose: Purpose = Purpose.REPLY
    ticket_id: int | None = None
    summary: str | None = None
    supersede_key: str | None = None
    # Index of an earlier message of the same batch whose sent message this one replies to.
    under: int | None = None


@dataclass(frozen=True)
class QueuedMessage:
    """An outbox row as the sender holds it."""

    id: int
    chat_id: int
    method: Method
    payload: dict[str, Any]
    priority: Priority
    purpose: Purpose
    ticket_id: int | None
    parent_id: int | None
    summary: str | None
    supersede_key: str | None
    attempts: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def payload_of(message: Outgoing) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if message.text:
        payload["text"] = message.text
    if message.keyboard:
        # Stored as the Bot API's reply_markup, sent as it is. No keyboard (None, or () on an
        # edit) sends none, and an edit without one removes the message's buttons.
        payload["reply_markup"] = {
            "inline_keyboard": [[_button(b) for b in row] for row in message.keyboard]
        }
    if message.reply_to is not None:
        payload["reply_to"] = message.reply_to
    if message.edit_message_id is not None:
        payload["message_id"] = message.edit_message_id
    if message.photo is not None:
        payload["photo"] = message.photo
    if message.location is not None:
        payload["location"] = list(message.location)
    return payload


def _button(button: Button) -> dict[str, str | None]:
    if button.url:
        return {"text": button.text, "url": button.url}
    return {"text": button.text, "callback_data": button.data}


Listener = Callable[[list[QueuedMessage]], None]


class Outbox:
    """Writes outbox rows in the caller's transaction and hands them on after the commit."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Called with the new rows after each commit that wrote some (the sender)."""
        self._listeners.append(listener)

    async def put(self, session: AsyncSession, messages: Sequence[Outgoing]) -> list[int]:
        """Add messages to the outbox inside the session's transaction; their row ids."""
        if not messages:
            return []
        now = self._clock.now()
        # A message under another one of the batch needs that row's id: parents go in first.
        first = [i for i, m in enumerate(messages) if m.under is None]
        second = [i for i, m in enumerate(messages) if m.under is not None]
        ids: dict[int, int] = {}
        queued: list[QueuedMessage] = []
        for wave in (first, second):
            rows = [self._row(messages[i], ids, now) for i in wave]
            for i, row, row_id in zip(
                wave, rows, await queues.add_messages(session, rows), strict=True
            ):
                ids[i] = row_id
                queued.append(_queued(row_id, messages[i], row))
        after_commit(session, "outbox", queued, self._hand_on)
        return [ids[i] for i in range(len(messages))]

    def _row(self, message: Outgoing, ids: dict[int, int], now: Any) -> dict[str, Any]:
        return {
            "created_at": now,
            "chat_id": message.chat_id,
            "method": message.method.value,
            "payload": payload_of(message),
            "priority": int(message.priority),
            "purpose": message.purpose.value,
            "ticket_id": message.ticket_id,
            "parent_id": ids[message.under] if message.under is not None else None,
            "summary": message.summary,
            "supersede_key": message.supersede_key,
            "state": queues.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
        }

    def _hand_on(self, rows: list[QueuedMessage]) -> None:
        for listener in self._listeners:
            listener(rows)


def _queued(row_id: int, message: Outgoing, row: dict[str, Any]) -> QueuedMessage:
    return QueuedMessage(
        id=row_id,
        chat_id=message.chat_id,
        method=message.method,
        payload=row["payload"],
        priority=message.priority,
        purpose=message.purpose,
        ticket_id=message.ticket_id,
        parent_id=row["parent_id"],
        summary=message.summary,
        supersede_key=message.supersede_key,
    )


def queued_from_row(row: Any) -> QueuedMessage:
    """A stored row (after a restart) as the sender holds it."""
    return QueuedMessage(
        id=row.id,
        chat_id=row.chat_id,
        method=Method(row.method),
        payload=dict(row.payload),
        priority=Priority(row.priority),
        purpose=Purpose(row.purpose),
        ticket_id=row.ticket_id,
        parent_id=row.parent_id,
        summary=row.summary,
        supersede_key=row.supersede_key,
        attempts=row.attempts,
    )
