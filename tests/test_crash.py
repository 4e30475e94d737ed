"""Crash test: `fengqiao run` killed at random moments while residents report, against
`fengqiao emulator --limits`, both as real processes.

Nothing a resident sent may be lost and nothing done twice: every report ends as exactly one
ticket with its acknowledgement and its card, the inbox and the outbox are drained, and a
message goes out twice only where a kill fell between Telegram's answer and the outbox
recording it (bot/delivery/sender.py), which must show as a kill between the two copies.

What bounds the duplicates: the sender (bot/delivery/sender.py) has at most one send in flight
per chat and MAX_IN_FLIGHT (24) in all, and records each outcome right after Telegram's answer
(a GroupCommit: milliseconds, at worst a busy SQLite's wait). A kill can repeat only what was in
flight or answered and not yet committed, so per kill at most one send per chat, plus what a
chat got in that commit's latency: never more than MAX_IN_FLIGHT here (four group chats, a
dozen private ones). "At most one duplicate per kill" is what one sees in practice (a send takes
milliseconds), but it is no bound: a kill just after a restart, when every chat's leftover
message goes out at once, can catch several. So the test asserts what holds for certain: every
duplicate has a kill between its copies, its first copy went out at most UNRECORDED seconds
before that kill (an older one would be a handler acting twice, not an unrecorded send), no
message is repeated twice, and no kill repeats more than MAX_IN_FLIGHT sends. It prints the
count, to compare with the number of kills.

Time: the group limit (20 messages a minute per chat) paces the cards (one per ticket in each
village's admin chat, plus digests); the stream keeps at most ~36 tickets per admin chat, two
windows of 66 s (the desk's pacer keeps a 10 % margin). A restart costs up to one more: the new
process does not know what the old one sent, its first sends are refused with 429, and the
pacer counts the refused attempts in its window too. The final wait allows for that
(`cards_budget`), bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import re
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.delivery.sender import MAX_IN_FLIGHT
from bot.places import PlaceDirectory
from bot.sandbox.emulator import ControlError, EmulatorClient
from bot.sandbox.emulator.client import RemoteCall

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
ANNOUNCED = re.compile(r"FENGQIAO_BOT_API_URL=(\S+) FENGQIAO_BOT_TOKEN=(\S+)")
SEED = int(os.environ.get("FENGQIAO_CRASH_SEED", "20261123"))

STARTUP = 45.0  # seconds for `fengqiao run` to start polling on a loaded machine
ACTOR_WAIT = 90.0  # for one answer a resident waits for (the desk may be down meanwhile)
STOP_LIMIT = 10.0  # SIGTERM must end the process within this
GROUP_LIMIT, GROUP_WINDOW = 20, 60.0 * 1.1  # Telegram's group limit, with the pacer's margin
# A send answered this long before a kill has had its outcome committed (see the docstring).
UNRECORDED = 10.0

PLACES = PlaceDirectory.load(CONFIG)
VILLAGES = {v.id: v for v in PLACES.villages if v.group_chat_id and v.admin_chat_id}
SENDS = ("sendMessage", "editMessageText", "sendPhoto", "sendLocation")

GROUP_TEXTS = (
    "村东头第{n}号路灯坏了好几天,晚上看不见路",
    "{n}组门口的下水道堵了,污水漫到路上",
    "{n}号桥边的垃圾堆了三天没人清运",
    "{n}号路口的路面坑坑洼洼,电动车摔了好几回",
    "{n}号楼后面的自来水管漏水两天了没人修",
)
PRIVATE_TEXTS = (
    "村里{n}号水塘边的护栏断了,孩子们常在那里玩,太危险",
    "{n}组的垃圾桶满了一个星期没人清运,臭得很",
    "{n}号路段的路灯一到晚上就不亮,走夜路害怕",
)
URGENT_TEXT = "{n}号院隔壁厨房着火了,快来人"


# --- the two processes ---------------------------------------------------------------------


@dataclass
class Emulator:
    process: asyncio.subprocess.Process
    url: str
    token: str


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "emulator",
        "--port",
        "0",
        "--config-dir",
        str(CONFIG),
        "--limits",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()
        found = ANNOUNCED.fullmatch(line)
        assert found, f"unexpected first line from the emulator: {line!r}"
        yield Emulator(process, found[1], found[2])
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


class Desk:
    """`fengqiao run` as a process: started, killed and restarted by the test."""

    def __init__(self, emulator: Emulator, folder: Path) -> None:
        self.folder = folder
        self.database = folder / "desk.db"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
        self.env.update(
            FENGQIAO_BOT_TOKEN=emulator.token,
            FENGQIAO_BOT_API_URL=emulator.url,
            FENGQIAO_DATABASE_URL=f"sqlite+aiosqlite:///{self.database}",
            FENGQIAO_CONFIG_DIR=str(CONFIG),
        )
        self.process: asyncio.subprocess.Process | None = None
        self.runs = 0
        self.log = folder / "desk-0.log"
        self.stops: list[float] = []  # wall-clock times of kills (and SIGTERMs)

    async def start(self) -> None:
        assert self.process is None or self.process.returncode is not None
        self.runs += 1
        self.log = self.folder / f"desk-{self.runs}.log"
        with self.log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                cwd=ROOT,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )

    async def ready(self) -> None:
        """Wait until this run polls for updates (it logs "polling ... for updates")."""
        assert self.process is not None
        deadline = time.monotonic() + STARTUP
        while "for updates" not in self.log.read_text(errors="replace"):
            if self.process.returncode is not None:
                pytest.fail(f"the desk exited with {self.process.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the desk did not start polling within {STARTUP} s:\n{self.tail()}")
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        assert self.process is not None and self.process.returncode is None
        self.stops.append(time.time())
        self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), 10)

    async def terminate(self, *, crash: bool = True) -> tuple[float, int]:
        """SIGTERM; how long the process took to exit, and its exit code. `crash`: a stop
        in the middle of work, which may repeat a send (the final stop is not one)."""
        assert self.process is not None and self.process.returncode is None
        if crash:
            self.stops.append(time.time())
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), STOP_LIMIT + 20)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            pytest.fail(f"the desk ignored SIGTERM for {STOP_LIMIT + 20} s:\n{self.tail()}")
        return time.monotonic() - began, code

    async def close(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_LIMIT + 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def tracebacks(self) -> list[str]:
        found = []
        for log in sorted(self.folder.glob("desk-*.log")):
            text = log.read_text(errors="replace")
            if "Traceback" in text:
                found.append(f"{log.name}:\n{text[text.index('Traceback') :][:3000]}")
        return found


@pytest.fixture
async def desk(emulator: Emulator, tmp_path: Path) -> AsyncIterator[Desk]:
    running = Desk(emulator, tmp_path)
    try:
        yield running
    finally:
        await running.close()


# --- what the bot did, as the emulator recorded it -------------------------------------------


class CallLog:
    """The emulator's recorded calls (getUpdates left out), fetched every 0.2 s."""

    def __init__(self, emu: EmulatorClient) -> None:
        self.emu = emu
        self.calls: list[RemoteCall] = []
        self._next = 0

    async def refresh(self) -> None:
        new = await self.emu.calls(self._next)
        if new:
            self._next = new[-1].index + 1
            self.calls.extend(c for c in new if c.method != "getUpdates")

    async def follow(self) -> None:
        while True:
            with contextlib.suppress(aiohttp.ClientError, ControlError):
                await self.refresh()
            await asyncio.sleep(0.2)

    async def wait(
        self,
        predicate: Callable[[RemoteCall], bool],
        timeout: float = ACTOR_WAIT,  # noqa: ASYNC109 - a deadline per wait reads best here
    ) -> RemoteCall | None:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for call in self.calls[seen:]:
                if predicate(call):
                    return call
            seen = len(self.calls)
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.1)

    def sends(self) -> list[RemoteCall]:
        """Performed calls that put something on a screen."""
        return [c for c in self.calls if c.ok and c.method in SENDS]


