"""Intake throughput of the real desk against the shipped Bot API emulator, beside an echo bot.

A resident's message travels over HTTP exactly as in production: the emulator hands it out on
getUpdates, the desk's fetcher stores it in the inbox before confirming it, the dispatcher runs
the handlers, which store the ticket (file-backed SQLite in a temporary folder, the default
store) with the acknowledgement and the cadres' card as outbox rows, and the sender delivers
them. Neither side has flood limits here (the desk's `UNLIMITED`, no emulator limits; see
bench_limits.py for Telegram's), so a burst ends when the sender has sent the last card. The same
messages go to a minimal python-telegram-bot echo bot on a fresh emulator in the same process,
so the ratio desk / echo says what the desk costs over python-telegram-bot itself on this
machine. The desk talks to the Bot API through aiohttp (bot/transport.py), PTB's echo bot through
its default httpx; a second echo run on aiohttp shows the transport's share of the difference.
Runs alternate (echo, echo on aiohttp, desk group, desk private) for BENCH_ROUNDS rounds.

Each run: a warm-up, then BENCH_LATENCY_N messages one at a time (latency without queueing),
then a burst of BENCH_N messages injected at once (throughput: first injection to the Nth
card sent, or the Nth echo). Private residents first choose their village through the
emulator (/place, then the village button: the handler calls `intake.set_place`).

Environment: BENCH_N (default 300), BENCH_ROUNDS (5), BENCH_LATENCY_N (40).
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.echo_bot import running_echo_bot
from bot.sandbox.emulated import emulated_desk
from bot.sandbox.emulator import BotApiEmulator, Call, Chat, User

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"

TARGET_RATIO = 0.5
WARMUP = 8
# Long-poll timeout of both bots: short, so stopping a run does not wait for a pending poll.
POLL_TIMEOUT = 1
VILLAGES = ("qingxi", "taoyuan")
SUBMIT_PREFIX = "d:ok:"  # callback data of a draft preview's submit button
SET_PLACE_PREFIX = "p:"  # + village id: a button of the village question

# What residents write: every category, the four kinds, 20-80 characters, none urgent and no
# common question (those get an emergency notice or a FAQ answer instead of a ticket).
MESSAGES: list[tuple[str, str]] = [
    ("ts", "村口的垃圾池已经三天没人清运了,天一热苍蝇蚊子特别多,路过都得捂着鼻子,请尽快安排人拉走"),
    (
        "ts",
        "隔壁老李家把柴火堆到了我家门口的路上,跟他说了几次都不挪,进出很不方便,麻烦村里来调解一下",
    ),
    ("ts", "小区三号楼的电梯又坏了,物业说配件要等一个礼拜,楼上的老人只能天天爬楼梯"),
    ("ts", "幸福路中段有好几个大坑,下雨天积满了水,晚上骑电动车经过很容易摔倒"),
    ("ts", "村东头桥边那盏路灯坏了快一个月了,晚上黑漆漆的,孩子放学回家家长都不放心"),
    (
        "ts",
        "我在镇上工地干了四个月活,老板到现在还拖欠两万多块工资不给,"
        "电话也不接,一起干活的十几个人都没拿到钱,快过年了家里等着用钱",
    ),
    ("ts", "村委会的财务公开栏已经半年没更新了,大家都想知道修路的钱是怎么花的"),
    ("ts", "菜市场有个摊位在卖过期的牛奶和饼干,日期都被涂改过,希望有人来查一查"),
    (
        "ts",
        "二组的养猪场污水直接排到河沟里,整条河都发黑发臭,下游的稻田也受影响,"
        "我们找养殖户说过好几次,他都说马上处理,可一直没见动静",
    ),
    ("ts", "新村小区的物业费去年又涨了,可是楼道卫生没人打扫,绿化也没人管"),
    ("ts", "我家宅基地的确权证办了一年多还没下来,去村里问了好几次都说在等镇上"),
    ("ts", "这两个月网络信号特别差,家里手机经常没信号,孩子上网课老是掉线"),
    ("ts", "村卫生室经常关门,上个礼拜老人去量血压等了一上午都没见到医生"),
    ("ts", "晚上十一点了广场舞的音响还开得很大声,住在广场边上的人根本睡不着"),
    ("ts", "老街有人把违章建筑盖到了排水沟上面,一下大雨水就排不出去,淹了好几户"),
    ("ts", "办事大厅的工作人员态度很差,办个证明跑了三趟,每次都说缺材料"),
    ("ts", "小学门口每天早上车辆乱停,把路都堵死了,送孩子上学要绕很远"),
    ("ts", "最近村里好几户人家的电动车被偷了,晚上也没有人巡逻,大家心里不踏实"),
    ("jy", "建议在村小学门口装个减速带,再画一条斑马线,早上送孩子的车太多了"),
    ("jy", "建议村里在文化广场多装几张长椅和健身器材,老人们傍晚都喜欢在那里坐坐"),
    ("jy", "希望村里能开通一趟到镇上的公交车,现在老人去镇上看病只能坐三轮车"),
    ("jy", "建议垃圾分类的桶多放几个在祠堂后面,现在那一片的垃圾都是乱丢的"),
    ("jy", "建议村里组织一次防诈骗的讲座,最近好几个老人接到冒充公安的电话"),
    ("jy", "希望河边的护栏能加高一点,夏天很多孩子在那里玩水,家长都很担心"),
    ("qz", "我母亲今年八十岁了,一个人住在老屋,腿脚不方便,想申请上门的养老服务"),
    ("qz", "家里孩子爸爸去年工伤瘫痪在床,厂里一直不肯赔,想请村里帮忙找找人"),
    ("qz", "我家房子后墙裂了一条大缝,下雨会渗水,自己没钱修,想问问能不能申请补助"),
    ("qz", "孩子下学期要转学回村里读书,学校说要很多证明材料,不知道该去哪里开"),
    ("zx", "村里的老年人免费体检今年还搞不搞,去年是在村委会做的,今年到现在都没有通知"),
    ("zx", "村里说要修新的自来水管,施工的时候会停水几天,什么时候开始动工"),
]
SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["秀英", "建国", "桂兰", "志强", "玉梅", "德明", "春花", "海涛", "丽娟", "国庆", "小红"]


@dataclass(frozen=True)
class Report:
    """One resident's message: who, in which village, what they typed."""

    user_id: int
    name: str
    village: str
    text: str  # as typed: "/ts ..." in groups, the plain words in private


