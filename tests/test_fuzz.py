"""Fuzzing the running desk: random and hostile updates, Telegram's flood limits on both sides.

Each hypothesis example starts a fresh desk (its own SQLite file, emulator and flood windows) and
plays a few rounds: in every round each actor (a resident in a private chat or a village group,
a stranger in a group the desk does not know, a cadre in an admin chat) does one thing: writes
a text or a command, sends a photo, a location, a sticker, a voice note or a contact, edits an
earlier text, presses a button the bot showed, presses forged callback data on a real bot
message, presses twice at once, or has Telegram deliver an update again. Then the desk settles
and these must hold:

- no unexpected failure: the error handler logs nothing, nothing is logged at ERROR, and no
  one reads the generic "something went wrong" text;
- every message in a private chat is answered, and every button press is answered;
- the desk keeps to Telegram's limits (the emulator refused nothing);
- the database is consistent: every update stored and done, every outbox row sent (or
  superseded), every ticket with its `created` event, a card in the outbox or a `card_failed`
  event, and a resident, and ticket numbers contiguous.

Two bugs it found stay pinned by explicit examples: a "Message is not modified" refusal ended an
outbox row failed, and a redelivered older update stopped the desk from reporting idle.

With limits on, a private chat gets one message a second: the actors are distinct users, and the
rounds are few, so an example costs about as many seconds as it has rounds. FUZZ_EXAMPLES=300
explores longer than the default 25 (under a minute).
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from sqlalchemy import func, select

import bot.desk
from bot.clock import FakeClock
from bot.delivery.limits import Limits
from bot.sandbox.emulated import BOT_USERNAME, EmulatedDesk, emulated_desk
from bot.sandbox.emulator import Chat, FloodLimits, User
from bot.texts import Texts
from storage.models import (
    InboxUpdate,
    OutboxMessage,
    Resident,
    Ticket,
    TicketCounter,
    TicketEvent,
)
from tests.conftest import CONFIG, START

JSON = dict[str, Any]

# A group the desk has no configuration for.
STRANGER_GROUP = -1009999999001
FIRST_USER = 70_001
# Sends that put something on a person's screen: an answer to what they did.
ANSWERS = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto"}
ANSWERS |= {"sendLocation", "editMessageCaption"}
# Room for a few paced messages per chat per round (one a second in a private chat).
SETTLE_TIMEOUT = 15.0

# --- strategies --------------------------------------------------------------------------------

EMOJI = "😀"
FAMILY = "👨\u200d👩\u200d👧"
HOSTILE_NAMES = [
    "A<b>",
    "x<y",
    "&",
    "&amp;",
    "</b>",
    "<i>张三",
    '"><script>',
    EMOJI * 32,
    FAMILY * 8,
    "\u202eRTL\u202c",
    "\u200fعلي\u200f",
    "\u200b",
    "龘" * 64,
    "a" * 64,
    "张三",
    "@FengqiaoDeskBot",
    "/start",
]
first_names = st.one_of(st.sampled_from(HOSTILE_NAMES), st.text(min_size=1, max_size=64))
last_names = st.one_of(st.none(), st.just(""), st.sampled_from(HOSTILE_NAMES), st.text(max_size=64))
usernames = st.one_of(st.none(), st.from_regex(r"[A-Za-z][A-Za-z0-9_]{4,31}", fullmatch=True))

REPORTS = [
    "村口垃圾三天没人收了",
    "村里的路灯坏了好久,晚上很黑",
    "燃气泄漏了,闻到很大的味道,快来人",
    "低保怎么申请?",
    "建议在村口装个路灯",
    "我叫王小明,电话13812345678,隔壁天天半夜装修",
    "工资被拖欠三个月了",
]
HOSTILE_TEXTS = [
    "",
    " ",
    "\n\t \n",
    "路" * 4090,
    EMOJI * 2048,
    FAMILY * 512,
    "<" * 4000,
    "&amp;" * 800,
    "<b>村口垃圾</b> x<y & z </i>",
    "\u202e村口垃圾没人收\u202c",
    "\u200b\u200b\u200b",
    "/ts",
    "/jy",
    "/zx   ",
    "/qz\n",
    "/ts 村口垃圾三天没人收了 <b>",
    f"/ts@{BOT_USERNAME} 路灯坏了",
    "/ts@SomeOtherBot 路灯坏了",
    "/ticket",
    "/ticket <b>",
    "/ticket 2026-000001",
    "/ticket 2026-000002",
    "/ticket 12x",
    "/ticket " + "9" * 300,
    "/start",
    "/start t999",
    "/start t2026000001",
    "/start t" + "9" * 40,
    "/start garbage",
    "/start <b>",
    "/my",
    "/help",
    "/place",
    "/cancel",
    "/frobnicate",
    "/",
    f"@{BOT_USERNAME}",
    f"@{BOT_USERNAME} 村口垃圾三天没人收了",
    f"@{BOT_USERNAME.lower()} <b>路灯</b>坏了",
    f"路灯坏了 @{BOT_USERNAME}",
    "@SomeoneElse 路灯坏了",
]
texts = st.one_of(
    st.sampled_from(HOSTILE_TEXTS),
    st.sampled_from(REPORTS),
    st.text(max_size=300),
    st.builds(
        lambda prefix, body: prefix + body,
        st.sampled_from(["/ts ", "/jy ", "/zx ", "/qz ", f"@{BOT_USERNAME} ", "/start ", ""]),
        st.one_of(st.sampled_from(REPORTS + HOSTILE_TEXTS), st.text(max_size=100)),
    ),
)


def _fit_bytes(text: str, limit: int = 64) -> str:
    """Callback data is at most 64 bytes of UTF-8."""
    while len(text.encode()) > limit:
        text = text[:-1]
    return text


forged_data = st.one_of(
    st.sampled_from(
        [
            "",
            "d:ok:1:1",
            "d:join:1:1:1",
            "d:join:1:1:999",
            "d:c:1:1:environment",
            "d:c:1:1:<b>",
            "d:x:0:0",
            "d:ok:-1:1",
            "d:ok:1",
            "d:ok:1:1:2:3",
            "d:fhu:1:1",
            "d:fok:1:1",
            "d::1:1",
            "p:nowhere",
            "p:",
            "p:qingshan-town",
            "p:anning-county",
            "p:qingxi-1",
            "g:fhu",
            "g:fok",
            "g:",
            "x" * 64,
        ]
    ),
    st.text(max_size=64).map(_fit_bytes),
)

CHATS = ["private", "private", "private", "qingxi", "taoyuan", "stranger", "admin"]

actions = st.one_of(
    st.tuples(st.just("text"), texts),
    st.tuples(st.just("text"), texts),
    # The button's index, and how many messages with buttons back (0: the newest).
    st.tuples(st.just("press"), st.integers(0, 20), st.sampled_from([0, 0, 0, 1, 3])),
    st.tuples(st.just("press"), st.integers(0, 20), st.just(0)),
    st.tuples(st.just("forge"), forged_data),
    st.tuples(st.just("double"), st.integers(0, 20), st.just(0)),
    st.tuples(st.just("edit"), texts),
    st.tuples(st.just("photo"), st.one_of(st.none(), texts.map(lambda t: t[:1024]))),
    st.tuples(
        st.just("location"),
        st.floats(-90, 90, allow_nan=False),
        st.floats(-180, 180, allow_nan=False),
    ),
    st.tuples(st.just("sticker"), st.sampled_from(["👍", EMOJI, FAMILY])),
    st.tuples(st.just("voice")),
    st.tuples(st.just("contact"), st.sampled_from(["+8613812345678", "<b>", ""])),
    st.tuples(st.just("redeliver")),
)


# Mostly the first button (submit, the first village, "solved"), sometimes another one.
taps = st.tuples(
    st.sampled_from(["press", "press", "press", "double"]),
    st.one_of(st.sampled_from([0, 0, 0, 1]), st.sampled_from([0, 0, 1, 2]), st.integers(0, 20)),
    st.just(0),
)
reports = st.one_of(
    st.sampled_from(REPORTS),
    st.builds(lambda report, noise: report + noise, st.sampled_from(REPORTS), texts),
).map(lambda text: ("text", text))
# What an actor does, round by round: anything at all, or a report followed by button taps
# (choose a village, submit, join, solved / still need a person), with anything after it.
# A report addressed to the bot, as a group needs it (and a private chat takes it).
addressed = st.builds(
    lambda prefix, body: ("text", prefix + body),
    st.sampled_from(["/ts ", "/jy ", "/zx ", "/qz ", f"@{BOT_USERNAME} "]),
    st.one_of(st.sampled_from(REPORTS), texts),
)
# Every round costs about a second (the private chat's limit), so most plans have two.
plans = st.one_of(
    st.lists(actions, min_size=1, max_size=2).map(tuple),
    st.tuples(reports, st.one_of(taps, actions)),
    st.tuples(addressed, st.one_of(taps, actions)),
    st.tuples(reports, taps, st.one_of(taps, actions)),
    st.tuples(st.just(("text", "/start")), taps, st.one_of(reports, actions)),
)


@dataclass(frozen=True)
class ActorSpec:
    first_name: str
    last_name: str | None
    username: str | None
    where: str  # private | qingxi | taoyuan | stranger | admin
    actions: tuple[tuple[Any, ...], ...]


actors = st.builds(
    ActorSpec,
    first_name=first_names,
    last_name=last_names,
    username=usernames,
    where=st.sampled_from(CHATS),
    actions=plans,
)
scenarios = st.tuples(
    st.lists(actors, min_size=1, max_size=3),
    # How far the desk's clock moves between rounds (past the draft merge window, or not).
    st.lists(st.sampled_from([0, 0, 10, 45, 180]), min_size=2, max_size=2),
)

# --- running a scenario ------------------------------------------------------------------------


@dataclass
class Actor:
    spec: ActorSpec
    user: User
    chat: Chat
    last_text: JSON | None = None
    last_update: int | None = None


@dataclass
class Outcome:
    """What one round must lead to, checked once the desk has settled."""

    mark: int
    must_answer: set[int] = field(default_factory=set)  # private chats that wrote
    queries: list[str] = field(default_factory=list)
    redelivered: bool = False


class Problems(logging.Handler):
    """Collects what signals an unexpected failure: the error handler's own records, and any
    ERROR anywhere."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "handlers.errors" or record.levelno >= logging.ERROR:
            self.records.append(record)


