"""People and places: invitations, granting and revoking, binding chats, bans, and cadre
commands refused outside admin chats; over the emulator, plus the pure rules and the CLI."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.errors import DeskError
from bot.lifecycle import Role
from bot.places import ChatInUse, PlaceDirectory, PlacesError
from bot.sandbox.emulated import BOT_USERNAME, EmulatedDesk
from bot.settings import SettingsError, load_settings
from bot.staff import BadRole, StaffMember, StaffService, parse_role
from storage import people
from storage.models import ChatBinding
from tests.conftest import CONFIG
from tests.support import (
    audit_actions,
    enrol,
    exchange,
    fengqiao,
    press,
    resident,
    to,
)

REFUSED_CODE = "邀请码或绑定码无效"
NOT_ALLOWED = "没有这项权限"
ADMIN_CHAT_ONLY = "只能在干部管理群里使用"


async def member(world: EmulatedDesk, telegram_id: int) -> StaffMember | None:
    async with world.desk.sessions() as session:
        return await world.desk.staff.member(session, telegram_id)


async def open_ticket(world: EmulatedDesk) -> tuple[int, int]:
    """A resident of 青溪村 submits a report in private: (their id, the card's message id)."""
    emu = world.emu
    user, chat = await resident(world, uid=1001)
    await emu.send_text(user, chat, "村口的垃圾堆了三天没人清运")
    draft = await emu.wait_for("sendMessage", to(chat))
    mark = emu.mark()
    await press(world, user, chat, draft, "✅ 提交")
    card = await emu.wait_for("sendMessage", to(world.admin_of("qingxi")), since=mark)
    await emu.settle()
    return user.id, card.response["message_id"]


# --- invitations ------------------------------------------------------------------------------


async def test_an_invitation_registers_once(running: EmulatedDesk, clock: FakeClock) -> None:
    emu, staff = running.emu, running.desk.staff
    code = await staff.create_invite("cadre", "qingxi")
    invited = emu.user(3001, "陈书记")
    welcome = await exchange(running, invited, emu.private_chat(invited), f"/start inv_{code}")
    assert "青溪村" in welcome and "村干部" in welcome and "/ban" in welcome
    assert await member(running, 3001) == StaffMember(3001, "陈书记", Role.CADRE, "qingxi")
    other = emu.user(3002, "冒名者")
    other_chat = emu.private_chat(other)
    second = await exchange(running, other, other_chat, f"/start inv_{code}")
    assert REFUSED_CODE in second and await member(running, 3002) is None
    unknown = await exchange(running, other, other_chat, "/start inv_nosuchcode")
    expiring = await staff.create_invite("grid", "qingxi-1")
    clock.advance(timedelta(days=7, seconds=1))
    expired = await exchange(running, other, other_chat, f"/start inv_{expiring}")
    assert second == unknown == expired, "one refusal for spent, unknown and expired codes"
    assert await member(running, 3002) is None
    assert await audit_actions(running) == ["invite", "invite_used", "invite"]


async def test_a_redelivered_invitation_is_acted_on_once(running: EmulatedDesk) -> None:
    emu = running.emu
    code = await running.desk.staff.create_invite("grid", "qingxi-1")
    user = emu.user(3005, "小周")
    chat = emu.private_chat(user)
    assert "网格员" in await exchange(running, user, chat, f"/start inv_{code}")
    mark = emu.mark()
    emu.redeliver(emu.last_update_id)
    await emu.settle()
    assert [c for c in emu.calls_since(mark, "sendMessage") if to(chat)(c)] == []
    assert await audit_actions(running) == ["invite", "invite_used"]


async def test_an_admin_invites_from_the_admin_chat(running: EmulatedDesk) -> None:
    emu, admin_chat = running.emu, running.admin_of("qingxi")
    admin = await enrol(running, 3010, "王主任", "admin", "qingxi")
    answer = await exchange(running, admin, admin_chat, "/invite grid qingxi-2")
    assert f"https://t.me/{BOT_USERNAME}?start=inv_" in answer and "网格员" in answer
    link = answer.split("start=", 1)[1].split()[0]
    newcomer = emu.user(3011, "小李")
    await exchange(running, newcomer, emu.private_chat(newcomer), f"/start {link}")
    assert await member(running, 3011) == StaffMember(3011, "小李", Role.GRID, "qingxi-2")
    default = await exchange(running, admin, admin_chat, "/invite cadre")
    assert "青溪村 · 村干部" in default, "the place defaults to the admin chat's"
    bad_role = await exchange(running, admin, admin_chat, "/invite boss")
    assert "没有这个角色" in bad_role and "township" in bad_role
    bad_place = await exchange(running, admin, admin_chat, "/invite cadre nowhere")
    assert "没有找到辖区" in bad_place and "qingxi-1" in bad_place
    outside = await exchange(running, admin, admin_chat, "/invite cadre taoyuan")
    assert NOT_ALLOWED in outside, "taoyuan is not under qingxi"
    grid = emu.user(3011, "小李")
    assert NOT_ALLOWED in await exchange(running, grid, admin_chat, "/invite cadre")
    stranger = emu.user(3099, "路人")
    assert NOT_ALLOWED in await exchange(running, stranger, admin_chat, "/invite boss")
    assert (await audit_actions(running)).count("invite") == 3


# --- granting and revoking ----------------------------------------------------------------


async def test_grant_and_revoke_by_an_admin(running: EmulatedDesk) -> None:
    emu, admin_chat = running.emu, running.admin_of("qingxi")
    admin = await enrol(running, 3020, "王主任", "admin", "qingxi")
    helper = emu.user(3021, "刘网格")
    hello = await emu.send_text(helper, admin_chat, "大家好,我是新来的网格员")
    granted = await exchange(running, admin, admin_chat, "/grant grid qingxi-1", reply_to=hello)
    assert "刘网格" in granted and "网格员" in granted
    assert await member(running, 3021) == StaffMember(3021, "刘网格", Role.GRID, "qingxi-1")
    # The grid worker is staff, but not an admin: nothing changes.
    stranger = emu.user(3022, "路人")
    other = await emu.send_text(stranger, admin_chat, "我也想当干部")
    refused = await exchange(running, helper, admin_chat, "/grant admin", reply_to=other)
    assert NOT_ALLOWED in refused and await member(running, 3022) is None
    refused = await exchange(running, stranger, admin_chat, "/revoke", reply_to=hello)
    assert NOT_ALLOWED in refused and await member(running, 3021) is not None
    usage = await exchange(running, admin, admin_chat, "/revoke")
    assert "回复" in usage
    revoked = await exchange(running, admin, admin_chat, "/revoke", reply_to=hello)
    assert "已撤销" in revoked and await member(running, 3021) is None
    again = await exchange(running, admin, admin_chat, "/revoke", reply_to=hello)
    assert "不是干部" in again
    assert await audit_actions(running) == ["invite", "invite_used", "grant", "revoke"]


async def test_an_admin_cannot_take_staff_from_outside_their_jurisdiction(
    running: EmulatedDesk,
) -> None:
    emu, admin_chat = running.emu, running.admin_of("qingxi")
    admin = await enrol(running, 3030, "王主任", "admin", "qingxi")
    township = await enrol(running, 3031, "镇长", "township", "qingshan-town")
    said = await emu.send_text(township, admin_chat, "我来看看")
    refused = await exchange(running, admin, admin_chat, "/grant grid", reply_to=said)
    assert NOT_ALLOWED in refused
    assert await member(running, 3031) == StaffMember(3031, "镇长", Role.TOWNSHIP, "qingshan-town")


# --- binding chats -------------------------------------------------------------------------


async def test_a_group_admin_binds_a_new_residents_group(running: EmulatedDesk) -> None:
    emu, desk = running.emu, running.desk
    code = await desk.staff.create_bind_code("taoyuan", "group")
    chat = emu.group_chat(-1001000000999, "桃源村新群")
    member_user, owner = emu.user(3040, "群成员"), emu.user(3041, "群主")
    emu.set_member_status(chat, owner, "creator")
    refused = await exchange(running, member_user, chat, f"/bind {code}")
    assert "群主或管理员" in refused
    bound = await exchange(running, owner, chat, f"/bind {code}")
    assert "桃源村" in bound and "村民群" in bound
    village = desk.places.village_of_group(chat.id)
    assert village is not None and village.id == "taoyuan"
    assert desk.places.village_of_group(running.group_of("taoyuan").id) is None, "replaced"
    assert REFUSED_CODE in await exchange(running, owner, chat, f"/bind {code}"), "spent"
    # The new group takes reports for its village.
    await exchange(running, emu.user(3042, "村民"), chat, "/ts 桃源村小学门口路灯坏了")
    (ticket,) = await desk.tickets.all()
    assert ticket.place_id == "taoyuan"
    async with desk.sessions() as session:
        rows = await people.chat_bindings(session)
    assert [(r.place_id, r.purpose, r.chat_id) for r in rows] == [("taoyuan", "group", chat.id)]
    assert (await audit_actions(running))[-1] == "bind"
    # A desk opening later applies the stored binding over config/places.toml.
    fresh = PlaceDirectory.load(CONFIG)
    later = StaffService(desk.sessions, desk.clock, fresh, desk.inbox, desk.outbox, desk.messages)
    assert await later.apply_bindings() == 1
    rebound = fresh.village_of_group(chat.id)
    assert rebound is not None and rebound.id == "taoyuan"


async def test_an_admin_chat_bound_by_an_administrator(running: EmulatedDesk) -> None:
    emu, desk = running.emu, running.desk
    code = await desk.staff.create_bind_code("qingxi-1")
    chat = emu.group_chat(-1001000000998, "第一网格工作群")
    admin = emu.user(3050, "网格长")
    emu.set_member_status(chat, admin, "administrator")
    assert "干部管理群" in await exchange(running, admin, chat, f"/bind {code}")
    place = desk.places.place_of_admin_chat(chat.id)
    assert place is not None and place.id == "qingxi-1"
    # A chat already serving another place is refused, and the code stays usable elsewhere.
    taken = await desk.staff.create_bind_code("taoyuan")
    qingxi_group = running.group_of("qingxi")
    emu.set_member_status(qingxi_group, admin, "administrator")
    assert "无法绑定" in await exchange(running, admin, qingxi_group, f"/bind {taken}")
    other = emu.group_chat(-1001000000997, "桃源村新管理群")
    emu.set_member_status(other, admin, "creator")
    assert "桃源村" in await exchange(running, admin, other, f"/bind {taken}")


async def test_bind_in_a_private_chat_is_refused(running: EmulatedDesk) -> None:
    user = running.emu.user(3060, "某人")
    answer = await exchange(running, user, running.emu.private_chat(user), "/bind abc")
    assert "请在要绑定的群里" in answer


# --- bans ----------------------------------------------------------------------------------


async def test_a_banned_resident_is_kept_and_opens_no_ticket(running: EmulatedDesk) -> None:
    emu, desk = running.emu, running.desk
    reporter_id, card_id = await open_ticket(running)
    admin_chat = running.admin_of("qingxi")
    cadre = await enrol(running, 3070, "陈书记", "cadre", "qingxi")
    outsider = await enrol(running, 3071, "桃源干部", "cadre", "taoyuan")
    refused = await exchange(running, outsider, admin_chat, "/ban 2026-000001")
    assert NOT_ALLOWED in refused, "taoyuan's cadre does not cover qingxi's ticket"
    done = await exchange(running, cadre, admin_chat, "/ban 2026-000001 反复恶意刷屏")
    assert "已屏蔽" in done and "2026-000001" in done
    user = emu.known_user(reporter_id)
    chat = emu.private_chat(user)
    notice = await exchange(running, user, chat, "我还要继续反映,你们不管就一直发")
    assert "记录" in notice and "暂时无法提交" in notice
    danger = await exchange(running, user, chat, "着火了!隔壁厨房着火了,烟很大")
    assert "119" in danger and "暂时无法提交" in danger, "a ban stops tickets, not safety"
    group = running.group_of("qingxi")
    assert await exchange(running, user, group, "/ts 村委会不作为") == "", "nothing said"
    assert len(await desk.tickets.all()) == 1
    async with desk.sessions() as session:
        kept = [m.text for m in await people.kept_messages(session, reporter_id)]
    assert kept == [
        "我还要继续反映,你们不管就一直发",
        "着火了!隔壁厨房着火了,烟很大",
        "村委会不作为",
    ]
    # /unban as a reply to the ticket's card.
    card = emu.message(admin_chat, card_id)
    lifted = await exchange(running, cadre, admin_chat, "/unban", reply_to=card)
    assert "已恢复" in lifted
    preview = await exchange(running, user, chat, "路灯又坏了,晚上很黑")
    assert "请确认您的诉求" in preview
    actions = await audit_actions(running)
    assert actions.count("ban") == 1 and actions.count("unban") == 1


async def test_ban_needs_a_ticket(running: EmulatedDesk) -> None:
    admin_chat = running.admin_of("qingxi")
    cadre = await enrol(running, 3080, "陈书记", "cadre", "qingxi")
    assert "用法" in await exchange(running, cadre, admin_chat, "/ban")
    assert "没有找到工单" in await exchange(running, cadre, admin_chat, "/ban 2026-000042")
    assert "不是有效的工单号" in await exchange(running, cadre, admin_chat, "/ban 第二个")


async def test_a_draft_written_before_the_ban_is_kept_not_submitted(
    running: EmulatedDesk,
) -> None:
    emu, desk = running.emu, running.desk
    reporter_id, _ = await open_ticket(running)
    user = emu.known_user(reporter_id)
    chat = emu.private_chat(user)
    await emu.send_text(user, chat, "桥边护栏断了")
    draft = await emu.wait_for("sendMessage", to(chat))
    cadre = await enrol(running, 3090, "陈书记", "cadre", "qingxi")
    await exchange(running, cadre, running.admin_of("qingxi"), "/ban 2026-000001")
    await press(running, user, chat, draft, "✅ 提交")
    assert len(await desk.tickets.all()) == 1
    async with desk.sessions() as session:
        assert [m.text for m in await people.kept_messages(session, reporter_id)] == [
            "桥边护栏断了"
        ]


# --- cadre commands outside admin chats ----------------------------------------------------


@pytest.mark.parametrize("command", ["/invite cadre", "/grant grid", "/revoke", "/ban 2026-000001"])
async def test_cadre_commands_are_refused_outside_admin_chats(
    running: EmulatedDesk, command: str
) -> None:
    admin = await enrol(running, 3100, "王主任", "admin", "anning-county")
    private = running.emu.private_chat(admin)
    assert ADMIN_CHAT_ONLY in await exchange(running, admin, private, command)
    group = running.group_of("qingxi")
    assert ADMIN_CHAT_ONLY in await exchange(running, admin, group, command)
    assert await running.desk.tickets.all() == []
    assert await audit_actions(running) == ["invite", "invite_used"]


# --- pure rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "role"),
    [("grid", Role.GRID), ("Cadre", Role.CADRE), (" admin ", Role.ADMIN), ("county", Role.COUNTY)],
)
def test_parse_role_accepts_staff_roles(raw: str, role: Role) -> None:
    assert parse_role(raw) is role


