"""The cadres' desk under load: a cadre's action to the resident's notification, 50 at once.

Each round starts the real desk against the shipped Bot API emulator on a fresh file-backed
SQLite database (as bench_intake.py). BENCH_DESK_N residents (alternating the villages qingxi
and taoyuan) each choose their village (/place and its button), write one report privately and
press the preview's submit button; BENCH_DESK_CADRES staff rows are seeded (role cadre, half
per village), and once every card is in its village's admin chat the cadres act, every one of
them at the same moment, phase after phase, each on a ticket of their own village:

- claim: the cadre presses 受理 (`k:claim:<id>`) on the card; measured from the press
  injected to the resident's "已受理" sendMessage in their private chat;
- answer: the cadre presses 回复 (`k:answer:<id>`; the prompt in the admin chat is timed too,
  as a side figure), then, once every prompt is shown, sends the answer as their next message
  in the admin chat; measured from that message injected to the resident's sendMessage of the
  answer (the one with the rating buttons);
- rate: the resident presses 满意 or 基本满意 (`r:<id>:1:<rating>`) under the answer; measured
  from the press to the rating relayed to the admin chat (sendMessage "居民评价"), the
  figure that closes the loop back to the cadres; the edit of the resident's own message into
  the thanks (editMessageText) is timed beside it.

Between phases the bench waits for the desk to settle (limits off), so a phase measures only
its own burst. Before the burst a warm-up loop (BENCH_DESK_WARMUP tickets, one at a time) runs
the same actions through every code path. Throughput per phase: actions / (first injection to
the last notification). Figures are medians over the rounds (p50 and p99 within each round).

With limits off (the desk's UNLIMITED sender, an emulator without flood limits, as the tests'
`running` fixture) the figures are the desk's own cost. With limits on (`Limits()` and
`FloodLimits()`, as the tests' `limited` fixture) the resident-facing notices go to private
chats (one a second per chat, 30 a second in all) but everything in the admin chats (cards,
card refreshes, prompts, relays) shares each village group's 20 messages a minute: the
rating relay then measures queueing behind that window, not the desk.

Environment: BENCH_DESK_N (default 50), BENCH_DESK_CADRES (50), BENCH_DESK_ROUNDS (3),
BENCH_DESK_WARMUP (2), BENCH_DESK_LIMITED_ROUNDS (1; 0 skips the limits-on line),
BENCH_DESK_LIMITED_N (10: about 2.5 minutes; 50 takes about 10, the admin chats' backlog
draining at 20 a minute), BENCH_DESK_TIMEOUT (seconds a phase may take with limits
off, 60; with limits on it is scaled by the admin chats' backlog).
"""

from __future__ import annotations

import asyncio
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_intake import (
    CONFIG,
    GIVEN,
    MESSAGES,
    POLL_TIMEOUT,
    SURNAMES,
    VILLAGES,
    _env_int,
    _percentile,
    _quiet_logging,
    _submit_data,
    settle_residents,
)
from bot.delivery.limits import Limits
from bot.sandbox.emulated import EmulatedDesk, emulated_desk
from bot.sandbox.emulator import Call, Chat, FloodLimits, User

PHASES = ("claim", "prompt", "answer", "rate", "rate_edit")
# Ticket numbers as the desk writes them (2026-000123).
NUMBER_RE = re.compile(r"\b\d{4}-\d{6,}\b")
CLAIMED = "已受理"  # in the resident's notice of a claim
RATED_RELAY = "居民评价"  # in the admin chat's relay of a rating
CANCEL_PREFIX = "k:cancel_input:"  # a prompt's 取消 button: the prompt names its ticket id
RATINGS = ("satisfied", "basic")
ANSWERS = (
    "已安排工作人员本周内上门处理,处理结果会再告诉您。",
    "已联系相关部门,明天上午派人到现场查看。",
    "情况已核实,已列入本月整改计划,感谢您的反映。",
)
FIRST_RESIDENT = 720_000
FIRST_CADRE = 5_100_000


# --- one run ------------------------------------------------------------------------------------