def sent_to(chat_id: int, *, button: str) -> Callable[[RemoteCall], bool]:
    """A message sent to the chat with a button whose callback data starts with `button`."""

    def match(call: RemoteCall) -> bool:
        return (
            call.ok
            and call.method == "sendMessage"
            and call.params.get("chat_id") == chat_id
            and data_of(call, button) is not None
        )

    return match


def data_of(call: RemoteCall, prefix: str) -> str | None:
    markup = call.params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []) if isinstance(markup, dict) else []:
        for key in row:
            data = key.get("callback_data")
            if isinstance(data, str) and data.startswith(prefix):
                return data
    return None


# --- the residents ---------------------------------------------------------------------------


@dataclass
class PrivateReport:
    user_id: int
    village: str
    text: str
    urgent: bool
    problem: str | None = None


@dataclass
class Stream:
    """What the residents sent; the actors note what they could not do."""

    group: dict[tuple[int, int], str] = field(default_factory=dict)  # (chat, message) → text
    private: list[PrivateReport] = field(default_factory=list)
    counter: int = 0

    def number(self) -> int:
        self.counter += 1
        return self.counter


async def group_reports(
    emu: EmulatorClient,
    stream: Stream,
    rng: random.Random,
    village: str,
    first_user: int,
    count: int,
    mean_gap: float,
) -> None:
    """`count` reports in the village group from many members, at most two each."""
    chat = VILLAGES[village].group_chat_id
    assert chat is not None
    members = list(range(first_user, first_user + math.ceil(count / 2)))
    for user_id in members:
        await emu.user(user_id, f"村民{user_id}")
    authors = [*members, *members]
    rng.shuffle(authors)
    for user_id in authors[:count]:
        await asyncio.sleep(rng.expovariate(1 / mean_gap) if mean_gap else 0)
        n = stream.number()
        text = "/ts " + rng.choice(GROUP_TEXTS).format(n=n)
        sent = await emu.send_text(user_id, chat, text)
        stream.group[(chat, sent["message_id"])] = text


