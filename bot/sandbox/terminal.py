"""`fengqiao sandbox`: the whole desk against the Bot API emulator, from a terminal prompt."""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import logging
import os
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.places import PlaceInfo
from bot.sandbox.emulated import BOT_USERNAME, EmulatedDesk, emulated_desk
from bot.sandbox.emulator import Call, User
from bot.settings import load_settings
from bot.texts import TextsError
from storage.models import Staff

log = logging.getLogger(__name__)

SANDBOX_DATABASE = "sqlite+aiosqlite:///data/sandbox.db"
SHOWN = {"sendMessage", "editMessageText", "editMessageCaption", "editMessageReplyMarkup"}
SHOWN |= {"sendPhoto", "sendLocation", "answerCallbackQuery"}
DEEP_LINK = f"https://t.me/{BOT_USERNAME}?start="
# The staff the sandbox acts as in each admin chat of the shipped example county. They go
# straight into the staff table: a newcomer should try the desk before learning invitations.
DEMO_STAFF = {
    "qingxi": (9001, "王书记"),
    "taoyuan": (9002, "陈主任"),
    "qingshan-town": (9010, "赵镇长"),
    "anning-county": (9020, "孙主任"),
}
FIRST_OTHER_STAFF_ID = 9100  # places of another config/places.toml get a made-up cadre each
ROLE_OF_LEVEL = {"grid": "grid", "village": "cadre", "township": "township", "county": "county"}
LOCATION = (29.7156, 120.2436)  # Fengqiao town, Zhuji: any point will do in the sandbox

# The desk leaves cadres' own talk alone, so a newcomer's answer typed before 回复 vanishes.
CHATTER_HINT = (
    "(机器人没有回应:管理群里的普通消息算干部之间的讨论。"
    "要答复村民,先按卡片上「回复」的编号,再发答复)"
)
GROUP_HINT = "群里只有 /ts 投诉、/jy 建议、/zx 咨询、/qz 求助 开头,或 @机器人、回复机器人时才受理"

HELP = """沙盒命令(以 : 开头,其余内容都当作消息发给机器人,例如 /start、/my、/ticket 工单号):
  :help              显示本帮助
  :private           回到您和机器人的私聊
  :group 青溪村       以同一位村民身份在该村村民群里发言(也可写 :group qingxi)
  :admin 青溪村       进入该村干部管理群,显示群里最近的消息(您成了村干部王书记)
  :admin 青山镇       进入镇管理群(镇干部赵镇长);村民三次不满意的工单会上报到这里
  :user 李四          换成另一位村民
  :press N 或直接 N   按下当前聊天里最近一条带按钮消息的第 N 个按钮
  :photo [说明]       发一张照片(可带说明文字)
  :location          发送位置
  :tickets           列出所有工单
  :quit              退出(也可以 Ctrl-D / Ctrl-C)

完整流程:村民私聊写问题并「提交」→ 卡片出现在村管理群 → :admin 青溪村,
  按卡片上「受理」「回复」的编号 → 直接输入给村民的答复(回复后下一条消息就是答复)
  → :private 回到私聊,按「满意」「基本满意」或「不满意」的编号评价。
  满意即办结;不满意会重新办理,同一级第三次不满意就上报到镇(:admin 青山镇)。
管理群里还可以发 /open 待办、/mine 我经办的、/overdue 超时、/find 词、/ticket 工单号。"""

BANNER = """\
══════════════════ 枫桥服务台 · 沙盒 Fengqiao desk sandbox ══════════════════
您现在是村民「张三」,正在和机器人私聊。直接打字就是向村里反映问题。
You are the resident 张三 in a private chat with the bot: type a message to report
a problem. No Telegram and no network: the real bot runs against a local emulator.
Sandbox commands start with ":" (:help lists them); a bare number N presses button [N].
管理群(村干部)收到的派单卡片会用 ═══ 📋 标出。Cards for cadres are marked ═══ 📋.
数据库 Database: {database}
试试完整流程 Try the whole loop, from a report to a rating:
  1. /start → 1(选青溪村)→ 写一句问题,例如「村口路灯坏了一个星期」→ 1(提交)
  2. :admin 青溪村   进入村管理群,您成了村干部王书记,看到带编号按钮的工单卡片
  3. 按 1「受理」;卡片刷新后按钮重新编号,再按 1「回复」,然后直接输入给村民的答复
  4. :private   回到私聊,看到答复后按 1「满意」评价,工单就办结了(:tickets 查看)
"""


class Hint(Exception):
    """A sandbox command the user got wrong: shown as a one-line hint, never a traceback."""