@dataclass
class Phase:
    """One burst of actions: when each was injected and when its notification arrived."""

    injected: dict[int, float] = field(default_factory=dict)  # ticket id → injection time
    done: dict[int, float] = field(default_factory=dict)  # ticket id → notification time
    # Process CPU time from the first injection to the last notification (bot, emulator and
    # the database thread together): steadier than wall time on a shared machine.
    cpu_seconds: float | None = None

    @property
    def cpu_ms(self) -> float | None:
        """CPU milliseconds per action."""
        if self.cpu_seconds is None or not self.injected:
            return None
        return self.cpu_seconds / len(self.injected) * 1000

    @property
    def latencies(self) -> list[float]:
        return [self.done[k] - at for k, at in self.injected.items() if k in self.done]

    @property
    def missing(self) -> int:
        return sum(k not in self.done for k in self.injected)

    @property
    def throughput(self) -> float | None:
        """Actions per second: first injection to the last notification."""
        if not self.injected or self.missing:
            return None
        span = max(self.done[k] for k in self.injected) - min(self.injected.values())
        return len(self.injected) / span if span > 0 else None


@dataclass
class DeskRun:
    """What one round measured."""

    n: int
    cadres: int
    limited: bool
    phases: dict[str, Phase] = field(default_factory=lambda: {p: Phase() for p in PHASES})
    tickets: int = 0  # stored after the setup
    closed: int = 0  # closed at the end (every rating closes its ticket)
    refusals: int = 0  # the emulator's 429s
    errors: int = 0  # other failed sends
    seconds: float = 0.0  # the whole round, setup included

    @property
    def problems(self) -> list[str]:
        found = []
        for name, phase in self.phases.items():
            if phase.missing or len(phase.injected) != self.n:
                found.append(
                    f"{name}: {len(phase.injected) - phase.missing} of {self.n} notifications"
                )
        if self.closed != self.tickets:
            found.append(f"{self.closed} of {self.tickets} tickets closed after the ratings")
        if self.refusals or self.errors:
            found.append(f"{self.refusals} sends refused with 429, {self.errors} other failures")
        return found