def workload(n: int, *, private: bool, first_user_id: int = 700_000) -> list[Report]:
    """N messages from many residents across both villages, cycling through MESSAGES.

    In groups a third of the residents write twice; in private each message has its own
    resident (a second message from the same person would extend their draft).
    """
    residents = n if private else max(1, (2 * n) // 3)
    reports = []
    for i in range(n):
        command, words = MESSAGES[i % len(MESSAGES)]
        resident = i % residents
        uid = first_user_id + resident
        name = f"{SURNAMES[resident % len(SURNAMES)]}{GIVEN[resident % len(GIVEN)]}"
        text = words if private else f"/{command} {words}"
        reports.append(Report(uid, name, VILLAGES[resident % len(VILLAGES)], text))
    return reports


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Run:
    """What one run measured."""

    label: str
    n: int
    seconds: float | None = None  # first injection to the Nth completion; None if some missing
    # Process CPU time over the same span (bot, emulator and the database thread together):
    # unlike wall time, it does not count what a shared machine's neighbours take.
    cpu_seconds: float | None = None
    burst_latencies: list[float] = field(default_factory=list)  # seconds, queueing included
    latencies: list[float] = field(default_factory=list)  # seconds, one message at a time
    stored: int | None = None  # tickets in the database after the run (desk only)
    expected_stored: int | None = None
    completed: int = 0
    api_calls: int = 0  # Bot API requests other than getUpdates during the burst

    @property
    def throughput(self) -> float | None:
        return None if self.seconds is None or self.seconds <= 0 else self.n / self.seconds

    @property
    def problems(self) -> list[str]:
        found = []
        if self.completed < self.n:
            found.append(f"{self.label}: only {self.completed} of {self.n} completed")
        if self.stored is not None and self.stored != self.expected_stored:
            found.append(
                f"{self.label}: {self.stored} tickets stored, expected {self.expected_stored}"
            )
        return found


class Counter:
    """Call times of one kind (cards, echoes), with a wait for the k-th."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._target = 0
        self._reached = asyncio.Event()

    def add(self, at: float) -> None:
        self.times.append(at)
        if len(self.times) >= self._target:
            self._reached.set()

    async def wait_count(self, count: int, timeout: float) -> bool:  # noqa: ASYNC109
        """True once `count` calls were seen; False after `timeout` seconds."""
        self._target = count
        if len(self.times) >= count:
            return True
        self._reached.clear()
        try:
            await asyncio.wait_for(self._reached.wait(), timeout)
        except TimeoutError:
            return False
        return True


def _replied_to(call: Call) -> int | None:
    """The message id a sendMessage replies to (reply_parameters, legacy field, or response)."""
    params = call.params
    reply = params.get("reply_parameters")
    if isinstance(reply, dict) and "message_id" in reply:
        return int(reply["message_id"])
    if "reply_to_message_id" in params:
        return int(params["reply_to_message_id"])
    response = call.response if call.ok and isinstance(call.response, dict) else {}
    replied = response.get("reply_to_message")
    return int(replied["message_id"]) if isinstance(replied, dict) else None


def _burst_timeout(n: int) -> float:
    return 30.0 + n * 0.2


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --- the echo bot -------------------------------------------------------------------------------


async def echo_run(n: int, latency_n: int, desk_transport: bool = False) -> Run:
    """The baseline: the same messages to the echo bot on a fresh emulator."""
    run = Run("echo (aiohttp)" if desk_transport else "echo", n)
    async with BotApiEmulator() as emu:
        groups = {
            village: emu.group_chat(-1001000000002 - i, f"{village}村民群")
            for i, village in enumerate(VILLAGES)
        }
        group_ids = {chat.id for chat in groups.values()}
        injected: dict[tuple[int, int], float] = {}
        answered: dict[tuple[int, int], float] = {}
        replies = Counter()

        def listen(call: Call) -> None:
            chat_id = call.params.get("chat_id")
            if call.method != "sendMessage" or not call.ok or chat_id not in group_ids:
                return
            replied = _replied_to(call)
            if replied is not None:
                answered[(chat_id, replied)] = call.at
            replies.add(call.at)

        async def send(report: Report) -> None:
            chat = groups[report.village]
            user = emu.user(report.user_id, report.name)
            at = time.time()
            message = await emu.send_text(user, chat, report.text)
            injected[(chat.id, message["message_id"])] = at

        emu.on_call(listen)
        async with running_echo_bot(emu, POLL_TIMEOUT, desk_transport):
            run.latencies = await _one_at_a_time(
                send, replies, injected, answered, workload(WARMUP + latency_n, private=False)
            )
            run.latencies = run.latencies[WARMUP:]
            await _burst(run, emu, send, replies, injected, answered, workload(n, private=False))
    return run


async def _one_at_a_time(
    send: Any,
    done: Counter,
    injected: dict[Any, float],
    answered: dict[Any, float],
    reports: list[Report],
) -> list[float]:
    """Send each report after the previous one completed; the latency of each."""
    latencies = []
    for report in reports:
        before = set(injected)
        await send(report)
        (key,) = set(injected) - before
        if not await done.wait_count(len(done.times) + 1, 10.0):
            raise TimeoutError(f"no answer to {report.text!r}")
        # The sender delivers each chat on its own: the answer may come after the card.
        deadline = time.monotonic() + 10.0
        # Polled: the answers are plain dicts the listeners fill; 1 ms does not touch the figures.
        while key not in answered and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        if key in answered:
            latencies.append(answered[key] - injected[key])
    return latencies


async def _burst(
    run: Run,
    emu: BotApiEmulator,
    send: Any,
    done: Counter,
    injected: dict[Any, float],
    answered: dict[Any, float],
    reports: list[Report],
) -> None:
    """Inject every report at once, then wait for as many completions."""
    start_count = len(done.times)
    keys_before = set(injected)
    mark = emu.mark()
    started, cpu_started = time.time(), time.process_time()
    for report in reports:
        await send(report)
    keys = set(injected) - keys_before
    complete = await done.wait_count(start_count + len(reports), _burst_timeout(len(reports)))
    cpu = time.process_time() - cpu_started
    run.completed = len(done.times) - start_count
    run.api_calls = sum(c.method != "getUpdates" for c in emu.calls_since(mark))
    if complete:
        run.seconds = done.times[start_count + len(reports) - 1] - started
        run.cpu_seconds = cpu
    # Answers may still be on their way after the last card: wait for every send.
    await emu.settle(timeout=_burst_timeout(len(reports)))
    run.burst_latencies = [answered[k] - injected[k] for k in keys if k in answered]


# --- the desk: village group (one message) --------------------------------------------------------


async def desk_group_run(n: int, latency_n: int, db_dir: Path) -> Run:
    """`/ts <text>` in the village groups: ticket stored, reply in the group, card to cadres."""
    run = Run("desk group", n)
    url = f"sqlite+aiosqlite:///{db_dir / 'group.db'}"
    async with emulated_desk(url, CONFIG, poll_timeout=POLL_TIMEOUT) as world:
        emu = world.emu
        groups = {village: world.group_of(village) for village in VILLAGES}
        group_ids = {chat.id for chat in groups.values()}
        admin_ids = {p.admin_chat_id for p in world.places if p.admin_chat_id is not None}
        injected: dict[tuple[int, int], float] = {}
        acked: dict[tuple[int, int], float] = {}
        cards = Counter()

        def listen(call: Call) -> None:
            chat_id = call.params.get("chat_id")
            if call.method != "sendMessage" or not call.ok:
                return
            if chat_id in admin_ids:
                cards.add(call.at)
            elif chat_id in group_ids and (replied := _replied_to(call)) is not None:
                acked[(chat_id, replied)] = call.at

        async def send(report: Report) -> None:
            chat = groups[report.village]
            user = emu.user(report.user_id, report.name)
            at = time.time()
            message = await emu.send_text(user, chat, report.text)
            injected[(chat.id, message["message_id"])] = at

        emu.on_call(listen)
        reports = workload(WARMUP + latency_n, private=False, first_user_id=600_000)
        run.latencies = (await _one_at_a_time(send, cards, injected, acked, reports))[WARMUP:]
        await _burst(run, emu, send, cards, injected, acked, workload(n, private=False))
        run.stored = len(await world.desk.tickets.all())
        run.expected_stored = WARMUP + latency_n + n
    return run


# --- the desk: private chat (text, preview, submit) ---------------------------------------------


async def settle_residents(
    emu: BotApiEmulator,
    residents: list[tuple[User, Chat, str]],
    timeout: float = 60.0,  # noqa: ASYNC109 - a budget for all of them
) -> None:
    """Each resident chooses their village the way people do: /place, then the village button.

    The desk's handler calls `intake.set_place` with the press's Origin and edits the question
    into the confirmation; this returns once every confirmation was sent.
    """

    async def one(user: User, chat: Chat, village: str) -> None:
        mark = emu.mark()
        await emu.send_text(user, chat, "/place")
        data = SET_PLACE_PREFIX + village
        asked = await emu.wait_for(
            "sendMessage",
            lambda c: c.ok and c.params.get("chat_id") == chat.id and _has_button(c, data),
            since=mark,
            timeout=timeout,
        )
        pressed = emu.mark()
        await emu.press(user, asked.response, data)
        await emu.wait_for(
            "editMessageText",
            lambda c: c.ok and c.params.get("chat_id") == chat.id,
            since=pressed,
            timeout=timeout,
        )

    await asyncio.gather(*(one(user, chat, village) for user, chat, village in residents))


async def desk_private_run(n: int, latency_n: int, db_dir: Path) -> Run:
    """Text in private → draft preview → the resident presses submit → ack edit + card.

    Each resident first chooses their village through the emulator (/place and its button).
    The bench presses submit as soon as the preview arrives; the latency is from the text to
    the acknowledgement (both bot turns, no human think time).
    """
    run = Run("desk private", n)
    url = f"sqlite+aiosqlite:///{db_dir / 'private.db'}"
    async with emulated_desk(url, CONFIG, poll_timeout=POLL_TIMEOUT) as world:
        emu = world.emu
        admin_ids = {p.admin_chat_id for p in world.places if p.admin_chat_id is not None}
        users: dict[int, User] = {}
        chats: dict[int, Chat] = {}
        injected: dict[int, float] = {}
        acked: dict[int, float] = {}
        cards = Counter()

        async def listen(call: Call) -> None:
            chat_id = call.params.get("chat_id")
            if not call.ok:
                return
            if call.method == "sendMessage" and chat_id in admin_ids:
                cards.add(call.at)
            elif call.method == "sendMessage" and chat_id in injected:
                data = _submit_data(call.params.get("reply_markup"))
                if data is not None:
                    await emu.press(users[chat_id], call.response, data)
            elif call.method == "editMessageText" and chat_id in injected:
                acked.setdefault(chat_id, call.at)

        async def send(report: Report) -> None:
            at = time.time()
            injected[report.user_id] = at
            await emu.send_text(users[report.user_id], chats[report.user_id], report.text)

        sequential = workload(WARMUP + latency_n, private=True, first_user_id=500_000)
        burst = workload(n, private=True)
        residents = []
        for report in sequential + burst:
            user = emu.user(report.user_id, report.name)
            users[user.id], chats[user.id] = user, emu.private_chat(user)
            residents.append((user, chats[user.id], report.village))
        await settle_residents(emu, residents)
        await emu.settle(timeout=30.0)
        emu.on_call(listen)
        run.latencies = (await _one_at_a_time(send, cards, injected, acked, sequential))[WARMUP:]
        await _burst(run, emu, send, cards, injected, acked, burst)
        run.stored = len(await world.desk.tickets.all())
        run.expected_stored = WARMUP + latency_n + n
    return run


def _has_button(call: Call, data: str) -> bool:
    markup = call.params.get("reply_markup")
    if not isinstance(markup, dict):
        return False
    return any(
        button.get("callback_data") == data
        for row in markup.get("inline_keyboard", [])
        for button in row
    )


def _submit_data(markup: Any) -> str | None:
    if not isinstance(markup, dict):
        return None
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if isinstance(data, str) and data.startswith(SUBMIT_PREFIX):
                return data
    return None


# --- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    """One round's runs, made one after another on the same machine."""

    echo: Run  # python-telegram-bot's minimal echo bot, as shipped (httpx)
    echo_aiohttp: Run  # the same echo bot on the desk's transport
    group: Run
    private: Run

    @property
    def runs(self) -> tuple[Run, Run, Run, Run]:
        return (self.echo, self.echo_aiohttp, self.group, self.private)


@dataclass
class Results:
    n: int
    latency_n: int
    rounds: list[Round] = field(default_factory=list)
    seconds: float = 0.0


async def run_all(n: int, rounds: int, latency_n: int, workdir: Path) -> Results:
    """Alternate the echo bots, desk group and desk private for `rounds` rounds (fresh state)."""
    results = Results(n, latency_n)
    started = time.perf_counter()
    for index in range(rounds):
        round_dir = workdir / f"round{index + 1}"
        round_dir.mkdir()
        echo = await echo_run(n, latency_n)
        echo_aiohttp = await echo_run(n, latency_n, desk_transport=True)
        group = await desk_group_run(n, latency_n, round_dir)
        private = await desk_private_run(n, latency_n, round_dir)
        results.rounds.append(Round(echo, echo_aiohttp, group, private))
    results.seconds = time.perf_counter() - started
    return results


def _rate(value: float | None) -> str:
    return "  lost" if value is None else f"{value:6.0f}"


def _ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (
        f"p50 {_percentile(values, 50) * 1000:.1f} ms, p99 {_percentile(values, 99) * 1000:.1f} ms"
        f" (n={len(values)})"
    )


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known and len(known) == len(values) else None


def _cpu_ms(run: Run) -> float | None:
    return None if run.cpu_seconds is None else run.cpu_seconds / run.n * 1000


def _cpu_ratio(desk: Run, echo: Run) -> float | None:
    desk_ms, echo_ms = _cpu_ms(desk), _cpu_ms(echo)
    return None if desk_ms is None or echo_ms is None or not desk_ms else echo_ms / desk_ms


def _ratio(desk: Run, echo: Run) -> float | None:
    if desk.throughput is None or not echo.throughput:
        return None
    return desk.throughput / echo.throughput


def _fmt(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}"


def report(results: Results) -> list[str]:
    """The lines main() prints."""
    n, rounds = results.n, results.rounds
    lines = [
        f"N={n} messages per run, burst-injected; {len(rounds)} round(s) of echo, echo on "
        f"aiohttp, desk group, desk private; latency runs: {results.latency_n} messages one at a "
        "time",
        "store: file-backed SQLite (WAL) in a temp dir, a fresh database per run; "
        "inbox and outbox on, no flood limits on either side (desk UNLIMITED); real clock; "
        "one process, emulator and bot share the event loop",
    ]
    for index, r in enumerate(rounds, 1):
        lines.append(
            f"round {index}: echo {_rate(r.echo.throughput)} msg/s | echo on aiohttp "
            f"{_rate(r.echo_aiohttp.throughput)} msg/s | desk group {_rate(r.group.throughput)} "
            f"msg/s  ratio {_fmt(_ratio(r.group, r.echo))} | desk private "
            f"{_rate(r.private.throughput)} msg/s"
        )
    ratio = _median([_ratio(r.group, r.echo) for r in rounds])
    same_transport = _median([_ratio(r.group, r.echo_aiohttp) for r in rounds])
    verdict = "n/a" if ratio is None else ("PASS" if ratio >= TARGET_RATIO else "BELOW")
    lines += [
        f"median throughput: echo {_rate(_median([r.echo.throughput for r in rounds]))} msg/s, "
        f"desk group {_rate(_median([r.group.throughput for r in rounds]))} msg/s "
        "(ticket stored, reply in group, card to cadres)",
        f"median ratio desk/echo: {_fmt(ratio)}  (target >= {TARGET_RATIO}: {verdict})",
        f"median ratio desk/echo with both on the desk's aiohttp transport: "
        f"{_fmt(same_transport)}  (the desk's own work over PTB, transport aside; "
        f"echo on aiohttp {_rate(_median([r.echo_aiohttp.throughput for r in rounds]))} msg/s)",
        "CPU per message in the burst (process time, steadier than wall time on a shared "
        f"machine): echo {_fmt(_median([_cpu_ms(r.echo) for r in rounds]))} ms, echo on aiohttp "
        f"{_fmt(_median([_cpu_ms(r.echo_aiohttp) for r in rounds]))} ms, desk group "
        f"{_fmt(_median([_cpu_ms(r.group) for r in rounds]))} ms; as ratios: desk/echo "
        f"{_fmt(_median([_cpu_ratio(r.group, r.echo) for r in rounds]))}, on the same "
        f"transport {_fmt(_median([_cpu_ratio(r.group, r.echo_aiohttp) for r in rounds]))}",
        "desk group ack latency, one at a time: "
        + _ms([x for r in rounds for x in r.group.latencies]),
        f"desk group ack latency, within a burst of {n}: "
        + _ms([x for r in rounds for x in r.group.burst_latencies]),
        "echo reply latency, one at a time: " + _ms([x for r in rounds for x in r.echo.latencies]),
        f"desk private (text → preview → submit → ack + card): "
        f"{_rate(_median([r.private.throughput for r in rounds]))} msg/s; "
        "text-to-ack latency one at a time "
        + _ms([x for r in rounds for x in r.private.latencies]),
        "Bot API requests per message besides getUpdates: "
        + ", ".join(f"{run.label} {run.api_calls / run.n:.1f}" for run in rounds[0].runs if run.n),
    ]
    problems = [p for r in rounds for run in r.runs for p in run.problems]
    if problems:
        lines += [f"LOST MESSAGES: {p}" for p in problems]
    else:
        first = rounds[0]
        lines.append(
            "every message answered; tickets stored per run as expected "
            f"(group {first.group.expected_stored}, private {first.private.expected_stored})"
        )
    lines.append(f"total {results.seconds:.1f} s")
    return lines


@contextmanager
def _quiet_logging() -> Iterator[None]:
    """Only errors while the bots run: a lost message's traceback still shows."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def main() -> None:
    n = _env_int("BENCH_N", 300)
    rounds = _env_int("BENCH_ROUNDS", 5)
    latency_n = _env_int("BENCH_LATENCY_N", 40)
    with _quiet_logging(), tempfile.TemporaryDirectory(prefix="fengqiao-bench-") as tmp:
        results = asyncio.run(run_all(n, rounds, latency_n, Path(tmp)))
    for line in report(results):
        print(line, flush=True)


if __name__ == "__main__":
    main()