class LineReader:
    """Reads stdin in a daemon thread, one line per request, so the event loop keeps running.

    A daemon thread (not asyncio.to_thread) so that Ctrl-C never waits for a pending read.
    """

    def __init__(self, stdin: TextIO, interactive: bool) -> None:
        self._stdin, self._interactive = stdin, interactive
        self._wanted = threading.Semaphore(0)
        self._prompt = ""
        self._future: asyncio.Future[str | None] | None = None
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._run, name="sandbox-stdin", daemon=True).start()

    async def read(self, prompt: str) -> str | None:
        """The next line without its newline, or None at end of input."""
        self._prompt, self._future = prompt, self._loop.create_future()
        self._wanted.release()
        return await self._future

    def _run(self) -> None:
        while True:
            self._wanted.acquire()
            try:
                if self._interactive:  # input() gives line editing and history
                    line: str | None = input(self._prompt)
                else:
                    raw = self._stdin.readline()
                    line = raw.rstrip("\n") if raw else None
            except EOFError:
                line = None
            if self._future is not None:
                self._loop.call_soon_threadsafe(_resolve, self._future, line)


def _resolve(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)


def plain(text: str) -> str:
    """What a Telegram client shows for HTML text: tags become formatting, entities characters."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


class Sandbox:
    """Who the user acts as, where, and how the bot's calls are printed."""

    def __init__(self, world: EmulatedDesk, out: TextIO, officers: dict[int, Officer]) -> None:
        self.world, self.emu, self.out = world, world.emu, out
        self.residents: dict[str, User] = {}
        self.user = self._resident("张三")
        self.chat = self.emu.private_chat(self.user)
        self.admin_chats = {p.admin_chat_id for p in world.places if p.admin_chat_id is not None}
        # Who the user acts as in each admin chat: the staff member of that chat's place.
        self.officers = officers
        self.emu.on_call(self._show)

    @property
    def actor(self) -> User:
        officer = self.officers.get(self.chat.id)
        if officer is not None:
            return officer.user
        return self.user

    def prompt(self) -> str:
        where = "私聊" if self.chat.id == self.actor.id else self._label(self.chat.id)
        return f"{self.actor.first_name}@{where}> "

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def handle(self, line: str) -> bool:
        """Do what the line asks; False when the user wants to leave."""
        command, _, arg = line.partition(" ")
        arg = arg.strip()
        try:
            if not line:
                return True
            if line.isdigit() or command == ":press":
                await self._press(line if line.isdigit() else arg)
            elif not line.startswith(":"):
                await self._send(line)
            elif command in (":quit", ":q", ":exit"):
                return False
            elif command in (":help", ":h", ":?"):
                self.say(HELP)
            elif command == ":private":
                self.chat = self.emu.private_chat(self.user)
                self.say(f"(回到私聊,您是村民「{self.user.first_name}」)")
            elif command == ":group":
                self.chat = self.world.group_of(self._place(arg, villages=True).id)
                self.say(f"(进入{self._label(self.chat.id)}。{GROUP_HINT})")
            elif command == ":admin":
                self._enter_admin(self._place(arg, villages=False))
            elif command == ":user":
                self._become(arg)
            elif command == ":photo":
                await self.emu.send_photo(self.actor, self.chat, arg or None)
            elif command == ":location":
                await self.emu.send_location(self.actor, self.chat, *LOCATION)
            elif command == ":tickets":
                await self._tickets()
            else:
                raise Hint(f"没有沙盒命令 {command},输入 :help 查看可用命令")
            await self.emu.settle(quiet=0.2, timeout=20)
        except Hint as exc:
            self.say(f"⚠️ {exc}")
        except TimeoutError:
            self.say("⚠️ 机器人还在处理,稍后的回复会接着显示")
        except Exception as exc:  # the prompt must survive anything a newcomer types
            log.debug("sandbox command failed", exc_info=True)
            self.say(f"⚠️ 没能完成:{exc}")
        return True

    async def _send(self, text: str) -> None:
        mark = self.emu.mark()
        await self.emu.send_text(self.actor, self.chat, text)
        if self.chat.id in self.admin_chats:
            await self.emu.settle(quiet=0.2, timeout=20)
            if not any(c.ok and c.method in SHOWN for c in self.emu.calls_since(mark)):
                self.say(CHATTER_HINT)

    def _resident(self, name: str) -> User:
        if name not in self.residents:
            user = self.emu.user(1001 + len(self.residents), name)
            self.emu.private_chat(user)  # as if they had pressed Start once
            self.residents[name] = user
        return self.residents[name]

    def _become(self, name: str) -> None:
        if not name:
            raise Hint("请写上名字,例如 :user 李四")
        self.user = self._resident(name)
        if self.chat.type == "private" or self.chat.id in self.admin_chats:
            self.chat = self.emu.private_chat(self.user)
        self.say(f"(现在您是村民「{name}」,在{self._label(self.chat.id)})")

    def _place(self, query: str, *, villages: bool) -> PlaceInfo:
        choices = [
            p
            for p in self.world.places
            if (p.group_chat_id if villages else p.admin_chat_id) is not None
        ]
        for place in choices:
            if query and (query in (place.id, place.name) or place.name.startswith(query)):
                return place
        names = "、".join(f"{p.name}({p.id})" for p in choices)
        raise Hint(f"找不到「{query}」,可选:{names}")

    def _enter_admin(self, place: PlaceInfo) -> None:
        self.chat = self.world.admin_of(place.id)
        recent = self.emu.sent_messages(self.chat)[-3:]
        officer = self.officers.get(self.chat.id)
        who = f"{officer.role_label}{officer.user.first_name}" if officer else "未登记的干部"
        self.say(f"(进入{self._label(self.chat.id)},您是{who})")
        if not recent:
            self.say("(群里还没有消息)")
        for message in recent:
            self._print(" · 之前的消息", self.chat.id, message["text"], message.get("reply_markup"))

    async def _press(self, arg: str) -> None:
        if not arg.isdigit():
            raise Hint("请写按钮的编号,例如 :press 1 或直接输入 1")
        number = int(arg)
        message = next(
            (m for m in reversed(self.emu.sent_messages(self.chat)) if _buttons(m)), None
        )
        if message is None:
            raise Hint(f"{self._label(self.chat.id)}里没有可以按的按钮")
        buttons = _buttons(message)
        if not 1 <= number <= len(buttons):
            raise Hint(f"没有第 {number} 个按钮,可选 1–{len(buttons)}")
        button = buttons[number - 1]
        self.say(f"(按下 [{number}] {button['text']})")
        url = str(button.get("url", ""))
        if url.startswith(DEEP_LINK):  # Telegram opens the private chat and sends /start
            self.chat = self.emu.private_chat(self.user)
            self.say("(打开链接:转到和机器人的私聊)")
            await self.emu.send_text(self.user, self.chat, f"/start {url.removeprefix(DEEP_LINK)}")
        elif url:
            self.say(f"(这是链接按钮,沙盒里不打开:{url})")
        else:
            await self.emu.press(self.actor, message, button["callback_data"])

    async def _tickets(self) -> None:
        desk = self.world.desk
        tickets = await desk.tickets.all()
        if not tickets:
            self.say("(还没有工单)")
        for t in tickets:
            try:
                status: str = desk.texts(f"status.{t.status}")
            except TextsError:
                status = t.status
            due = t.due_at.astimezone(desk.settings.tz)
            urgent = " 🚨紧急" if t.urgent else ""
            text = t.text if len(t.text) <= 24 else t.text[:23] + "…"
            self.say(
                f"{t.number}  {status}  {t.category_label}·{t.kind_label}{urgent}  "
                f"{t.place_name}  {t.resident_name}  期限 {due:%m-%d %H:%M}  {text}"
            )

    def _label(self, chat_id: int) -> str:
        if chat_id in self.world.chats:
            return self.world.chats[chat_id].title or str(chat_id)
        names = [u.first_name for u in self.residents.values() if u.id == chat_id]
        return f"私聊·{names[0]}" if names else f"聊天 {chat_id}"

    def _show(self, call: Call) -> None:
        """Print a bot call the way a person would see its result."""
        p = call.params
        if not call.ok or call.method not in SHOWN:
            return
        if call.method == "answerCallbackQuery":
            if p.get("text"):
                self.say(f"  💬 弹出提示:{p['text']}")
            return
        if not isinstance(p.get("chat_id"), int):
            return  # inline messages and channels: the desk uses neither
        text = str(p.get("text", p.get("caption", "")))
        if p.get("parse_mode") == "HTML":
            text = plain(text)
        if call.method in ("sendPhoto", "editMessageCaption"):
            text = f"[照片] {text}".rstrip()
        elif call.method == "sendLocation":
            text = f"[位置] {p.get('latitude')}, {p.get('longitude')}"
        elif call.method == "editMessageReplyMarkup":
            text = "(按钮变了)" if _rows(p.get("reply_markup")) else "(按钮已收起)"
        edited = "(修改了消息)" if call.method.startswith("edit") else ""
        self._print(edited, p["chat_id"], text, p.get("reply_markup"))

    def _print(self, note: str, chat_id: int, text: str, markup: Any) -> None:
        label = self._label(chat_id)
        if chat_id in self.admin_chats:
            officer = self.officers.get(chat_id)
            seen_by = officer.role_label if officer else "干部"
            header = f"═══ 📋 {label}({seen_by}看到){note} ═══"
        else:
            header = f"─── 🤖 → {label}{note} ───"
        lines = [header, *(f"  {line}".rstrip() for line in text.splitlines())]
        number = 0
        for row in _rows(markup):
            cells = []
            for button in row:
                number += 1
                link = f" ({button['url']})" if "url" in button else ""
                cells.append(f"[{number}] {button['text']}{link}")
            lines.append("  " + "  ".join(cells))
        self.say("\n".join(lines))


