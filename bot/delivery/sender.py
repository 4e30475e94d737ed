"""The sender: delivers outbox rows within Telegram's limits, retrying until they are sent.

- Order: one chat's messages go out one at a time in their order (urgent ones first); chats do
  not wait for each other, so a busy group never delays a private conversation.
- Limits: `Pacer` keeps every chat and the total under Telegram's flood limits; a 429 holds
  the chat for the time Telegram names.
- A busy chat gets combined messages: group acknowledgements waiting for a group at its limit
  go out as one message naming each member and ticket; an admin chat with more new cards than
  its limit allows first gets one message listing them, then each card as the limit allows.
- Failures: network errors and 5xx are retried with backoff, for ever; a refusal that will not
  change (blocked, chat gone, bad request) marks the row failed (a card's failure goes on the
  ticket's timeline). A state change never depends on any of this.
- A crash between Telegram's answer and recording it sends that message again after restart:
  the one way a message can go out twice.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter
from telegram.warnings import PTBDeprecationWarning

from bot.batching import GroupCommit
from bot.clock import Clock
from bot.delivery.kinds import Method, Priority, Purpose
from bot.delivery.limits import Pacer
from bot.delivery.outbox import QueuedMessage, queued_from_row
from bot.lengths import utf16_len
from bot.messages import Messages
from bot.tickets import TicketService
from storage import queues

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 24
MAX_LINES = 40  # per combined message
COMBINED_BUDGET = 3500  # UTF-16 units of lines per combined message, leaving room for its header
MAX_BACKOFF = 300.0
REMEMBERED_PARENTS = 10_000
NOT_MODIFIED = "message is not modified"
# Recording what was sent waits this long to record more at once: on SQLite every transaction
# queues for the one connection the intake needs too.
SETTLE_LINGER = 0.05
RECENT = timedelta(seconds=70)  # longer than Telegram's longest window (a group's minute)


@dataclass
class _Batch:
    """What one send delivers: a single row, several rows combined, or a digest of cards."""

    chat_id: int
    rows: list[QueuedMessage]
    text: str | None = None  # the combined text, when several rows go as one message
    announces: list[int] = field(default_factory=list)  # card rows a digest lists


@dataclass
class SenderStats:
    sent: int = 0
    combined: int = 0  # rows delivered inside a combined message
    digests: int = 0
    retries: int = 0
    failed: int = 0
    flood_waits: int = 0  # 429s received


@dataclass(frozen=True)
class _Outcome:
    row: QueuedMessage
    state: str
    message_id: int | None = None
    error: str | None = None


class Sender:
    """Delivers the outbox; start it once the bot can talk to Telegram."""

    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        pacer: Pacer,
        messages: Messages,
        tickets: TicketService,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self._bot = bot
        self._sessions = sessions
        self._clock = clock
        self._pacer = pacer
        self._messages = messages
        self._tickets = tickets
        self._max_in_flight = max_in_flight
        self._queues: dict[int, list[QueuedMessage]] = {}
        self._due: dict[int, float] = {}  # row id → when it may be tried again
        self._busy: set[int] = set()  # chats with a send in flight
        self._tasks: set[asyncio.Task[None]] = set()
        self._announced: set[int] = set()
        self._parents: OrderedDict[int, int] = OrderedDict()  # card row → its message id
        self._wake = _Alarm()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._settle: GroupCommit[_Outcome, None] = GroupCommit(
            self._write_outcomes, linger=SETTLE_LINGER
        )
        self.stats = SenderStats()

    # --- feeding -------------------------------------------------------------------------------

    def enqueue(self, rows: Sequence[QueuedMessage]) -> None:
        """New rows, just committed (the outbox calls this after each commit)."""
        superseded: list[QueuedMessage] = []
        for row in rows:
            queue = self._queues.setdefault(row.chat_id, [])
            if row.supersede_key is not None:
                # The first row may be in flight (it leaves the queue only once settled).
                start = 1 if row.chat_id in self._busy else 0
                keep = queue[:start]
                for old in queue[start:]:
                    (superseded if old.supersede_key == row.supersede_key else keep).append(old)
                queue[:] = keep
            queue.append(row)
            queue.sort(key=lambda r: (r.priority, r.id))
        for old in superseded:
            self._due.pop(old.id, None)
            self._record(_Outcome(old, queues.SUPERSEDED))
        self._wake.ring()

    @property
    def backlog(self) -> int:
        """Rows waiting to be sent."""
        return sum(len(q) for q in self._queues.values())

    @property
    def busy(self) -> bool:
        """Sends in flight, or outcomes not yet recorded."""
        return bool(self._tasks) or self._settle.busy

    async def start(self) -> None:
        """Load what earlier runs left unsent, then deliver until stopped."""
        now = self._clock.now()
        async with self._sessions() as session:
            rows = await queues.pending_messages(session)
            recent = await queues.recent_sends(session, now - RECENT)
        # What an earlier run sent in the last minute still counts against Telegram's limits.
        for chat_id, sent_at in recent:
            self._pacer.sent_earlier(chat_id, (now - sent_at).total_seconds())
        self.enqueue([queued_from_row(row) for row in rows])
        if rows:
            log.info("%d outbox messages left from before", len(rows))
        self._loop_task = asyncio.create_task(self._run(), name="outbox sender")

    async def stop(self, timeout: float = 3.0) -> None:  # noqa: ASYNC109 - a shutdown budget
        """Stop starting sends; let those in flight finish (up to `timeout`) and be recorded.

        What is not sent stays in the outbox for the next start.
        """
        self._stopping = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._settle.close()

    # --- the loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            next_at = self._start_ready()
            timeout = None if next_at is None else max(next_at - self._pacer.monotonic(), 0.0)
            await self._wake.wait(timeout)

    def _start_ready(self) -> float | None:
        """Start every send that may go now; returns when the next one may, if one waits."""
        now = self._pacer.monotonic()
        next_at: float | None = None
        heads = sorted(
            (queue[0].priority, queue[0].id, chat_id)
            for chat_id, queue in self._queues.items()
            if queue and chat_id not in self._busy
        )
        for _, _, chat_id in heads:
            if len(self._tasks) >= self._max_in_flight:
                return next_at  # a finishing send wakes the loop
            total_at = self._pacer.total_ready_at(now)
            if total_at > now:
                return _earliest(next_at, total_at)
            head = self._queues[chat_id][0]
            at = max(self._pacer.chat_ready_at(chat_id, now), self._due.get(head.id, now))
            if at > now:
                next_at = _earliest(next_at, at)
                continue
            batch = self._take(chat_id, now)
            self._pacer.sent(chat_id)
            self._busy.add(chat_id)
            task = asyncio.create_task(self._deliver(batch))
            self._tasks.add(task)
            task.add_done_callback(self._done)
        return next_at

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox send crashed", exc_info=task.exception())
        self._wake.ring()

    def _take(self, chat_id: int, now: float) -> _Batch:
        """The next thing to send to the chat: combined when more waits than the limit allows."""
        queue = self._queues[chat_id]
        head = queue[0]
        if head.priority >= Priority.PRIVATE and head.purpose in (Purpose.GROUP_ACK, Purpose.CARD):
            allowance = self._pacer.backlog_allowance(chat_id)
            alike = [
                r
                for r in queue
                if r.purpose == head.purpose
                and r.priority == head.priority
                and r.summary
                and self._due.get(r.id, now) <= now
            ]
            if head.purpose == Purpose.GROUP_ACK and len(alike) > max(allowance, 1):
                rows = _fitting(alike)
                lines = [r.summary or "" for r in rows]
                return _Batch(chat_id, rows, self._messages.combined_acks(lines))
            fresh = [r for r in alike if r.id not in self._announced]
            if head.purpose == Purpose.CARD and len(fresh) > max(allowance, 1):
                listed = _fitting(fresh)
                lines = [r.summary or "" for r in listed]
                return _Batch(chat_id, [], self._messages.digest(lines), [r.id for r in listed])
        return _Batch(chat_id, [head])

    # --- one send ------------------------------------------------------------------------------

    async def _deliver(self, batch: _Batch) -> None:
        try:
            try:
                message_id = await self._call(batch)
            except RetryAfter as exc:
                wait = _retry_after(exc)
                self.stats.flood_waits += 1
                log.warning(
                    "Telegram asks to wait %.0f s before writing to chat %s", wait, batch.chat_id
                )
                self._pacer.refused(batch.chat_id)
                self._pacer.hold(batch.chat_id, wait)
                return  # the rows stay queued, first in line
            except TelegramError as exc:
                self._failed(batch, exc)
                return
            except Exception as exc:
                # Not a refusal from Telegram: most likely its answer could not be read, after
                # the message went out. Sending again would repeat it, so it is not retried.
                log.exception("outbox send to chat %s failed unexpectedly", batch.chat_id)
                self._failed(batch, BadRequest(f"unexpected {type(exc).__name__}"))
                return
            self._pacer.landed(batch.chat_id)
            self._succeeded(batch, message_id)
        finally:
            self._busy.discard(batch.chat_id)

    def _succeeded(self, batch: _Batch, message_id: int | None) -> None:
        if batch.announces:
            self._announced.update(batch.announces)
            self.stats.digests += 1
            return
        if batch.text is not None:
            self.stats.combined += len(batch.rows)
        for row in batch.rows:
            self._remove(row)
            if row.purpose == Purpose.CARD and message_id is not None:
                self._parents[row.id] = message_id
                while len(self._parents) > REMEMBERED_PARENTS:
                    self._parents.popitem(last=False)
            self._record(_Outcome(row, queues.SENT, message_id))
        self.stats.sent += 1

    def _failed(self, batch: _Batch, exc: TelegramError) -> None:
        unchanged = isinstance(exc, BadRequest) and NOT_MODIFIED in exc.message.lower()
        permanent = isinstance(exc, Forbidden) or (isinstance(exc, BadRequest) and not unchanged)
        if unchanged:
            self._succeeded(batch, None)  # the message already shows this: nothing to do
            return
        if batch.announces:
            # A digest is a courtesy: mark the cards announced rather than retry it.
            self._announced.update(batch.announces)
            return
        for row in batch.rows:
            if permanent:
                log.warning("outbox %s to chat %s refused: %s", row.id, row.chat_id, exc.message)
                self.stats.failed += 1
                self._remove(row)
                self._record(_Outcome(row, queues.FAILED, error=exc.message[:250]))
            else:
                attempts = row.extra.get("attempts", row.attempts) + 1
                row.extra["attempts"] = attempts
                delay = min(2.0 ** min(attempts, 10), MAX_BACKOFF)
                self._due[row.id] = self._pacer.monotonic() + delay
                self.stats.retries += 1
                log.warning(
                    "outbox %s to chat %s failed (%s); retry %d in %.0f s",
                    row.id,
                    row.chat_id,
                    exc.message,
                    attempts,
                    delay,
                )

    def _remove(self, row: QueuedMessage) -> None:
        queue = self._queues.get(row.chat_id)
        if queue is not None and row in queue:
            queue.remove(row)
            if not queue:
                del self._queues[row.chat_id]
        self._due.pop(row.id, None)

    async def _call(self, batch: _Batch) -> int | None:
        """The Bot API call for the batch; the sent message's id."""
        row = batch.rows[0] if batch.rows else None
        if batch.text is not None or row is None:
            return await self._post("sendMessage", {"chat_id": batch.chat_id, **_html(batch.text)})
        payload = row.payload
        params: dict[str, Any] = {"chat_id": row.chat_id}
        if "reply_markup" in payload:
            params["reply_markup"] = payload["reply_markup"]
        if row.method in (Method.SEND, Method.PHOTO, Method.LOCATION):
            reply_to = await self._reply_to(row)
            if reply_to is not None:
                # The message answered may be gone by now; the answer still matters.
                params["reply_parameters"] = {
                    "message_id": reply_to,
                    "allow_sending_without_reply": True,
                }
        match row.method:
            case Method.SEND:
                return await self._post("sendMessage", {**params, **_html(payload["text"])})
            case Method.PHOTO:
                caption = (
                    {"caption": payload["text"], "parse_mode": "HTML"}
                    if payload.get("text")
                    else {}
                )
                return await self._post(
                    "sendPhoto", {**params, "photo": payload["photo"], **caption}
                )
            case Method.LOCATION:
                latitude, longitude = payload["location"]
                location = {"latitude": latitude, "longitude": longitude}
                return await self._post("sendLocation", {**params, **location})
            case Method.EDIT:
                params["message_id"] = payload["message_id"]
                return await self._post("editMessageText", {**params, **_html(payload["text"])})
            case Method.EDIT_MARKUP:
                params["message_id"] = payload["message_id"]
                return await self._post("editMessageReplyMarkup", params)

    async def _post(self, method: str, params: dict[str, Any]) -> int | None:
        """One Bot API call through python-telegram-bot's request layer (its error mapping:
        RetryAfter, Forbidden, BadRequest, NetworkError), without building objects from the
        answer: the sender needs only the message id, and parsing it cost a sixth of a send."""
        data = RequestData([RequestParameter(key, value, None) for key, value in params.items()])
        result = await self._bot.request.post(f"{self._bot.base_url}/{method}", data)
        return int(result["message_id"]) if isinstance(result, dict) else None

    async def _reply_to(self, row: QueuedMessage) -> int | None:
        reply_to = row.payload.get("reply_to")
        if row.parent_id is not None:
            reply_to = self._parents.get(row.parent_id)
            if reply_to is None:
                async with self._sessions() as session:
                    reply_to = await queues.sent_message_id(session, row.parent_id)
        return None if reply_to is None else int(reply_to)

    # --- recording -----------------------------------------------------------------------------

    def _record(self, outcome: _Outcome) -> None:
        task = asyncio.ensure_future(self._settle.submit(outcome))
        task.add_done_callback(_log_failure)

    async def _write_outcomes(self, outcomes: Sequence[_Outcome]) -> list[None]:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await queues.settle_messages(
                session,
                [
                    {
                        "id": o.row.id,
                        "state": o.state,
                        "sent_message_id": o.message_id,
                        "sent_at": now if o.state == queues.SENT else None,
                        "error": o.error,
                        "attempts": o.row.extra.get("attempts", o.row.attempts),
                    }
                    for o in outcomes
                ],
            )
            cards = [o for o in outcomes if o.row.purpose == Purpose.CARD and o.row.ticket_id]
            await self._tickets.cards_posted(
                session,
                [
                    (o.row.ticket_id, o.row.chat_id, o.message_id)
                    for o in cards
                    if o.row.ticket_id and o.state == queues.SENT and o.message_id is not None
                ],
            )
            for o in cards:
                if o.row.ticket_id and o.state == queues.FAILED:
                    await self._tickets.card_failed(session, o.row.ticket_id, o.error or "")
        return [None] * len(outcomes)


