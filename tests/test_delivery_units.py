"""The delivery machinery's small parts, without Telegram: the sender's pacing (`Pacer`), the
order updates are handled in (`FairQueue`, `conversation_key`) and the flood gate."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.delivery.limits import Limits, Pacer
from bot.delivery.ordering import FairQueue, conversation_key
from bot.flood import FloodGate, FloodLimit, Verdict
from bot.sandbox.emulator import FloodLimits
from bot.sandbox.emulator.limits import FloodGate as TelegramLimits

PRIVATE, GROUP, OTHER_GROUP = 1001, -1001000000102, -1001000000202


class Ticks:
    """A monotonic clock stepped by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def pacer(limits: Limits | None = None) -> tuple[Pacer, Ticks]:
    ticks = Ticks()
    return Pacer(limits or Limits(), ticks), ticks


# --- Pacer ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chat_id", "count", "window"), [(PRIVATE, 1, 1.0), (GROUP, 20, 60.0)], ids=["private", "group"]
)
@pytest.mark.parametrize("margin", [0.0, 0.1])
def test_a_chat_takes_its_count_per_window_then_waits(
    chat_id: int, count: int, window: float, margin: float
) -> None:
    # The group's burst guard (tested below) set to the whole window, to see the window alone.
    p, ticks = pacer(Limits(margin=margin, group_burst=20))
    start = ticks.now
    for _ in range(count):
        assert p.chat_ready_at(chat_id, ticks.now) == ticks.now
        p.sent(chat_id)
        ticks.now += 0.01
    assert p.chat_ready_at(chat_id, ticks.now) == pytest.approx(start + window * (1 + margin))
    assert p.backlog_allowance(chat_id) == 0
    ticks.now = start + window * (1 + margin)
    assert p.chat_ready_at(chat_id, ticks.now) == ticks.now, "the first send left the window"
    assert p.backlog_allowance(chat_id) == 1


def test_chats_have_their_own_windows_and_share_the_total() -> None:
    p, ticks = pacer(Limits(margin=0.0))
    p.sent(PRIVATE)
    assert p.chat_ready_at(PRIVATE, ticks.now) > ticks.now
    assert p.chat_ready_at(PRIVATE + 1, ticks.now) == ticks.now, "another chat is not held"
    for i in range(29):
        p.sent(-(i + 1))
    assert p.total_ready_at(ticks.now) == pytest.approx(ticks.now + 1.0), "30 a second in all"
    ticks.now += 1.0
    assert p.total_ready_at(ticks.now) == ticks.now


@pytest.mark.parametrize("seconds", [1, 7.5, 60])
def test_a_429_holds_the_chat_for_the_time_named(seconds: float) -> None:
    p, ticks = pacer()
    p.hold(GROUP, seconds)
    assert p.chat_ready_at(GROUP, ticks.now) == ticks.now + seconds
    assert p.chat_ready_at(OTHER_GROUP, ticks.now) == ticks.now
    ticks.now += seconds
    assert p.chat_ready_at(GROUP, ticks.now) == ticks.now


@pytest.mark.parametrize("sent", [0, 1, 19, 20, 25])
def test_backlog_allowance_is_what_the_group_window_still_takes(sent: int) -> None:
    p, _ = pacer(Limits(group_burst=20))
    for _ in range(sent):
        p.sent(GROUP)
    assert p.backlog_allowance(GROUP) == max(20 - sent, 0)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "chats",
    [[PRIVATE], [GROUP], [GROUP, OTHER_GROUP], [PRIVATE + i for i in range(40)], None],
    ids=["private", "group", "two-groups", "40-private", "mixed"],
)
def test_sending_whenever_the_pacer_allows_never_draws_a_429(
    seed: int, chats: list[int] | None
) -> None:
    """The desk's pacing against the emulator's model of Telegram's limits, on one clock, with
    the send arriving up to 50 ms after it was counted (the request's travel time)."""
    rng = random.Random(seed)
    chats = chats or [PRIVATE + i for i in range(30)] + [GROUP, OTHER_GROUP, -5]
    p, ticks = pacer(Limits())
    telegram = TelegramLimits(FloodLimits(), ticks)
    for _ in range(600):
        chat = rng.choice(chats)
        at = max(p.chat_ready_at(chat, ticks.now), p.total_ready_at(ticks.now))
        ticks.now = max(ticks.now, at)
        p.sent(chat)
        ticks.now += rng.uniform(0.0, 0.05)
        kind = "private" if chat > 0 else "supergroup"
        assert telegram.retry_after(chat, kind) is None, f"429 for chat {chat} at {ticks.now}"
        telegram.performed(chat, kind)