class Watch:
    """Everything the bench needs from the bot's calls, keyed by ticket."""

    def __init__(self, admin_ids: set[int]) -> None:
        self.admin_ids = admin_ids
        self.ticket_of_number: dict[str, int] = {}
        self.ticket_of_resident: dict[int, int] = {}
        self.acked: dict[int, str] = {}  # resident chat → ticket number in the submit's ack
        self.cards: dict[int, Any] = {}  # ticket id → its card message (the first sent)
        self.answers: dict[int, Any] = {}  # ticket id → the resident's answer message
        self.phases: dict[str, Phase] = {p: Phase() for p in PHASES}
        self.refusals = 0
        self.errors = 0
        self.changed = asyncio.Event()

    def _tickets(self, text: str) -> list[int]:
        found = (self.ticket_of_number.get(n) for n in NUMBER_RE.findall(text))
        return [t for t in found if t is not None]

    def _mark(self, phase: str, tickets: list[int], at: float) -> None:
        done = self.phases[phase].done
        for ticket in tickets:
            done.setdefault(ticket, at)
        self.changed.set()

    def listen(self, call: Call) -> None:
        if call.method not in ("sendMessage", "editMessageText"):
            return
        if not call.ok:
            if call.response.get("error_code") == 429:
                self.refusals += 1
            else:
                self.errors += 1
            return
        chat_id = call.params.get("chat_id")
        text = str(call.params.get("text", ""))
        data = _buttons(call)
        send = call.method == "sendMessage"
        if chat_id in self.admin_ids:
            if send and (claim := _with_prefix(data, "k:claim:")) is not None:
                self.cards.setdefault(claim, call.response)
            elif send and (prompted := _with_prefix(data, CANCEL_PREFIX)) is not None:
                self._mark("prompt", [prompted], call.at)
            elif send and RATED_RELAY in text:
                self._mark("rate", self._tickets(text), call.at)
            self.changed.set()
        elif isinstance(chat_id, int) and chat_id > 0:
            if not send:
                numbers = NUMBER_RE.findall(text)
                if numbers and chat_id not in self.acked:
                    self.acked[chat_id] = numbers[0]
                elif chat_id in self.ticket_of_resident and "r:" not in " ".join(data):
                    rated = self.ticket_of_resident[chat_id]
                    if rated in self.phases["rate"].injected:
                        self._mark("rate_edit", [rated], call.at)
            elif (answered := _rated_ticket(data)) is not None:
                self.answers.setdefault(answered, call.response)
                self._mark("answer", [answered], call.at)
            elif CLAIMED in text:
                self._mark("claim", self._tickets(text), call.at)
            self.changed.set()

    async def wait(self, done: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                return done()
        return True


def _buttons(call: Call) -> list[str]:
    markup = call.params.get("reply_markup")
    if not isinstance(markup, dict):
        return []
    return [
        str(button.get("callback_data"))
        for row in markup.get("inline_keyboard", [])
        for button in row
        if button.get("callback_data")
    ]


def _with_prefix(data: list[str], prefix: str) -> int | None:
    for item in data:
        if item.startswith(prefix):
            rest = item[len(prefix) :].split(":", 1)[0]
            return int(rest) if rest.isdigit() else None
    return None


def _rated_ticket(data: list[str]) -> int | None:
    """The ticket id of an answer's rating buttons (`r:<ticket>:<answer>:<rating>`)."""
    for item in data:
        parts = item.split(":")
        if len(parts) == 4 and parts[0] == "r" and parts[1].isdigit():
            return int(parts[1])
    return None


async def _seed_staff(world: EmulatedDesk, cadres: list[tuple[User, str]]) -> None:
    """Registered cadres, as an accepted invitation leaves them (tests/support.py `staff`)."""
    from storage.models import Staff

    now = world.desk.clock.now()
    async with world.desk.sessions() as session, session.begin():
        session.add_all(
            Staff(
                telegram_id=user.id,
                display_name=user.first_name,
                role="cadre",
                place_id=village,
                created_at=now,
                updated_at=now,
            )
            for user, village in cadres
        )


@dataclass(frozen=True)
class Assignment:
    """One ticket: its resident, and the cadre of its village who handles it."""

    ticket: int
    resident: User
    chat: Chat
    cadre: User
    admin: Chat


async def _setup(
    world: EmulatedDesk,
    watch: Watch,
    n: int,
    n_cadres: int,
    timeout: float,  # noqa: ASYNC109 - the longest wait for each step
) -> list[Assignment]:
    """N residents report privately (village chosen through the emulator), the cadres are
    seeded; every ticket's card is in its admin chat when this returns. Tickets are assigned
    round-robin to the cadres of their village."""
    emu = world.emu
    residents: list[tuple[User, Chat, str]] = []
    for i in range(n):
        uid = FIRST_RESIDENT + i
        name = f"{SURNAMES[i % len(SURNAMES)]}{GIVEN[i % len(GIVEN)]}{i}"
        user = emu.user(uid, name)
        residents.append((user, emu.private_chat(user), VILLAGES[i % len(VILLAGES)]))
    cadres = [
        (emu.user(FIRST_CADRE + j, f"干部{j}"), VILLAGES[j % len(VILLAGES)])
        for j in range(n_cadres)
    ]
    await _seed_staff(world, cadres)
    await settle_residents(emu, residents, timeout=timeout)
    users = {user.id: user for user, _, _ in residents}

    async def submit(call: Call) -> None:
        chat_id = call.params.get("chat_id")
        if call.method == "sendMessage" and call.ok and chat_id in users:
            data = _submit_data(call.params.get("reply_markup"))
            if data is not None:
                await emu.press(users[chat_id], call.response, data)

    stop = emu.on_call(submit)
    watch.acked.clear()
    for i, (user, chat, _) in enumerate(residents):
        _, words = MESSAGES[(i * 7) % len(MESSAGES)]
        await emu.send_text(user, chat, words)
    ok = await watch.wait(lambda: len(watch.acked) >= n, timeout)
    stop()
    if not ok:
        raise TimeoutError(f"only {len(watch.acked)} of {n} reports acknowledged")
    tickets = {t.number: t for t in await world.desk.tickets.all()}
    watch.ticket_of_number.update({number: t.id for number, t in tickets.items()})
    watch.ticket_of_resident.update(
        {chat: tickets[number].id for chat, number in watch.acked.items()}
    )
    ids = set(watch.ticket_of_resident.values())
    if not await watch.wait(lambda: ids <= set(watch.cards), timeout):
        raise TimeoutError(f"only {len(ids & set(watch.cards))} of {n} cards sent")
    per_village: dict[str, list[User]] = {}
    for user, village in cadres:
        per_village.setdefault(village, []).append(user)
    turn: dict[str, int] = {}
    plan = []
    for user, chat, village in residents:
        ticket = watch.ticket_of_resident[chat.id]
        staff = per_village[village]
        cadre = staff[turn.setdefault(village, 0) % len(staff)]
        turn[village] += 1
        plan.append(Assignment(ticket, user, chat, cadre, world.admin_of(village)))
    return plan


async def _burst(
    watch: Watch,
    phase: str,
    actions: list[tuple[int, Callable[[], Awaitable[Any]]]],
    timeout: float,  # noqa: ASYNC109
) -> None:
    """Inject every action at once (ticket id, action), then wait for their notifications."""
    record = watch.phases[phase]
    cpu = time.process_time()
    for ticket, act in actions:
        record.injected[ticket] = time.time()
        await act()
    keys = [ticket for ticket, _ in actions]
    if await watch.wait(lambda: all(k in record.done for k in keys), timeout):
        record.cpu_seconds = time.process_time() - cpu


async def _loop(
    world: EmulatedDesk,
    watch: Watch,
    plan: list[Assignment],
    timeout: float,  # noqa: ASYNC109
    settle: bool,
) -> None:
    """Claim, 回复 and the answer, then the rating: each phase all at once."""
    emu = world.emu

    async def quiet() -> None:
        if settle:
            await emu.settle(timeout=timeout)

    def press(user: User, message: Any, data: str) -> Callable[[], Awaitable[Any]]:
        return lambda: emu.press(user, message, data)

    def say(user: User, chat: Chat, text: str) -> Callable[[], Awaitable[Any]]:
        return lambda: emu.send_text(user, chat, text)

    cards = [watch.cards[a.ticket] for a in plan]
    # 受理 is timed to the resident's notice, 回复 to the prompt in the admin chat.
    for phase, action in (("claim", "claim"), ("prompt", "answer")):
        await _burst(
            watch,
            phase,
            [
                (a.ticket, press(a.cadre, card, f"k:{action}:{a.ticket}"))
                for a, card in zip(plan, cards, strict=True)
            ],
            timeout,
        )
        await quiet()
    await _burst(
        watch,
        "answer",
        [(a.ticket, say(a.cadre, a.admin, ANSWERS[a.ticket % len(ANSWERS)])) for a in plan],
        timeout,
    )
    await quiet()
    answers = [watch.answers.get(a.ticket) for a in plan]
    await _burst(
        watch,
        "rate",
        [
            (a.ticket, press(a.resident, answer, f"r:{a.ticket}:1:{RATINGS[a.ticket % 2]}"))
            for a, answer in zip(plan, answers, strict=True)
            if answer is not None
        ],
        timeout,
    )
    # The resident's own message is edited by the same press: the same injection times.
    watch.phases["rate_edit"].injected.update(watch.phases["rate"].injected)
    watch.phases["rate_edit"].cpu_seconds = watch.phases["rate"].cpu_seconds
    keys = [a.ticket for a in plan]
    await watch.wait(lambda: all(k in watch.phases["rate_edit"].done for k in keys), timeout)
    await quiet()


async def desk_run(
    db_dir: Path,
    n: int = 50,
    cadres: int = 50,
    *,
    warmup: int = 2,
    limited: bool = False,
    timeout: float = 60.0,  # noqa: ASYNC109 - the longest wait for one phase
    desk_limits: Limits | None = None,
    emulator_limits: FloodLimits | None = None,
) -> DeskRun:
    """One round on a fresh database and emulator. `limited`: Telegram's limits on both
    sides (`Limits()`, `FloodLimits()`, or the ones given, e.g. scaled for a test)."""
    run = DeskRun(n, cadres, limited)
    started = time.perf_counter()
    url = f"sqlite+aiosqlite:///{db_dir / ('limited.db' if limited else 'desk.db')}"
    async with emulated_desk(
        url,
        CONFIG,
        poll_timeout=POLL_TIMEOUT,
        limits=(desk_limits or Limits()) if limited else None,
        emulator_limits=(emulator_limits or FloodLimits()) if limited else None,
    ) as world:
        admin_ids = {p.admin_chat_id for p in world.places if p.admin_chat_id is not None}
        watch = Watch(admin_ids)
        world.emu.on_call(watch.listen)
        plan = await _setup(world, watch, warmup + n, cadres, timeout)
        if len({a.cadre.id for a in plan[warmup:]}) < n:
            # A cadre's pending 回复 is one per chat: a second ticket would take over the first.
            raise ValueError(f"{cadres} cadres for {n} tickets: one ticket per cadre per burst")
        if not limited:
            await world.emu.settle(timeout=timeout)
        # The warm-up: the same loop one ticket at a time, then the measured burst afresh.
        for one in plan[:warmup]:
            await _loop(world, watch, [one], timeout, settle=not limited)
        watch.phases = run.phases
        await _loop(world, watch, plan[warmup:], timeout, settle=not limited)
        burst = {a.ticket for a in plan[warmup:]}
        stored = [t for t in await world.desk.tickets.all() if t.id in burst]
        run.tickets = len(stored)
        run.closed = sum(t.status == "closed" for t in stored)
        run.refusals, run.errors = watch.refusals, watch.errors
    run.seconds = time.perf_counter() - started
    return run


# --- the report ---------------------------------------------------------------------------------


@dataclass
class DeskResults:
    n: int
    cadres: int
    runs: list[DeskRun] = field(default_factory=list)
    limited: list[DeskRun] = field(default_factory=list)
    seconds: float = 0.0


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known and len(known) == len(values) else None


def _pct(run: DeskRun, phase: str, q: float) -> float | None:
    values = run.phases[phase].latencies
    return _percentile(values, q) if values else None


def _ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"


def _per_s(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}/s" if value >= 10 else f"{value:.2g}/s"


LABELS = {
    "claim": "claim (受理 press → resident's 已受理 sendMessage)",
    "prompt": "回复 press → prompt in the admin chat",
    "answer": "answer (cadre's message → resident's answer sendMessage)",
    "rate": "rate (resident's press → relay sendMessage in the admin chat)",
    "rate_edit": "rate (resident's press → editMessageText of their message)",
}


def _phase_line(runs: list[DeskRun], phase: str) -> str:
    return (
        f"  {LABELS[phase]}: p50 {_ms(_median([_pct(r, phase, 50) for r in runs]))}, "
        f"p99 {_ms(_median([_pct(r, phase, 99) for r in runs]))}, "
        f"{_per_s(_median([r.phases[phase].throughput for r in runs]))}, "
        f"CPU {_cpu(_median([r.phases[phase].cpu_ms for r in runs]))}"
    )


def _cpu(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms/action"


def report(results: DeskResults) -> list[str]:
    """The lines main() prints."""
    runs, n = results.runs, results.n
    lines = [
        f"N={n} tickets (private reports, both villages), {results.cadres} cadres acting at "
        f"once in each phase; {len(runs)} round(s) with limits off, {len(results.limited)} "
        "with limits on; file-backed SQLite, a fresh database per round; real clock; one "
        "process, emulator and bot share the event loop",
    ]
    for index, r in enumerate(runs, 1):
        lines.append(
            f"round {index}: "
            + " | ".join(
                f"{phase} p50 {_ms(_pct(r, phase, 50))} p99 {_ms(_pct(r, phase, 99))}"
                for phase in ("claim", "answer", "rate")
            )
        )
    if runs:
        lines.append(
            "limits off (desk UNLIMITED, emulator without flood limits), medians over rounds "
            "of each round's p50 / p99 / throughput (actions per second, first injection to "
            "the last notification; CPU: process time per action over the same span):"
        )
        lines += [_phase_line(runs, phase) for phase in PHASES]
    limited = results.limited
    if limited:
        n_limited = limited[0].n
        lines.append(
            f"limits on (desk Limits(), emulator FloodLimits(): 30/s in all, 1/s per private "
            f"chat, 20/min per group), N={n_limited}, {len(limited)} round(s):"
        )
        lines += [_phase_line(limited, phase) for phase in PHASES]
        lines.append(
            "  what the limited figures mean: the claim and answer notices and the thanks edit "
            "go to residents' private chats, paced only by 30 messages a second in all "
            f"({n_limited} at once: the last about {n_limited / 30:.1f} s later) and one a "
            "second per chat; the admin chats are "
            "groups, and everything there (cards, card refreshes, 回复 prompts and their edits, "
            "rating relays: about 7 messages per ticket) shares one window of 20 messages a "
            f"minute per village; with {n_limited // len(VILLAGES)} tickets per village the "
            "prompts (which go first) wait for each other and the relays wait behind the "
            "rest: those two figures are Telegram's pacing of the cadres' chat, not the "
            "desk's speed"
        )
    problems = [
        f"{'limited ' if r.limited else ''}round {i}: {p}"
        for group in (runs, limited)
        for i, r in enumerate(group, 1)
        for p in r.problems
    ]
    if problems:
        lines += [f"LOST OR LATE: {p}" for p in problems]
    else:
        lines.append("every claim, prompt, answer and rating notified; every ticket closed; no 429")
    lines.append(f"total {results.seconds:.1f} s")
    return lines


async def run_all(
    results: DeskResults,
    rounds: int,
    limited_rounds: int,
    limited_n: int,
    warmup: int,
    timeout: float,  # noqa: ASYNC109
    workdir: Path,
) -> None:
    started = time.perf_counter()
    for index in range(rounds):
        round_dir = workdir / f"desk{index + 1}"
        round_dir.mkdir()
        results.runs.append(
            await desk_run(round_dir, results.n, results.cadres, warmup=warmup, timeout=timeout)
        )
    for index in range(limited_rounds):
        round_dir = workdir / f"limited{index + 1}"
        round_dir.mkdir()
        # Each admin chat's backlog drains at 20 a minute: about 7 messages per ticket.
        backlog = 8 * (limited_n + warmup) / len(VILLAGES) / 20 * 60
        results.limited.append(
            await desk_run(
                round_dir,
                limited_n,
                results.cadres,
                warmup=warmup,
                limited=True,
                timeout=timeout + backlog,
            )
        )
    results.seconds = time.perf_counter() - started


def main() -> None:
    n = _env_int("BENCH_DESK_N", 50)
    results = DeskResults(n=n, cadres=_env_int("BENCH_DESK_CADRES", 50))
    with _quiet_logging(), tempfile.TemporaryDirectory(prefix="fengqiao-bench-") as tmp:
        asyncio.run(
            run_all(
                results,
                rounds=_env_int("BENCH_DESK_ROUNDS", 3),
                limited_rounds=_env_int("BENCH_DESK_LIMITED_ROUNDS", 1),
                limited_n=_env_int("BENCH_DESK_LIMITED_N", 10),
                warmup=_env_int("BENCH_DESK_WARMUP", 2),
                timeout=float(_env_int("BENCH_DESK_TIMEOUT", 60)),
                workdir=Path(tmp),
            )
        )
    for line in report(results):
        print(line, flush=True)


if __name__ == "__main__":
    main()