def _fitting(rows: list[QueuedMessage]) -> list[QueuedMessage]:
    """As many rows as one combined message holds: their lines' HTML source (never shorter
    than what Telegram counts) within the budget, at most MAX_LINES."""
    taken: list[QueuedMessage] = []
    used = 0
    for row in rows[:MAX_LINES]:
        used += utf16_len(row.summary or "") + 1
        if taken and used > COMBINED_BUDGET:
            break
        taken.append(row)
    return taken


class _Alarm:
    """Wakes the sender's loop when rung, or after a timeout.

    Not asyncio.wait_for on an Event: on Python 3.11 wait_for can swallow a cancellation that
    arrives as its wait ends (a known race); the loop then went on waiting for ever and
    shutdown with it. Cancelling a plain future cannot be lost.
    """

    def __init__(self) -> None:
        self._rung = False
        self._future: asyncio.Future[None] | None = None

    def ring(self) -> None:
        self._rung = True
        if self._future is not None:
            _settle_future(self._future)

    def clear(self) -> None:
        self._rung = False

    async def wait(self, timeout: float | None) -> None:  # noqa: ASYNC109 - the alarm's own
        """Return once rung (since the last clear) or after `timeout` seconds."""
        if self._rung:
            return
        loop = asyncio.get_running_loop()
        future = self._future = loop.create_future()
        timer = loop.call_later(timeout, _settle_future, future) if timeout is not None else None
        try:
            await future
        finally:
            self._future = None
            if timer is not None:
                timer.cancel()


def _settle_future(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _html(text: str | None) -> dict[str, Any]:
    """A text as the desk sends every text: HTML, no link previews."""
    return {"text": text or "", "parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}


def _retry_after(exc: RetryAfter) -> float:
    # python-telegram-bot 22 warns that this becomes a timedelta; either form is read.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _earliest(a: float | None, b: float) -> float:
    return b if a is None else min(a, b)


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("recording an outbox outcome failed", exc_info=task.exception())