@dataclass(frozen=True)
class Officer:
    """The staff member the user becomes in one admin chat."""

    user: User
    role_label: str  # 村干部, 镇干部…: what the prompt and headers call them


async def seed_staff(world: EmulatedDesk) -> dict[int, Officer]:
    """Make sure every admin chat's place has an active staff member; who acts in which chat.

    Rows already there (an earlier sandbox run, someone invited by hand) are kept: the
    sandbox database persists, and `telegram_id` is unique.
    """
    desk = world.desk
    admin_places = [p for p in world.places if p.admin_chat_id is not None]
    now = desk.clock.now()
    async with desk.sessions() as session, session.begin():
        rows = list((await session.execute(select(Staff).where(Staff.active.is_(True)))).scalars())
        taken = {r.telegram_id for r in (await session.execute(select(Staff))).scalars()}
        spare = (i for i in range(FIRST_OTHER_STAFF_ID, FIRST_OTHER_STAFF_ID + 10_000))
        for place in admin_places:
            if any(r.place_id == place.id for r in rows):
                continue
            uid, name = DEMO_STAFF.get(place.id, (0, f"{place.name}干部"))
            if not uid or uid in taken:
                uid = next(i for i in spare if i not in taken)
            row = Staff(
                telegram_id=uid,
                display_name=name,
                role=ROLE_OF_LEVEL.get(place.level, "cadre"),
                place_id=place.id,
                active=True,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            rows.append(row)
            taken.add(uid)
        officers: dict[int, Officer] = {}
        for place in admin_places:
            assert place.admin_chat_id is not None
            row = min((r for r in rows if r.place_id == place.id), key=lambda r: r.telegram_id)
            try:
                role_label: str = desk.texts(f"role.{row.role}")
            except TextsError:
                role_label = "干部"
            user = world.emu.user(row.telegram_id, row.display_name or role_label)
            officers[place.admin_chat_id] = Officer(user, role_label)
    return officers


def _rows(markup: Any) -> list[list[dict[str, Any]]]:
    if isinstance(markup, str):  # some clients send the keyboard as a JSON string
        markup = json.loads(markup)
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [list(row) for row in rows]


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in _rows(message.get("reply_markup")) for b in row]