@pytest.mark.parametrize("raw", [None, "", "resident", "system", "boss", "村干部"])
def test_parse_role_refuses_the_rest(raw: str | None) -> None:
    with pytest.raises(BadRole) as caught:
        parse_role(raw)
    assert caught.value.values["roles"] == "grid, cadre, township, county, admin"
    assert isinstance(caught.value, DeskError)


def test_bind_moves_a_place_to_its_new_chat() -> None:
    places = PlaceDirectory.load(CONFIG)
    old_admin = places.admin_chat_for("qingxi")
    old_group = places.get("qingxi").group_chat_id  # type: ignore[union-attr]
    places.bind("qingxi", "admin", -5)
    places.bind("qingxi", "group", -6)
    assert places.place_of_admin_chat(old_admin or 0) is None
    assert places.village_of_group(old_group or 0) is None
    by_admin, by_group = places.place_of_admin_chat(-5), places.village_of_group(-6)
    assert by_admin == by_group == places.get("qingxi")
    assert places.admin_chat_for("qingxi-1") == -5, "grids report to the village's new chat"
    places.bind("qingxi", "admin", -5)  # the same binding again changes nothing


@pytest.mark.parametrize(
    ("place_id", "purpose", "chat_id", "error"),
    [
        ("taoyuan", "admin", -1001000000101, ChatInUse),  # qingxi's admin chat
        ("taoyuan", "group", -1001000000101, ChatInUse),
        ("qingxi", "group", -1001000000101, ChatInUse),  # its own admin chat as its group
        ("qingshan-town", "group", -7, PlacesError),  # only villages have residents' groups
        ("qingxi-1", "group", -7, PlacesError),
        ("nowhere", "admin", -7, PlacesError),
        ("qingxi", "council", -7, PlacesError),
    ],
)
def test_bind_refuses(place_id: str, purpose: str, chat_id: int, error: type[Exception]) -> None:
    places = PlaceDirectory.load(CONFIG)
    with pytest.raises(error):
        places.bind(place_id, purpose, chat_id)
    assert places.place_of_admin_chat(-1001000000101) == places.get("qingxi")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, None), ("", None), ("@FengqiaoBot", "FengqiaoBot"), ("a_b1", "a_b1")],
)
def test_bot_username_setting(raw: str | None, expected: str | None) -> None:
    assert load_settings(bot_username=raw, config_dir=CONFIG).bot_username == expected


