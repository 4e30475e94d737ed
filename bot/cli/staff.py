"""`fengqiao staff invite|list|remove` and `fengqiao places bind-code`: people and places for
operators. Bad input (an unknown role or place) ends with a Chinese message and exit code 2."""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.desk import Desk, open_desk
from bot.errors import DeskError
from bot.places import ADMIN, PURPOSES
from bot.settings import load_settings
from bot.staff import CODE_LIFETIME, INVITE_PREFIX, StaffListing

T = TypeVar("T")
_TAG = re.compile(r"<[^>]+>")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = sub.add_parser("staff", help="cadres: invite, list, remove").add_subparsers(
        metavar="ACTION"
    )
    invite = staff.add_parser("invite", help="print a one-time invitation link")
    invite.add_argument("--place", required=True, help="the jurisdiction's place id, e.g. qingxi")
    invite.add_argument("--role", required=True, help="grid | cadre | township | county | admin")
    invite.set_defaults(func=invite_command)
    staff.add_parser("list", help="print the active staff").set_defaults(func=list_command)
    remove = staff.add_parser("remove", help="revoke a staff member")
    remove.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    remove.set_defaults(func=remove_command)

    places = sub.add_parser("places", help="places and their chats").add_subparsers(
        metavar="ACTION"
    )
    code = places.add_parser("bind-code", help="print a one-time code for /bind in a group")
    code.add_argument("place", metavar="PLACE", help="the place id, e.g. qingxi")
    code.add_argument(
        "--as",
        dest="purpose",
        choices=PURPOSES,
        default=ADMIN,
        help="the cadres' admin chat (default) or a village's residents' group",
    )
    code.set_defaults(func=bind_code_command)


def invite_command(args: argparse.Namespace) -> int:
    """Print the invitation's deep link (or the code to send with /start)."""
    found = _run(lambda desk: _invite(desk, args.role, args.place))
    if found is None:
        return 2
    code, link = found
    days = CODE_LIFETIME.days
    if link:
        print(link)
        print(
            f"把这个链接发给本人,用 Telegram 打开后点「开始」即可登记({days} 天内有效,只能用一次)。"
        )
    else:
        print(code)
        print(
            f"请本人私聊机器人发送:/start {INVITE_PREFIX}{code}"
            f"({days} 天内有效,只能用一次;设置 FENGQIAO_BOT_USERNAME 可直接生成链接)。"
        )
    return 0


async def _invite(desk: Desk, role: str, place: str) -> tuple[str, str | None]:
    code = await desk.staff.create_invite(role, place)
    return code, desk.staff.invite_link(code)


def list_command(args: argparse.Namespace) -> int:
    """One line per active staff member: role, place, name, Telegram id, since."""
    found = _run(_listing)
    if found is None:
        return 2
    rows, tz = found
    for row in rows:
        member = row.member
        since = row.since.astimezone(tz).strftime("%Y-%m-%d")
        print(
            f"{member.role.value:<9} {member.place_id:<16} {member.display_name}  "
            f"{member.telegram_id}  {since}"
        )
    return 0


async def _listing(desk: Desk) -> tuple[list[StaffListing], ZoneInfo]:
    return await desk.staff.listing(), desk.settings.tz


def remove_command(args: argparse.Namespace) -> int:
    """Revoke a staff member by Telegram id; exit code 1 when they are not staff."""
    removed = _run(lambda desk: desk.staff.remove(args.telegram_id))
    if removed is None:
        return 2
    if not removed:
        print(f"fengqiao: {args.telegram_id} 不是在职的干部", file=sys.stderr)
        return 1
    print(f"已撤销 {args.telegram_id} 的干部权限")
    return 0


def bind_code_command(args: argparse.Namespace) -> int:
    """Print a one-time code; a Telegram administrator of the group sends /bind CODE there."""
    code = _run(lambda desk: desk.staff.create_bind_code(args.place, args.purpose))
    if code is None:
        return 2
    what = "干部管理群" if args.purpose == ADMIN else "村民群"
    print(code)
    print(
        f"请群主或群管理员在要绑定为{what}的群里发送:/bind {code}"
        f"({CODE_LIFETIME.days} 天内有效,只能用一次)。"
    )
    return 0


def _run(action: Callable[[Desk], Awaitable[T]]) -> T | None:
    """Open the desk, do the action, close it; a refusal is printed (None returned)."""
    settings = load_settings()

    async def run() -> T | None:
        desk = await open_desk(settings)
        try:
            return await action(desk)
        except DeskError as exc:
            text = desk.texts(exc.text_key, **exc.values)
            print(f"fengqiao: {html.unescape(_TAG.sub('', text))}", file=sys.stderr)
            return None
        finally:
            await desk.close()

    return asyncio.run(run())