def _buttons(message: JSON) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def _inject_press(world: EmulatedDesk, user: User, message: JSON, data: str) -> str:
    """A button press as Telegram delivers it: the message as it is now, any callback data.

    `BotApiEmulator.press` only presses buttons the message shows; a forged press needs a
    callback query the emulator knows, so that the bot can answer it.
    """
    emu = world.emu
    current = emu.message(message["chat"]["id"], message["message_id"])
    assert current is not None
    query = emu._world.new_callback_query(current["chat"]["id"], current["message_id"])
    emu.inject(
        "callback_query",
        {
            "id": query.id,
            "from": user.to_dict(),
            "message": current,
            "chat_instance": str(current["chat"]["id"]),
            "data": data,
        },
    )
    return query.id


def _bot_messages(world: EmulatedDesk, chat: Chat, with_buttons: bool) -> list[JSON]:
    sent = world.emu.sent_messages(chat)
    return [m for m in sent if _buttons(m)] if with_buttons else sent


async def _act(world: EmulatedDesk, actor: Actor, action: tuple[Any, ...], out: Outcome) -> None:
    emu, user, chat = world.emu, actor.user, actor.chat
    kind = action[0]
    private = chat.type == "private"
    before = emu.last_update_id
    if kind == "forge":
        sent = _bot_messages(world, chat, with_buttons=False)
        if sent:
            out.queries.append(_inject_press(world, user, sent[-1], action[1]))
            actor.last_update = emu.last_update_id
        return
    if kind in ("press", "double"):
        offered = _bot_messages(world, chat, with_buttons=True)
        if not offered:
            return
        message = offered[max(len(offered) - 1 - action[2], 0)]
        shown = _buttons(message)
        data = shown[action[1] % len(shown)]
        for _ in range(2 if kind == "double" else 1):
            out.queries.append(_inject_press(world, user, message, data))
        actor.last_update = emu.last_update_id
        return
    if kind == "redeliver":
        if actor.last_update is not None:
            out.redelivered = emu.redeliver(actor.last_update) or out.redelivered
        return
    if kind == "edit" and actor.last_text is not None:
        await emu.edit_text(user, actor.last_text, action[1])
    elif kind in ("text", "edit"):
        actor.last_text = await emu.send_text(user, chat, action[1])
    elif kind == "photo":
        await emu.send_photo(user, chat, action[1])
    elif kind == "location":
        await emu.send_location(user, chat, action[1], action[2])
    elif kind == "sticker":
        await emu.send_sticker(user, chat, action[1])
    elif kind == "voice":
        await emu.send_voice(user, chat)
    elif kind == "contact":
        await emu.send_contact(user, chat, action[1])
    else:  # pragma: no cover - every strategy's kind is handled above
        raise AssertionError(kind)
    if emu.last_update_id != before:
        actor.last_update = emu.last_update_id
        if private:
            out.must_answer.add(chat.id)