async def private_report(
    emu: EmulatorClient, calls: CallLog, report: PrivateReport, delay: float
) -> None:
    """/start, choose the village, write; press 提交 on the preview unless it was urgent."""
    await asyncio.sleep(delay)
    uid = report.user_id
    await emu.user(uid, f"居民{uid}")
    chat = int((await emu.private_chat(uid))["id"])
    await emu.send_text(uid, chat, "/start")
    place = f"p:{report.village}"
    prompt = await calls.wait(sent_to(chat, button=place))
    if prompt is None:
        report.problem = "no village question after /start"
        return
    try:
        await emu.press(uid, chat, prompt.response["message_id"], place)
    except ControlError as exc:
        report.problem = f"could not choose the village: {exc}"
        return
    await emu.send_text(uid, chat, report.text)
    if report.urgent:
        return
    preview = await calls.wait(sent_to(chat, button="d:ok:"))
    if preview is None:
        report.problem = "no preview with a submit button"
        return
    try:
        await emu.press(uid, chat, preview.response["message_id"], data_of(preview, "d:ok:"))
    except ControlError as exc:
        report.problem = f"could not submit: {exc}"


def private_reports(stream: Stream, rng: random.Random, first_user: int, count: int) -> None:
    """`count` residents, half in each village, every third one with a fire."""
    villages = sorted(VILLAGES)
    for i in range(count):
        n = stream.number()
        urgent = i % 3 == 2
        text = (URGENT_TEXT if urgent else rng.choice(PRIVATE_TEXTS)).format(n=n)
        stream.private.append(PrivateReport(first_user + i, villages[i % 2], text, urgent))


# --- the database, read with plain sqlite3 ---------------------------------------------------


@dataclass(frozen=True)
class Ticket:
    number: str
    source: str
    source_chat_id: int
    source_message_id: int | None
    resident: int
    place_id: str
    urgent: bool
    admin_chat_id: int | None
    admin_message_id: int | None


@dataclass(frozen=True)
class Stored:
    tickets: list[Ticket]
    inbox: Counter[str]
    outbox: Counter[str]
    outbox_failed: list[tuple[Any, ...]]


def read_database(path: Path) -> Stored:
    if not path.exists():
        return Stored([], Counter(), Counter(), [])
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        try:
            rows = db.execute(
                "SELECT t.number, t.source, t.source_chat_id, t.source_message_id,"
                " r.telegram_id, t.place_id, t.urgent, t.admin_chat_id, t.admin_message_id"
                " FROM tickets t JOIN residents r ON r.id = t.resident_id ORDER BY t.id"
            ).fetchall()
            inbox = Counter(s for (s,) in db.execute("SELECT state FROM inbox"))
            outbox = Counter(s for (s,) in db.execute("SELECT state FROM outbox"))
            failed = db.execute(
                "SELECT id, chat_id, purpose, error FROM outbox WHERE state = 'failed'"
            ).fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return Stored([], Counter(), Counter(), [])
    finally:
        db.close()
    tickets = [
        Ticket(n, s, sc, sm, r, p, bool(u), ac, am) for n, s, sc, sm, r, p, u, ac, am in rows
    ]
    return Stored(tickets, inbox, outbox, failed)