# --- conversation_key -------------------------------------------------------------------------


def _message(chat_id: int, chat_type: str, user_id: int) -> dict[str, Any]:
    return {
        "message_id": 7,
        "from": {"id": user_id, "is_bot": False, "first_name": "x"},
        "chat": {"id": chat_id, "type": chat_type},
        "text": "hi",
    }


BOT = 123456789


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        ({"update_id": 1, "message": _message(PRIVATE, "private", PRIVATE)}, (PRIVATE, 0)),
        ({"update_id": 1, "edited_message": _message(PRIVATE, "private", PRIVATE)}, (PRIVATE, 0)),
        ({"update_id": 1, "message": _message(GROUP, "supergroup", 42)}, (GROUP, 42)),
        ({"update_id": 1, "message": _message(-5, "group", 43)}, (-5, 43)),
        (
            {
                "update_id": 1,
                "callback_query": {
                    "id": "1",
                    "from": {"id": 42, "is_bot": False, "first_name": "x"},
                    "message": _message(GROUP, "supergroup", BOT),
                    "chat_instance": "9",
                    "data": "g:fok",
                },
            },
            (GROUP, 42),
        ),
        (
            {
                "update_id": 1,
                "callback_query": {
                    "id": "1",
                    "from": {"id": PRIVATE, "is_bot": False, "first_name": "x"},
                    "message": _message(PRIVATE, "private", BOT),
                    "chat_instance": "9",
                    "data": "d:ok:1:2",
                },
            },
            (PRIVATE, 0),
        ),
        (
            {
                "update_id": 1,
                "callback_query": {
                    "id": "1",
                    "from": {"id": 77, "is_bot": False, "first_name": "x"},
                    "chat_instance": "9",
                    "inline_message_id": "abc",
                    "data": "x",
                },
            },
            (77, 0),
        ),
    ],
    ids=[
        "private",
        "private-edit",
        "supergroup-member",
        "group-member",
        "group-press-is-the-pressers",
        "private-press",
        "inline-press",
    ],
)
def test_conversation_key(payload: dict[str, Any], key: tuple[int, int]) -> None:
    assert conversation_key(payload) == key


# --- FairQueue ------------------------------------------------------------------------------


def drain(queue: FairQueue) -> list[Any]:
    """Take everything, finishing each before the next take (one worker)."""
    taken = []
    while (item := queue.take()) is not None:
        key, value = item
        taken.append(value)
        queue.done(key)
    return taken


def test_one_conversation_is_handled_in_order_one_at_a_time() -> None:
    queue = FairQueue()
    for i in range(3):
        queue.put((PRIVATE, 0), i)
    key, first = queue.take() or (None, None)
    assert first == 0 and queue.take() is None, "the next waits until the first is done"
    assert key is not None
    queue.done(key)
    assert drain(queue) == [1, 2] and len(queue) == 0


@pytest.mark.parametrize("burst", [1, 10, 200])
@pytest.mark.parametrize("members", [1, 50])
def test_a_private_chat_is_not_queued_behind_a_group_burst(burst: int, members: int) -> None:
    queue = FairQueue()
    for i in range(burst):
        queue.put((GROUP, i % members), f"group {i}")
    queue.put((PRIVATE, 0), "fire")
    order = drain(queue)
    assert order.index("fire") <= 1, "the private chat's turn comes next"
    assert [x for x in order if x != "fire"] == [f"group {i}" for i in range(burst)]


def test_chats_take_turns_and_members_of_a_group_run_side_by_side() -> None:
    queue = FairQueue()
    for i in range(3):
        queue.put((GROUP, 1), f"a{i}")
        queue.put((GROUP, 2), f"b{i}")
    queue.put((OTHER_GROUP, 3), "c0")
    running = [queue.take() for _ in range(4)]
    assert [r[1] for r in running if r is not None] == ["a0", "c0", "b0"], (
        "one per member, chats alternating"
    )
    assert running[3] is None, "each member's next report waits for the one running"
    for item in running[:3]:
        assert item is not None
        queue.done(item[0])
    assert drain(queue) == ["a1", "b1", "a2", "b2"]


def test_a_key_finished_with_nothing_left_is_forgotten() -> None:
    queue = FairQueue()
    queue.put((PRIVATE, 0), "x")
    taken = queue.take()
    assert taken is not None
    queue.done(taken[0])
    queue.done(taken[0])  # done twice changes nothing
    assert len(queue) == 0 and queue.take() is None
    queue.put((PRIVATE, 0), "y")
    assert drain(queue) == ["y"]