def _check_round(world: EmulatedDesk, out: Outcome) -> None:
    emu = world.emu
    answered = {
        call.params.get("chat_id")
        for call in emu.calls_since(out.mark)
        if call.ok and call.method in ANSWERS
    }
    silent = out.must_answer - answered
    assert not silent, f"private chats got no answer: {sorted(silent)}"
    unanswered = [q for q in out.queries if emu.callback_answer(q) is None]
    assert not unanswered, f"button presses left unanswered: {unanswered}"


async def _check_database(world: EmulatedDesk, injected: set[int]) -> None:
    async with world.desk.sessions() as session:
        inbox = dict(
            (await session.execute(select(InboxUpdate.update_id, InboxUpdate.state))).all()
        )
        missing = injected - set(inbox)
        assert not missing, f"updates never stored: {sorted(missing)}"
        not_done = {uid: state for uid, state in inbox.items() if state != "done"}
        assert not not_done, f"inbox rows not done: {not_done}"

        outbox = (
            await session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.state,
                    OutboxMessage.purpose,
                    OutboxMessage.error,
                ).where(OutboxMessage.state.not_in(("sent", "superseded")))
            )
        ).all()
        assert not outbox, f"outbox rows not sent: {[tuple(row) for row in outbox]}"

        tickets = (await session.scalars(select(Ticket).order_by(Ticket.id))).all()
        numbers = [t.number for t in tickets]
        assert numbers == [f"{START.year}-{i:06d}" for i in range(1, len(tickets) + 1)], numbers
        if tickets:
            last = await session.scalar(
                select(TicketCounter.last).where(TicketCounter.year == START.year)
            )
            assert last == len(tickets), (last, numbers)
        residents = set(await session.scalars(select(Resident.id)))
        for ticket in tickets:
            assert ticket.resident_id in residents, f"{ticket.number} has no resident"
            actions = set(
                await session.scalars(
                    select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
                )
            )
            assert "created" in actions, f"{ticket.number} has no created event: {actions}"
            cards = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.ticket_id == ticket.id, OutboxMessage.purpose == "card")
            )
            assert cards or "card_failed" in actions, f"{ticket.number}: no card, no card_failed"
        if currently_in_test_context():
            event(f"tickets opened: {min(len(tickets), 3)}{'+' if len(tickets) > 3 else ''}")


