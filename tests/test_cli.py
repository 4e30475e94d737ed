"""The operator commands, run as a real process on a database the bot filled."""

from __future__ import annotations

import json
from pathlib import Path

from bot.sandbox.emulated import EmulatedDesk
from tests.support import fengqiao

TEXTS = [
    "/ts 村口垃圾三天没人收了,我叫张伟,电话13812345678",
    "/ts 青溪村东头的垃圾站臭气熏天,垃圾没人清运",
    "/ts 路灯坏了一个月,晚上出门很危险",
    "/jy 建议垃圾分类点再加两个",
]


async def fill(world: EmulatedDesk) -> None:
    emu, group = world.emu, world.group_of("qingxi")
    for uid, text in enumerate(TEXTS, start=5001):
        await emu.send_text(emu.user(uid, "村民"), group, text)
        await emu.settle()


async def test_tickets_list_json(running: EmulatedDesk, tmp_path: Path) -> None:
    await fill(running)
    result = fengqiao("tickets", "list", "--json", database=tmp_path / "desk.db")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["number"] for r in rows] == [f"2026-00000{i}" for i in range(1, 5)]
    assert set(rows[0]) == {
        "number",
        "status",
        "category",
        "kind",
        "urgent",
        "place",
        "created",
        "due",
    }
    assert rows[0]["category"] == "environment" and rows[3]["kind"] == "suggestion"
    assert "13812345678" not in result.stdout and "张伟" not in result.stdout
    later = fengqiao("tickets", "list", "--since", "2030-01-01", database=tmp_path / "desk.db")
    assert later.returncode == 0 and later.stdout == ""
    bad = fengqiao("tickets", "list", "--since", "昨天", database=tmp_path / "desk.db")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


async def test_hotwords_are_masked(running: EmulatedDesk, tmp_path: Path) -> None:
    await fill(running)
    result = fengqiao(
        "nlp", "hotwords", "--since", "2026-11-01", "--json", database=tmp_path / "desk.db"
    )
    assert result.returncode == 0, result.stderr
    words = [json.loads(line)["word"] for line in result.stdout.splitlines()]
    assert words[0] == "垃圾"
    joined = "".join(words)
    for private in ("13812345678", "张伟", "青溪", "青溪村"):
        assert private not in joined


def test_classify_reads_json_lines(tmp_path: Path) -> None:
    result = fengqiao(
        "nlp",
        "classify",
        database=tmp_path / "x.db",
        stdin='{"text": "小区电梯坏了三天物业不管"}\n',
    )
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["category"] == "property_mgmt" and row["deadline_days"] in (3, 5)
    assert {"category", "kind", "urgent", "complexity", "deadline_days", "keywords"} <= set(row)


def test_sandbox_help_lists_the_sandbox_commands(tmp_path: Path) -> None:
    done = fengqiao("sandbox", "--help", database=tmp_path / "none.db")
    assert done.returncode == 0, done.stderr
    assert ":group" in done.stdout and ":press" in done.stdout and "不需要 token" in done.stdout
    assert not (tmp_path / "none.db").exists(), "help starts nothing"


def test_unknown_arguments_of_other_commands_are_still_refused(tmp_path: Path) -> None:
    done = fengqiao("tickets", "list", "--bogus", database=tmp_path / "none.db")
    assert done.returncode == 2 and "--bogus" in done.stderr


async def test_delivery_status_counts_the_inbox_and_outbox(
    running: EmulatedDesk, tmp_path: Path
) -> None:
    await fill(running)
    result = fengqiao("delivery", "status", database=tmp_path / "desk.db")
    assert result.returncode == 0, result.stderr
    inbox, outbox = result.stdout.splitlines()
    assert inbox.startswith("inbox:  0 waiting") and "4 done" in inbox
    # Each report: the group's acknowledgement and the cadres' card.
    assert outbox.startswith("outbox: 0 waiting") and "8 sent" in outbox