# --- waiting for the end, and the checks -----------------------------------------------------


def cards_budget(stream: Stream) -> float:
    """Seconds the cards of the busiest admin chat need at the group limit, with slack."""
    per_village = Counter(r.village for r in stream.private)
    for chat, _ in stream.group:
        village = PLACES.village_of_group(chat)
        assert village is not None
        per_village[village.id] += 1
    busiest = max(per_village.values())
    # Digests take a slot too: one per backlog, and after each restart perhaps one more.
    windows = math.ceil((busiest + 8) / GROUP_LIMIT)
    return windows * GROUP_WINDOW + 60.0


async def wait_until_done(
    emu: EmulatorClient, calls: CallLog, desk: Desk, expected: int, budget: float
) -> Stored:
    """Every update fetched and handled, `expected` tickets with their cards, nothing to send."""
    deadline = time.monotonic() + budget
    while True:
        stored = read_database(desk.database)
        state = await emu.state()
        done = (
            state.all_fetched
            and state.pending == 0
            and len(stored.tickets) >= expected
            and all(t.admin_message_id is not None for t in stored.tickets)
            and stored.inbox["pending"] == 0
            and stored.outbox["pending"] == 0
        )
        if done:
            await calls.refresh()
            print(f"\n{len(state.flood_refusals)} sends refused with 429 on the way")
            return stored
        if time.monotonic() > deadline:
            pytest.fail(
                f"not done within {budget:.0f} s: emulator pending {state.pending}, "
                f"{len(stored.tickets)}/{expected} tickets, "
                f"{sum(t.admin_message_id is None for t in stored.tickets)} without a card, "
                f"inbox {dict(stored.inbox)}, outbox {dict(stored.outbox)}\n{desk.tail()}"
            )
        await asyncio.sleep(1.0)


@dataclass
class Duplicate:
    what: str
    first: RemoteCall
    again: RemoteCall


def duplicates(calls: CallLog, tickets: list[Ticket]) -> tuple[list[Duplicate], int]:
    """Messages delivered twice; and how many digests were repeated (not counted: a digest
    is a courtesy whose 'already announced' mark lives in memory, see the sender)."""
    sends = calls.sends()
    found: list[Duplicate] = []

    def note(what: str, copies: list[RemoteCall]) -> None:
        found.extend(Duplicate(what, copies[0], again) for again in copies[1:])

    admin_chats = {v.admin_chat_id for v in VILLAGES.values()}
    group_chats = {v.group_chat_id for v in VILLAGES.values()}
    for ticket in tickets:
        number = ticket.number
        card = [
            c
            for c in sends
            if c.params.get("chat_id") in admin_chats and f"新工单 {number}" in c.params["text"]
        ]
        note(f"card of {number}", card)
        if ticket.source == "group":
            acks = [
                c
                for c in sends
                if c.params.get("chat_id") == ticket.source_chat_id
                and number in c.params.get("text", "")
            ]
            note(f"group ack of {number}", acks)
    by_text: dict[tuple[Any, ...], list[RemoteCall]] = {}
    digests: Counter[tuple[Any, str]] = Counter()
    for call in sends:
        chat = call.params.get("chat_id")
        text = str(call.params.get("text", ""))
        if chat in group_chats or chat in admin_chats:
            if chat in admin_chats and "新工单" not in text:
                digests[(chat, text)] += 1
            continue  # acks and cards are counted per ticket above
        key = (chat, call.method, call.params.get("message_id"), text)
        by_text.setdefault(key, []).append(call)
    for key, copies in by_text.items():
        note(f"{key[1]} to chat {key[0]}: {key[3][:40]!r}", copies)
    return found, sum(n - 1 for n in digests.values())


