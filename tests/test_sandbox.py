"""`fengqiao sandbox` driven by a script on stdin: as a real process and in-process."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.sandbox.terminal import plain, run_sandbox
from tests.conftest import CONFIG

REPORT = "/start\n1\n村口垃圾三天没人收了\n1\n:tickets\n"
STREETLIGHT = "/start\n1\n村口的路灯坏了一个星期了,晚上走路看不见\n1\n"
# The walkthrough the banner prints, step by step: 受理, 回复 (the card's buttons are numbered
# afresh after 受理), the answer, back to the private chat, 满意.
WHOLE_LOOP = STREETLIGHT + ":admin 青溪村\n1\n1\n已安排电工明天上午来修。\n:private\n1\n:tickets\n"
PROMPT = re.compile(r"^[^\s@]+@[^\s>]+> ", re.MULTILINE)


def sandbox_process(
    script: str, cwd: Path, database: Path | None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FENGQIAO_CONFIG_DIR": str(CONFIG)}
    env.pop("FENGQIAO_BOT_TOKEN", None)
    env.pop("FENGQIAO_DATABASE_URL", None)
    if database is not None:
        env["FENGQIAO_DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "sandbox"],
        input=script,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def sandbox(script: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FENGQIAO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}")
    monkeypatch.setenv("FENGQIAO_CONFIG_DIR", str(CONFIG))
    out = io.StringIO()
    assert run_sandbox([], io.StringIO(script), out) == 0
    return out.getvalue()


def after(output: str, marker: str) -> str:
    """The output from the echo of the sandbox input `marker` on."""
    return output[output.index(f"> {marker}\n") :]


def steps(output: str) -> list[tuple[str, str]]:
    """The transcript as (the echoed prompt and input, what followed it) pairs, in order."""
    starts = [m.start() for m in PROMPT.finditer(output)]
    chunks = [output[a:b] for a, b in zip(starts, [*starts[1:], len(output)], strict=True)]
    return [(c.split("\n", 1)[0], c.split("\n", 1)[1] if "\n" in c else "") for c in chunks]


def rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def test_piped_report_as_a_process(tmp_path: Path) -> None:
    result = sandbox_process(REPORT, tmp_path, tmp_path / "desk.db")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert "枫桥服务台 · 沙盒" in out and "张三" in out and ":help" in out
    assert f"Database: {tmp_path / 'desk.db'}" in out
    assert "[1] 青溪村  [2] 桃源村" in after(out, "/start"), "the place keyboard, numbered"
    draft = after(out, "村口垃圾三天没人收了")
    assert "类别:环境卫生" in draft and "[1] ✅ 提交" in draft and "[3] ✏️ 更改类别" in draft
    ack = after(draft, "1")
    number = re.search(r"工单号:(\d{4}-000001)", ack)
    assert number is not None, ack
    assert re.search(r"答复时限:\d+月\d+日", ack)
    card = ack[ack.index("═══ 📋 青溪村管理群") :]
    assert number.group(1) in card and "村口垃圾三天没人收了" in card and "张三" in card
    listing = after(out, ":tickets")
    assert re.search(rf"{number.group(1)}\s+待受理\s+环境卫生·投诉\s+青溪村\s+张三", listing)
    assert out.rstrip().endswith("再见 bye")


def test_default_database_is_data_sandbox_db_and_persists(tmp_path: Path) -> None:
    first = sandbox_process(REPORT, tmp_path, None)
    assert first.returncode == 0, first.stderr
    assert "Database: data/sandbox.db" in first.stdout
    assert (tmp_path / "data" / "sandbox.db").is_file()
    second = sandbox_process(":tickets\n", tmp_path, None)
    assert second.returncode == 0, second.stderr
    assert re.search(r"\d{4}-000001\s+待受理", after(second.stdout, ":tickets"))


def test_group_flow_admin_chat_and_deep_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = ":group 青溪\n今天谁去赶集\n/ts 桥边的护栏断了\n1\n:admin qingxi\n:private\n"
    out = sandbox(script, tmp_path, monkeypatch)
    assert "张三@青溪村村民群> 今天谁去赶集" in out
    chatter = out[out.index("> 今天谁去赶集\n") : out.index("> /ts")]
    assert "🤖" not in chatter, "unaddressed chatter gets no reply"
    reply = after(out, "/ts 桥边的护栏断了")
    assert "─── 🤖 → 青溪村村民群 ───" in reply
    assert re.search(r"\[1\] 私聊继续 \(https://t\.me/\w+\?start=t\d{10}\)", reply)
    assert "═══ 📋 青溪村管理群" in reply and "来源:村民群" in reply
    opened = after(out, "1")
    assert "转到和机器人的私聊" in opened and "─── 🤖 → 私聊·张三 ───" in opened
    assert "桥边的护栏断了" in opened[: opened.index("> :admin")], "the deep link shows the ticket"
    admin = after(out, ":admin qingxi")
    assert "王书记" in admin and "之前的消息" in admin and "桥边的护栏断了" in admin
    assert "王书记@青溪村管理群> :private" in out and "(回到私聊" in after(out, ":private")


def test_other_resident_photo_and_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = ":user 李四\n/start\n2\n:photo 路灯坏了,晚上很黑\n:location\n4\n/my\n"
    out = sandbox(script, tmp_path, monkeypatch)
    assert "李四@私聊> /start" in out and "─── 🤖 → 私聊·李四 ───" in out
    draft = after(out, ":location")
    assert "桃源村" in draft and "附图" in draft and "位置" in draft
    assert "已放弃" in after(draft, "4"), "button 4 of the draft is 放弃"
    assert "还没有提交过工单" in after(out, "/my")


def test_bad_sandbox_commands_get_hints_not_tracebacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = ":frobnicate\n:group 东村\n:press x\n7\n:user\n:admin\n:help\n"
    out = sandbox(script, tmp_path, monkeypatch)
    assert "⚠️ 没有沙盒命令 :frobnicate" in out
    assert "⚠️ 找不到「东村」,可选:青溪村(qingxi)、桃源村(taoyuan)" in out
    assert "⚠️ 请写按钮的编号" in out
    assert "⚠️ 私聊·张三里没有可以按的按钮" in out
    assert "⚠️ 请写上名字" in out
    help_text = after(out, ":help")
    assert ":location" in help_text and ":admin 青山镇" in help_text and "「回复」" in help_text
    assert "Traceback" not in out


def test_the_whole_loop_from_a_report_to_a_rating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = sandbox(WHOLE_LOOP, tmp_path, monkeypatch)
    banner = out[: out.index("> /start")]
    assert "试试完整流程" in banner
    assert "按 1「受理」" in banner and "再按 1「回复」" in banner and "按 1「满意」" in banner
    walk = steps(out)
    assert [line for line, _ in walk][4:9] == [
        "张三@私聊> :admin 青溪村",
        "王书记@青溪村管理群> 1",
        "王书记@青溪村管理群> 1",
        "王书记@青溪村管理群> 已安排电工明天上午来修。",
        "王书记@青溪村管理群> :private",
    ]
    entered, claimed, answer_pressed, answered = (shown for _, shown in walk[4:8])
    assert "您是村干部王书记" in entered and "[1] ✋ 受理  [2] 💬 回复" in entered
    assert "(按下 [1] ✋ 受理)" in claimed and "办理人:王书记" in claimed
    assert "青溪村已受理" in claimed, "the resident hears of it at once"
    assert "(按下 [1] 💬 回复)" in answer_pressed and "请直接发送给居民的答复" in answer_pressed
    resident_sees = answered[answered.index("─── 🤖 → 私聊·张三 ───") :]
    assert "的答复" in resident_sees and "已安排电工明天上午来修。" in resident_sees
    assert "[1] 😊 满意  [2] 🙂 基本满意  [3] 😞 不满意" in resident_sees
    (rated_line, rated), (_, listing) = walk[9], walk[10]
    assert rated_line == "张三@私聊> 1"
    assert "(按下 [1] 😊 满意)" in rated and "感谢评价:满意" in rated
    assert "居民评价:满意" in rated, "the cadres see the rating"
    assert "已办结" in listing
    database = tmp_path / "sandbox.db"
    assert rows(database, "SELECT status, handler_name FROM tickets") == [("closed", "王书记")]
    assert rows(database, "SELECT rating FROM ratings") == [("satisfied",)]


def test_the_township_chat_and_its_officer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 上报 from the village card sends the ticket up; 赵镇长 takes it in the township's chat.
    script = STREETLIGHT + ":admin 青溪村\n大家好\n5\n:admin 青山镇\n1\n"
    out = sandbox(script, tmp_path, monkeypatch)
    assert "机器人没有回应" in after(out, "大家好"), "chatter before 回复 gets a hint"
    assert "(按下 [5] ⬆️ 上报)" in after(out, "5")
    township = after(out, ":admin 青山镇")
    assert "(进入青山镇管理群,您是镇干部赵镇长)" in township and "之前的消息" in township
    assert "═══ 📋 青山镇管理群(镇干部看到)" in township
    assert "赵镇长@青山镇管理群> 1" in out and "(按下 [1] ✋ 受理)" in after(township, "1")
    database = tmp_path / "sandbox.db"
    assert rows(database, "SELECT status, level, handler_name FROM tickets") == [
        ("accepted", "township", "赵镇长")
    ]


def test_demo_staff_are_seeded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = sandbox(":admin 桃源村\n:admin 安宁县\n", tmp_path, monkeypatch)
    assert "您是村干部陈主任" in first and "您是县督办孙主任" in first
    sandbox(":admin qingxi\n", tmp_path, monkeypatch)  # the same database again
    assert rows(
        tmp_path / "sandbox.db",
        "SELECT display_name, role, place_id FROM staff ORDER BY telegram_id",
    ) == [
        ("王书记", "cadre", "qingxi"),
        ("陈主任", "cadre", "taoyuan"),
        ("赵镇长", "township", "qingshan-town"),
        ("孙主任", "county", "anning-county"),
    ]


def test_quit_stops_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = sandbox(":quit\n/start\n", tmp_path, monkeypatch)
    assert "> /start" not in out and out.rstrip().endswith("再见 bye")


def test_plain_strips_telegram_html() -> None:
    assert plain("<b>工单</b> <code>2026-000001</code> &lt;1&gt; &amp;") == "工单 2026-000001 <1> &"