async def _session(database_url: str, config_dir: Path, stdin: TextIO, out: TextIO) -> None:
    interactive = stdin is sys.stdin and out is sys.stdout and stdin.isatty()
    print("正在启动机器人… starting the bot…", file=out, flush=True)
    async with emulated_desk(database_url, config_dir, poll_timeout=1) as world:
        sandbox = Sandbox(world, out, await seed_staff(world))
        shown = make_url(database_url).render_as_string(hide_password=True)
        sandbox.say(BANNER.format(database=shown.removeprefix("sqlite+aiosqlite:///")))
        reader = LineReader(stdin, interactive)
        while (line := await reader.read(sandbox.prompt())) is not None:
            if not interactive:  # echo piped input so the transcript reads like a session
                sandbox.say(f"{sandbox.prompt()}{line}")
            if not await sandbox.handle(line.strip()):
                break
        else:
            if interactive:  # Ctrl-D leaves the cursor after the prompt
                sandbox.say("")
        sandbox.say("再见 bye")


def run_sandbox(
    argv: list[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    """Run the sandbox until :quit or end of input; the exit code for the CLI."""
    parser = argparse.ArgumentParser(
        prog="fengqiao sandbox",
        description="在终端里试用机器人,不需要 token 和网络。Try the bot in the terminal. "
        "Tickets go to data/sandbox.db unless FENGQIAO_DATABASE_URL is set.",
        epilog=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.parse_args(argv or [])
    settings = load_settings()
    # Only an explicit environment variable: a production URL in .env must not get demo tickets.
    url = settings.database_url if "FENGQIAO_DATABASE_URL" in os.environ else SANDBOX_DATABASE
    out = stdout or sys.stdout
    root = logging.getLogger()
    level = root.level
    if level != logging.DEBUG:  # keep `fengqiao -v sandbox` verbose
        root.setLevel(logging.WARNING)
    try:
        asyncio.run(_session(url, settings.config_dir, stdin or sys.stdin, out))
    except KeyboardInterrupt:
        print("\n再见 bye", file=out, flush=True)
    finally:
        root.setLevel(level)
    return 0