def check(stream: Stream, stored: Stored, calls: CallLog, desk: Desk) -> int:
    """Every report one ticket, acknowledged and carded; drained queues; the duplicates
    explained by the kills. Returns the number of duplicates."""
    problems = [f"resident {r.user_id}: {r.problem}" for r in stream.private if r.problem]
    assert not problems, "\n".join(problems)
    tickets = stored.tickets

    # Exactly one ticket per report.
    group_tickets = Counter(
        (t.source_chat_id, t.source_message_id) for t in tickets if t.source == "group"
    )
    twice = {k: n for k, n in group_tickets.items() if n > 1}
    assert not twice, f"group reports with several tickets: {twice}"
    missing = [stream.group[k] for k in stream.group if k not in group_tickets]
    assert not missing, f"group reports without a ticket: {missing}"
    extra = [k for k in group_tickets if k not in stream.group]
    assert not extra, f"group tickets from no report: {extra}"
    for report in stream.private:
        mine = [t for t in tickets if t.source == "private" and t.resident == report.user_id]
        assert len(mine) == 1, f"resident {report.user_id} has {len(mine)} tickets"
        assert mine[0].place_id == report.village and mine[0].urgent == report.urgent
    assert len(tickets) == len(stream.group) + len(stream.private)

    # Every ticket acknowledged and carded.
    sends = calls.sends()
    for ticket in tickets:
        where = ticket.source_chat_id if ticket.source == "group" else ticket.resident
        acks = [c for c in sends if c.params.get("chat_id") == where]
        assert any(ticket.number in c.params.get("text", "") for c in acks), (
            f"no acknowledgement of {ticket.number} in chat {where}"
        )
        village = VILLAGES[ticket.place_id]
        assert ticket.admin_chat_id == village.admin_chat_id
        cards = [
            c
            for c in sends
            if c.method == "sendMessage"
            and c.params.get("chat_id") == village.admin_chat_id
            and c.response.get("message_id") == ticket.admin_message_id
        ]
        assert len(cards) == 1 and f"新工单 {ticket.number}" in cards[0].params["text"], (
            f"the card of {ticket.number} is not message {ticket.admin_message_id}"
        )

    # Drained: nothing pending, nothing given up.
    assert stored.inbox["pending"] == 0 and stored.inbox["failed"] == 0, dict(stored.inbox)
    assert stored.outbox["pending"] == 0, dict(stored.outbox)
    assert not stored.outbox_failed, f"outbox rows given up: {stored.outbox_failed}"

    # Duplicates: each one a send a kill interrupted, at most one repeat per message.
    with (desk.folder / "calls.jsonl").open("w") as out:  # to study a failure
        for call in calls.calls:
            out.write(json.dumps(call.__dict__, ensure_ascii=False, default=str) + "\n")
    (desk.folder / "stops.json").write_text(json.dumps(desk.stops))
    found, digests = duplicates(calls, tickets)
    print(
        f"\n{len(desk.stops)} stops, {len(found)} duplicate messages, {digests} repeated "
        f"digests, {len(tickets)} tickets, {len(sends)} messages sent"
    )
    per_stop: Counter[float] = Counter()
    for dup in found:
        print(f"  duplicate {dup.what}: at {dup.first.at:.2f} and {dup.again.at:.2f}")
        # The kill after the first copy (the emulator may record it just after the kill).
        stop = next((k for k in desk.stops if dup.first.at <= k + 1.0), None)
        assert stop is not None and stop <= dup.again.at, (
            f"{dup.what} was sent twice without a kill in between"
        )
        assert dup.first.at >= stop - UNRECORDED, (
            f"{dup.what}: sent {stop - dup.first.at:.1f} s before the kill, yet sent again"
        )
        per_stop[stop] += 1
    repeats = Counter(d.what for d in found)
    assert all(n == 1 for n in repeats.values()), f"sent three times or more: {repeats}"
    assert all(n <= MAX_IN_FLIGHT for n in per_stop.values()), per_stop
    return len(found)


# --- the tests -------------------------------------------------------------------------------