# --- FloodGate --------------------------------------------------------------------------------

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("limit", [FloodLimit(), FloodLimit(3, timedelta(seconds=30))])
def test_past_the_rate_one_notice_then_quiet(limit: FloodLimit) -> None:
    gate = FloodGate(limit)
    key = ("group", GROUP, 42)
    verdicts = [gate.check(key, T0 + timedelta(milliseconds=10 * i)) for i in range(300)]
    assert verdicts[: limit.count] == [Verdict.ALLOW] * limit.count
    assert verdicts[limit.count] is Verdict.NOTICE
    assert set(verdicts[limit.count + 1 :]) == {Verdict.QUIET}
    assert gate.check(("group", GROUP, 43), T0) is Verdict.ALLOW, "others are not slowed"


def test_the_window_slides_and_the_notice_is_given_again() -> None:
    gate = FloodGate(FloodLimit(2, timedelta(minutes=2)))
    key = ("private", PRIVATE)
    assert [gate.check(key, T0) for _ in range(4)] == [
        Verdict.ALLOW,
        Verdict.ALLOW,
        Verdict.NOTICE,
        Verdict.QUIET,
    ]
    later = T0 + timedelta(minutes=2)
    assert gate.check(key, later) is Verdict.ALLOW, "the first two left the window"
    assert gate.check(key, later) is Verdict.ALLOW
    assert gate.check(key, later) is Verdict.NOTICE, "a new window, a new notice"


@pytest.mark.parametrize("gap_seconds", [1, 23, 24, 60])
def test_a_steady_sender_opens_at_most_count_per_window(gap_seconds: int) -> None:
    gate = FloodGate(FloodLimit(5, timedelta(minutes=2)))
    allowed = [
        T0 + timedelta(seconds=gap_seconds * i)
        for i in range(200)
        if gate.check("k", T0 + timedelta(seconds=gap_seconds * i)) is Verdict.ALLOW
    ]
    for i, at in enumerate(allowed[5:], start=5):
        assert at - allowed[i - 5] >= timedelta(minutes=2)
    if gap_seconds >= 24:
        assert len(allowed) == 200, "a sender within the rate is never slowed"


def test_a_refused_send_takes_no_place_in_the_window() -> None:
    """A 429 means the message never went out: the chat's next send is not pushed back."""
    now = [0.0]
    pacer = Pacer(Limits(group_burst=20), monotonic=lambda: now[0])
    for i in range(19):
        now[0] = float(i)
        pacer.sent(-100)
    now[0] = 19.0
    pacer.sent(-100)
    pacer.refused(-100)
    assert pacer.chat_ready_at(-100, 19.0) == 19.0


def test_sends_of_an_earlier_run_still_count_after_a_restart() -> None:
    now = [100.0]
    pacer = Pacer(Limits(), monotonic=lambda: now[0])
    for seconds_ago in (5.0, 1.0, 3.0, 2.0, 4.0) * 4:
        pacer.sent_earlier(-100, seconds_ago)
    # Twenty in the last five seconds: the group's window (66 s with the margin) is full.
    assert pacer.chat_ready_at(-100, 100.0) == pytest.approx(95.0 + 66.0)
    assert pacer.chat_ready_at(-200, 100.0) == 100.0


def test_a_slow_answer_pushes_the_chat_s_next_send_back() -> None:
    """A request that took long may have reached Telegram late: the chat's window counts the
    message from its answer, not from when it left."""
    now = [0.0]
    pacer = Pacer(Limits(), monotonic=lambda: now[0])
    pacer.sent(42)
    now[0] = 0.4
    pacer.landed(42)
    assert pacer.chat_ready_at(42, 0.4) == pytest.approx(0.4 + 1.1)
    assert pacer.total_ready_at(0.4) == 0.4


def test_a_group_keeps_most_of_its_minute_for_later() -> None:
    """Three messages in the first seconds, then one as each share of the window frees: a
    burst of reports finds room left, and what waits is combined meanwhile."""
    p, ticks = pacer(Limits(margin=0.0))
    start = ticks.now
    for _ in range(3):
        assert p.chat_ready_at(GROUP, ticks.now) == ticks.now
        p.sent(GROUP)
    assert p.backlog_allowance(GROUP) == 0
    assert p.chat_ready_at(GROUP, ticks.now) == pytest.approx(start + 9.0), "3 in 60 * 3/20 s"
    ticks.now = start + 9.0
    assert p.backlog_allowance(GROUP) == 3
    assert p.chat_ready_at(PRIVATE, ticks.now) == ticks.now, "private chats have no such guard"