async def _scenario(specs: list[ActorSpec], minutes: list[int], database: Path) -> None:
    clock = FakeClock(START)
    url = f"sqlite+aiosqlite:///{database}"
    async with emulated_desk(
        url,
        CONFIG,
        clock,
        poll_timeout=1,
        limits=Limits(),
        emulator_limits=FloodLimits(),
    ) as world:
        emu = world.emu
        stranger = emu.group_chat(STRANGER_GROUP, "<b>别的群</b>")
        cast: list[Actor] = []
        for i, spec in enumerate(specs):
            user = emu.user(FIRST_USER + i, spec.first_name, spec.username, spec.last_name)
            if spec.where == "private":
                chat = emu.private_chat(user)
            elif spec.where == "stranger":
                chat = stranger
            elif spec.where == "admin":
                chat = world.admin_of("qingxi")
            else:
                chat = world.group_of(spec.where)
            cast.append(Actor(spec, user, chat))
        injected: set[int] = set()
        first = emu.last_update_id
        generic = Texts.load(CONFIG)("errors.generic")
        rounds = max(len(spec.actions) for spec in specs)
        for number in range(rounds):
            if number:
                clock.advance(timedelta(minutes=minutes[(number - 1) % len(minutes)]))
            out = Outcome(emu.mark())
            for actor in cast:
                if number < len(actor.spec.actions):
                    await _act(world, actor, actor.spec.actions[number], out)
            await emu.settle(timeout=SETTLE_TIMEOUT)
            _check_round(world, out)
        injected = set(range(first + 1, emu.last_update_id + 1))
        said = [str(c.params.get("text", "")) for c in emu.calls if c.method in ANSWERS]
        assert not [t for t in said if generic in t], "someone read the generic error text"
        assert not emu.flood_refusals, f"the desk broke Telegram's limits: {emu.flood_refusals}"
        await _check_database(world, injected)