async def test_killed_at_random_moments_loses_nothing_and_repeats_little(
    emulator: Emulator, desk: Desk
) -> None:
    rng = random.Random(SEED)
    began = time.monotonic()
    print(f"\nseed {SEED}")
    stream = Stream()
    private_reports(stream, rng, first_user=5001, count=12)
    async with EmulatorClient(emulator.url) as emu:
        calls = CallLog(emu)
        follower = asyncio.create_task(calls.follow())
        await desk.start()
        await desk.ready()
        actors = [
            asyncio.create_task(group_reports(emu, stream, rng, "qingxi", 7001, 30, 0.8)),
            asyncio.create_task(group_reports(emu, stream, rng, "taoyuan", 8001, 30, 0.8)),
            *(
                asyncio.create_task(private_report(emu, calls, report, rng.uniform(0, 20)))
                for report in stream.private
            ),
        ]
        try:
            for _ in range(4):
                await asyncio.sleep(rng.uniform(0.5, 4.0))
                await desk.kill()
                await asyncio.sleep(rng.uniform(0.0, 1.5))
                await desk.start()
                await desk.ready()
            _, late = await asyncio.wait(actors, timeout=2 * ACTOR_WAIT)
            assert not late, "the residents' actions did not finish"
            for actor in actors:
                actor.result()  # an actor's own failure (the emulator refusing) shows here
            stored = await wait_until_done(
                emu, calls, desk, len(stream.group) + len(stream.private), cards_budget(stream)
            )
            settled = time.monotonic() - began
            took, code = await desk.terminate(crash=False)
            assert code == 0 and took < STOP_LIMIT, (code, took)
            count = check(stream, stored, calls, desk)
        finally:
            for task in [*actors, follower]:
                task.cancel()
            await asyncio.gather(*actors, follower, return_exceptions=True)
    print(f"{count} duplicates; everything handled and sent after {settled:.0f} s")
    for traceback in desk.tracebacks():
        print(traceback)


async def test_sigterm_during_a_burst_exits_in_time_and_loses_nothing(
    emulator: Emulator, desk: Desk
) -> None:
    rng = random.Random(SEED + 1)
    began = time.monotonic()
    stream = Stream()
    private_reports(stream, rng, first_user=6001, count=6)
    admin = VILLAGES["qingxi"].admin_chat_id
    async with EmulatorClient(emulator.url) as emu:
        calls = CallLog(emu)
        follower = asyncio.create_task(calls.follow())
        await desk.start()
        await desk.ready()
        await emu.fail("sendMessage", hang=20, match={"chat_id": admin})
        actors = [
            asyncio.create_task(group_reports(emu, stream, rng, "qingxi", 7001, 16, 0.15)),
            asyncio.create_task(group_reports(emu, stream, rng, "taoyuan", 8001, 16, 0.15)),
            *(
                asyncio.create_task(private_report(emu, calls, report, rng.uniform(0, 2)))
                for report in stream.private
            ),
        ]
        try:
            # The burst is in flight, and a card hangs: Telegram performed it, its answer is
            # late. The stop must give up on it within its budget; it goes again after the
            # restart (the one duplicate this stop may cause).
            hung = await calls.wait(lambda c: c.params.get("chat_id") == admin, 60)
            assert hung is not None, f"no card\n{desk.tail()}"
            took, code = await desk.terminate()
            print(f"\nSIGTERM during the burst: exited with {code} after {took:.1f} s")
            assert took < STOP_LIMIT, f"SIGTERM took {took:.1f} s\n{desk.tail()}"
            assert code == 0, desk.tail()
            stored = read_database(desk.database)
            print(
                f"at the stop: {len(stored.tickets)} tickets, inbox {dict(stored.inbox)}, "
                f"outbox {dict(stored.outbox)}"
            )
            await desk.start()
            await desk.ready()
            _, late = await asyncio.wait(actors, timeout=2 * ACTOR_WAIT)
            assert not late, "the residents' actions did not finish"
            for actor in actors:
                actor.result()
            stored = await wait_until_done(
                emu, calls, desk, len(stream.group) + len(stream.private), cards_budget(stream)
            )
            settled = time.monotonic() - began
            await desk.terminate(crash=False)
            count = check(stream, stored, calls, desk)
            assert count <= 1, "only the hung card may go twice"
        finally:
            for task in [*actors, follower]:
                task.cancel()
            await asyncio.gather(*actors, follower, return_exceptions=True)
    print(f"{count} duplicates; everything handled and sent after {settled:.0f} s")
