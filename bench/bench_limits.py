"""A village group's burst under Telegram's flood limits, while residents write privately.

The emulator enforces Telegram's limits (`FloodLimits()`: 30 messages a second in all, one a
second per private chat, 20 a minute per group; past them 429 with retry_after) and the desk
keeps to them (`Limits()`, the default). BENCH_LIMIT_GROUP `/ts` reports arrive in one village
group from about half as many members (most write twice), spread over BENCH_LIMIT_SPREAD
seconds; during that burst BENCH_LIMIT_PRIVATE residents of the same village each write a new
report privately and press the preview's submit button as soon as it arrives.

What it measures, per round (BENCH_LIMIT_ROUNDS, medians printed):
- private first reply: from a resident's message injection to the bot's first message in their
  chat (the preview);
- group acknowledgements: from the first group report to the moment every group ticket number
  has been named in the group, a combined acknowledgement counting for every number it lists
  (20 group messages a minute cannot acknowledge 200 reports one by one);
- the admin chat: cards and digests that arrived within that window. All cards do go out
  individually at 20 a minute (ten minutes for 200); the bench stops the desk once every
  report is acknowledged instead of waiting for them;
- 429s: the emulator's refusals and the sender's count of them (both should be zero).

Environment: BENCH_LIMIT_ROUNDS (default 3), BENCH_LIMIT_GROUP (200), BENCH_LIMIT_MEMBERS (110),
BENCH_LIMIT_PRIVATE (20), BENCH_LIMIT_SPREAD (2.0 s), BENCH_LIMIT_TIMEOUT (90 s: the longest
wait for the acknowledgements; a round that reaches it reports what was acknowledged by then).
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.bench_intake import (
    CONFIG,
    GIVEN,
    MESSAGES,
    POLL_TIMEOUT,
    SURNAMES,
    _env_int,
    _percentile,
    _quiet_logging,
    _submit_data,
    settle_residents,
)
from bot.app import delivery_of
from bot.delivery.limits import Limits
from bot.delivery.sender import SenderStats
from bot.sandbox.emulated import emulated_desk
from bot.sandbox.emulator import Call, Chat, FloodLimits, User

VILLAGE = "qingxi"
TARGET_PRIVATE_P99 = 1.0  # seconds
TARGET_ACKS = 60.0  # seconds
# Ticket numbers as the desk writes them (2026-000123); acks, cards and digests all name them.
NUMBER_RE = re.compile(r"\b\d{4}-\d{6,}\b")
SENDS = ("sendMessage", "editMessageText")


@dataclass(frozen=True)
class Injection:
    """One message of the scenario: when (seconds after the start) and from whom."""

    offset: float
    user: User
    chat: Chat
    text: str
    private: bool


def group_burst(n: int, members: int, first_user_id: int = 800_000) -> list[tuple[int, str, str]]:
    """(user id, name, `/cmd text`) for n group reports from `members` members, in turn."""
    reports = []
    for i in range(n):
        command, words = MESSAGES[i % len(MESSAGES)]
        member = i % members
        name = f"{SURNAMES[member % len(SURNAMES)]}{GIVEN[member % len(GIVEN)]}{member}"
        reports.append((first_user_id + member, name, f"/{command} {words}"))
    return reports


def schedule(group: list[Injection], private: list[Injection], spread: float) -> list[Injection]:
    """Group reports evenly over `spread` seconds, the private messages evenly in between."""
    timed = [
        Injection(i * spread / max(len(group), 1), g.user, g.chat, g.text, False)
        for i, g in enumerate(group)
    ]
    timed += [
        Injection((j + 0.5) * spread / max(len(private), 1), p.user, p.chat, p.text, True)
        for j, p in enumerate(private)
    ]
    return sorted(timed, key=lambda x: (x.offset, x.private))


# --- one round ----------------------------------------------------------------------------------


@dataclass
class LimitRun:
    """What one round measured."""

    group_reports: int
    private_residents: int
    first_replies: list[float] = field(default_factory=list)  # seconds, private chats
    acks_seconds: float | None = None  # first group report → every group ticket acknowledged
    acked: dict[str, float] = field(default_factory=dict)  # ticket number → first named in group
    ack_messages: int = 0  # group messages naming tickets
    combined_messages: int = 0  # of which naming several
    repeats: int = 0  # ticket numbers named in the group again after their first time
    private_acked: dict[int, str] = field(default_factory=dict)  # resident → number in the edit
    group_tickets: set[str] = field(default_factory=set)  # from the database
    private_tickets: set[str] = field(default_factory=set)
    window: float | None = None  # seconds the round watched the admin chat
    cards: int = 0  # individual cards within the window
    digests: int = 0  # digest messages within the window
    announced: set[str] = field(default_factory=set)  # numbers the digests listed
    refusals: int = 0  # the emulator's 429s
    stats: SenderStats = field(default_factory=SenderStats)
    errors: int = 0  # other failed sends the emulator answered

    @property
    def problems(self) -> list[str]:
        found = []
        if len(self.group_tickets) != self.group_reports:
            found.append(
                f"{len(self.group_tickets)} of {self.group_reports} group reports ticketed"
            )
        missing = self.group_tickets - set(self.acked)
        if missing or self.acks_seconds is None:
            found.append(f"{len(missing)} group tickets not acknowledged in the group in time")
        if self.repeats:
            found.append(f"{self.repeats} acknowledgements of a ticket repeated in the group")
        if len(self.private_tickets) != self.private_residents:
            found.append(
                f"{len(self.private_tickets)} of {self.private_residents} private reports ticketed"
            )
        if set(self.private_acked.values()) != self.private_tickets:
            found.append("private tickets not all acknowledged in their chats")
        if len(self.first_replies) != self.private_residents:
            found.append(
                f"{self.private_residents - len(self.first_replies)} private residents got no reply"
            )
        if self.refusals or self.stats.flood_waits:
            found.append(
                f"429s: {self.refusals} refused by the emulator, "
                f"{self.stats.flood_waits} seen by the sender"
            )
        if self.errors:
            found.append(f"{self.errors} other sends failed")
        if self.stats.retries or self.stats.failed:
            # The emulator injects no faults here: a retry means a send the desk thought failed.
            found.append(
                f"the sender retried {self.stats.retries} and gave up {self.stats.failed} sends"
            )
        return found


async def limits_run(
    db_dir: Path,
    *,
    group_reports: int = 200,
    members: int = 110,
    private_residents: int = 20,
    spread: float = 2.0,
    timeout: float = 90.0,  # noqa: ASYNC109 - the longest wait for the acknowledgements
    desk_limits: Limits | None = None,
    emulator_limits: FloodLimits | None = None,
) -> LimitRun:
    """One round on a fresh database and emulator; the desk is stopped once all is acknowledged."""
    desk_limits = desk_limits or Limits()
    emulator_limits = emulator_limits or FloodLimits()
    run = LimitRun(group_reports, private_residents)
    url = f"sqlite+aiosqlite:///{db_dir / 'limits.db'}"
    async with emulated_desk(
        url,
        CONFIG,
        poll_timeout=POLL_TIMEOUT,
        limits=desk_limits,
        emulator_limits=emulator_limits,
    ) as world:
        emu = world.emu
        group, admin = world.group_of(VILLAGE), world.admin_of(VILLAGE)
        burst = [
            Injection(0.0, emu.user(uid, name), group, text, False)
            for uid, name, text in group_burst(group_reports, members)
        ]
        residents: dict[int, User] = {}
        private = []
        for j in range(private_residents):
            _, words = MESSAGES[(j * 7 + 3) % len(MESSAGES)]
            user = emu.user(900_000 + j, f"{SURNAMES[j % len(SURNAMES)]}{GIVEN[j % len(GIVEN)]}")
            residents[user.id] = user
            private.append(Injection(0.0, user, emu.private_chat(user), words, True))

        # Residents choose their village first (/place and its button, through the emulator),
        # then the private chats' windows empty before the burst.
        await settle_residents(emu, [(p.user, p.chat, VILLAGE) for p in private])
        await emu.settle(timeout=30.0)
        await asyncio.sleep(desk_limits.private_window * (1 + desk_limits.margin) + 0.2)
        refused_before = len(emu.flood_refusals)

        injected: dict[int, float] = {}
        first_reply: dict[int, float] = {}
        acked_private_at: dict[int, float] = {}
        cards: list[float] = []
        digests: list[tuple[float, list[str]]] = []
        changed = asyncio.Event()

        async def listen(call: Call) -> None:
            if call.method not in SENDS:
                return
            chat_id = call.params.get("chat_id")
            if not call.ok:
                if call.response.get("error_code") != 429:
                    run.errors += 1
                return
            numbers = list(dict.fromkeys(NUMBER_RE.findall(str(call.params.get("text", "")))))
            if chat_id == group.id and numbers:
                run.ack_messages += 1
                run.combined_messages += len(numbers) > 1
                for number in numbers:
                    run.repeats += number in run.acked
                    run.acked.setdefault(number, call.at)
                changed.set()
            elif chat_id == admin.id and call.method == "sendMessage" and numbers:
                if len(numbers) > 1:
                    digests.append((call.at, numbers))
                else:
                    cards.append(call.at)
            elif chat_id in injected:
                first_reply.setdefault(chat_id, call.at)
                data = _submit_data(call.params.get("reply_markup"))
                if call.method == "sendMessage" and data is not None:
                    await emu.press(residents[chat_id], call.response, data)
                elif call.method == "editMessageText" and numbers:
                    run.private_acked[chat_id] = numbers[0]
                    acked_private_at[chat_id] = call.at
                changed.set()

        emu.on_call(listen)
        plan = schedule(burst, private, spread)
        started = time.time()
        clock_start = time.monotonic()
        for item in plan:
            delay = clock_start + item.offset - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if item.private:
                injected[item.chat.id] = time.time()
            await emu.send_text(item.user, item.chat, item.text)

        def done() -> bool:
            return (
                len(run.acked) >= group_reports
                and len(run.private_acked) >= private_residents
                and len(first_reply) >= private_residents
            )

        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            changed.clear()
            try:
                await asyncio.wait_for(changed.wait(), max(deadline - time.monotonic(), 0.0))
            except TimeoutError:
                break
        watched_until = time.time()
        if len(run.acked) >= group_reports:
            run.acks_seconds = max(run.acked.values()) - started
        run.window = watched_until - started
        run.first_replies = [first_reply[c] - injected[c] for c in first_reply]
        run.cards = sum(at <= watched_until for at in cards)
        window_digests = [numbers for at, numbers in digests if at <= watched_until]
        run.digests = len(window_digests)
        run.announced = {n for numbers in window_digests for n in numbers}
        run.refusals = len(emu.flood_refusals) - refused_before
        stats = delivery_of(world.app).sender.stats
        run.stats = SenderStats(**vars(stats))
        for ticket in await world.desk.tickets.all():
            (run.group_tickets if ticket.source == "group" else run.private_tickets).add(
                ticket.number
            )
    return run


# --- the report ---------------------------------------------------------------------------------


@dataclass
class LimitResults:
    group_reports: int
    members: int
    private_residents: int
    spread: float
    runs: list[LimitRun] = field(default_factory=list)
    seconds: float = 0.0


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known and len(known) == len(values) else None


def _s(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} s"


def _p(values: list[float], q: float) -> float | None:
    return _percentile(values, q) if values else None


def report(results: LimitResults) -> list[str]:
    """The lines main() prints."""
    runs = results.runs
    lines = [
        f"limits on: emulator FloodLimits() (429 with retry_after), desk Limits() (Telegram's: "
        f"30/s in all, 1/s per private chat, 20/min per group); {len(runs)} round(s)",
        f"each round: {results.group_reports} /ts reports in one village group from "
        f"{results.members} members over {results.spread:.1f} s, and meanwhile "
        f"{results.private_residents} residents write privately and press submit; "
        "file-backed SQLite, real clock",
    ]
    for index, r in enumerate(runs, 1):
        lines.append(
            f"round {index}: private first reply p50 {_s(_p(r.first_replies, 50), 2)}, "
            f"p99 {_s(_p(r.first_replies, 99), 2)} | all group reports acknowledged after "
            f"{_s(r.acks_seconds)} ({len(r.acked)}/{r.group_reports} named in {_s(r.window)}) "
            f"in {r.ack_messages} group messages ({r.combined_messages} combined, "
            f"{r.repeats} repeated numbers) | admin chat within {_s(r.window)}: {r.cards} cards, "
            f"{r.digests} digests listing {len(r.announced)} tickets | 429s: emulator "
            f"{r.refusals}, sender {r.stats.flood_waits}"
        )
    pooled = [x for r in runs for x in r.first_replies]
    p99 = _median([_p(r.first_replies, 99) for r in runs])
    acks = _median([r.acks_seconds for r in runs])
    refusals = sum(r.refusals for r in runs)
    waits = sum(r.stats.flood_waits for r in runs)
    lines += [
        f"median private first-reply latency (message → the bot's first reply in the chat): "
        f"p50 {_s(_median([_p(r.first_replies, 50) for r in runs]), 2)}, p99 {_s(p99, 2)} "
        f"(target p99 <= {TARGET_PRIVATE_P99:.0f} s: {_verdict(p99, TARGET_PRIVATE_P99)}); "
        f"all rounds pooled: p50 {_s(_p(pooled, 50), 2)}, p99 {_s(_p(pooled, 99), 2)} "
        f"(n={len(pooled)})",
        f"median time from the first group report to every group report acknowledged in the "
        f"group (a combined message counts for each ticket it names): {_s(acks)} "
        f"(target <= {TARGET_ACKS:.0f} s: {_verdict(acks, TARGET_ACKS)}); median "
        f"{_median([float(r.ack_messages) for r in runs])} group messages, of which "
        f"{_median([float(r.combined_messages) for r in runs])} combined",
        f"admin chat: median {_median([float(r.cards) for r in runs])} individual cards and "
        f"{_median([float(r.digests) for r in runs])} digests (listing "
        f"{_median([float(len(r.announced)) for r in runs])} tickets) arrived within the "
        f"window (median {_s(_median([r.window for r in runs]))}) of "
        f"{results.group_reports + results.private_residents} tickets; the rest of the cards "
        "go out at 20 a minute, so the bench stopped the desk once every report was "
        "acknowledged instead of waiting for them",
        f"429s: {refusals} refused by the emulator, {waits} received by the sender, over all "
        f"rounds (target 0: {'PASS' if refusals == waits == 0 else 'FAIL'}); sender per round "
        f"(median): {_median([float(r.stats.sent) for r in runs])} sends, "
        f"{_median([float(r.stats.combined) for r in runs])} rows sent inside combined "
        f"messages, {_median([float(r.stats.retries) for r in runs])} retries",
    ]
    problems = [f"round {i}: {p}" for i, r in enumerate(runs, 1) for p in r.problems]
    if problems:
        lines += [f"LOST OR LATE: {p}" for p in problems]
    else:
        lines.append(
            "every report ticketed and acknowledged (group in the group, private in the chat), "
            "no 429"
        )
    lines.append(f"total {results.seconds:.1f} s")
    return lines


def _verdict(value: float | None, target: float) -> str:
    return "n/a" if value is None else ("PASS" if value <= target else "ABOVE")


async def run_all(results: LimitResults, rounds: int, wait: float, workdir: Path) -> None:
    started = time.perf_counter()
    for index in range(rounds):
        round_dir = workdir / f"limits{index + 1}"
        round_dir.mkdir()
        results.runs.append(
            await limits_run(
                round_dir,
                group_reports=results.group_reports,
                members=results.members,
                private_residents=results.private_residents,
                spread=results.spread,
                timeout=wait,
            )
        )
    results.seconds = time.perf_counter() - started


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def main() -> None:
    results = LimitResults(
        group_reports=_env_int("BENCH_LIMIT_GROUP", 200),
        members=_env_int("BENCH_LIMIT_MEMBERS", 110),
        private_residents=_env_int("BENCH_LIMIT_PRIVATE", 20),
        spread=_env_float("BENCH_LIMIT_SPREAD", 2.0),
    )
    rounds = _env_int("BENCH_LIMIT_ROUNDS", 3)
    timeout = _env_float("BENCH_LIMIT_TIMEOUT", 90.0)
    with _quiet_logging(), tempfile.TemporaryDirectory(prefix="fengqiao-bench-") as tmp:
        asyncio.run(run_all(results, rounds, timeout, Path(tmp)))
    for line in report(results):
        print(line, flush=True)


if __name__ == "__main__":
    main()