def test_bot_username_setting_refuses_a_link() -> None:
    with pytest.raises(SettingsError, match="FENGQIAO_BOT_USERNAME"):
        load_settings(bot_username="https://t.me/x", config_dir=CONFIG)


# --- the command line -----------------------------------------------------------------------


async def test_cli_invite_list_remove(running: EmulatedDesk, tmp_path: Path) -> None:
    database = tmp_path / "desk.db"
    printed = fengqiao("staff", "invite", "--place", "qingxi", "--role", "cadre", database=database)
    assert printed.returncode == 0, printed.stderr
    code = printed.stdout.splitlines()[0]
    assert "/start inv_" + code in printed.stdout
    linked = fengqiao(
        "staff",
        "invite",
        "--place",
        "taoyuan",
        "--role",
        "grid",
        database=database,
        env={"FENGQIAO_BOT_USERNAME": "@SomeDeskBot"},
    )
    assert linked.stdout.startswith("https://t.me/SomeDeskBot?start=inv_"), linked.stderr
    user = running.emu.user(3200, "陈书记")
    await exchange(running, user, running.emu.private_chat(user), f"/start inv_{code}")
    listing = fengqiao("staff", "list", database=database)
    assert listing.returncode == 0, listing.stderr
    (line,) = listing.stdout.splitlines()
    assert line.split() == ["cadre", "qingxi", "陈书记", "3200", "2026-11-23"]
    removed = fengqiao("staff", "remove", "3200", database=database)
    assert removed.returncode == 0 and await member(running, 3200) is None
    assert fengqiao("staff", "list", database=database).stdout == ""
    again = fengqiao("staff", "remove", "3200", database=database)
    assert again.returncode == 1 and "不是在职的干部" in again.stderr
    assert await audit_actions(running) == ["invite", "invite", "invite_used", "remove"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("staff", "invite", "--place", "qingxi", "--role", "boss"), "没有这个角色"),
        (("staff", "invite", "--place", "nowhere", "--role", "cadre"), "没有找到辖区"),
        (("places", "bind-code", "nowhere"), "没有找到辖区"),
        (("places", "bind-code", "qingshan-town", "--as", "group"), "无法绑定"),
    ],
)
def test_cli_refuses_bad_input(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    done = fengqiao(*args, database=tmp_path / "desk.db")
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert done.stdout == ""


async def test_cli_bind_code(running: EmulatedDesk, tmp_path: Path) -> None:
    printed = fengqiao(
        "places", "bind-code", "taoyuan", "--as", "group", database=tmp_path / "desk.db"
    )
    assert printed.returncode == 0, printed.stderr
    code = printed.stdout.splitlines()[0]
    assert f"/bind {code}" in printed.stdout and "村民群" in printed.stdout
    async with running.desk.sessions() as session:
        assert await session.get(ChatBinding, ("taoyuan", "group")) is None
    chat = running.emu.group_chat(-1001000000996, "桃源村二群")
    owner = running.emu.user(3300, "群主")
    running.emu.set_member_status(chat, owner, "creator")
    assert "村民群" in await exchange(running, owner, chat, f"/bind {code}")