# --- the test ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config_once() -> Iterator[None]:
    """Read the config folder (and build jieba's tokenizer) once for the whole module, not once
    per example: it is half a second, and the desk only reads it."""
    original = bot.desk.load_config
    loaded: dict[Path, Any] = {}

    def load_config(settings: Any) -> Any:
        if settings.config_dir not in loaded:
            loaded[settings.config_dir] = original(settings)
        return loaded[settings.config_dir]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bot.desk, "load_config", load_config)
        yield


@pytest.fixture
def problems() -> Iterator[Problems]:
    handler = Problems()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios)
# A resident without a village writes, then taps a village button twice (a double tap): the
# second, identical edit is refused "Message is not modified" and its outbox row ends failed.
@example(
    scenario=(
        [ActorSpec("A", None, None, "private", (("text", "路灯坏了"), ("double", 0, 0)))],
        [0],
    ),
)
# Telegram delivers a group message again after a newer private one was handled: the fetcher's
# highest update id (and offset) drops to it, and the desk never reports idle again.
@example(
    scenario=(
        [
            ActorSpec("B", None, None, "qingxi", (("text", "今天谁去赶集"), ("redeliver",))),
            ActorSpec("A", None, None, "private", (("text", "路灯坏了"),)),
        ],
        [0],
    ),
)
def test_random_and_hostile_updates(
    config_once: None,
    problems: Problems,
    scenario: tuple[list[ActorSpec], list[int]],
) -> None:
    specs, minutes = scenario
    problems.records.clear()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_scenario(specs, minutes, Path(folder) / "desk.db"))
    failures = [
        f"{r.name}: {r.getMessage()}" + (f" ({r.exc_info[1]!r})" if r.exc_info else "")
        for r in problems.records
    ]
    assert not failures, failures
