"""`fengqiao nlp classify|eval`, run as `python -m bot.cli.nlp` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOLDOUT = Path(__file__).parent / "data/nlp_holdout.jsonl"


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.nlp", "--config-dir", str(ROOT / "config"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_classify_writes_one_line_per_input() -> None:
    lines = [
        {"text": "楼下着火了"},
        {"text": "燃气费怎么交"},
        {"text": "路灯坏了怎么报修", "kind_hint": "help"},
    ]
    done = run("classify", stdin="".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["category"] for o in out] == ["public_safety", "water_power", "roads_traffic"]
    assert [o["urgent"] for o in out] == [True, False, False]
    assert out[0]["emergency_numbers"] == ["119"]
    assert out[2]["kind"] == "help"
    required = {"category_label", "kind", "complexity", "deadline_days", "keywords", "confidence"}
    assert all(required <= set(o) for o in out)
    assert "着火" in done.stdout  # ensure_ascii=False keeps Chinese readable


@pytest.mark.parametrize(
    "bad",
    ["not json", "[1]", '{"txt": "路灯坏了"}', '{"text": 5}', '{"text": "路灯", "kind_hint": "x"}'],
)
def test_bad_line_reports_and_continues(bad: str) -> None:
    done = run("classify", stdin=f'{bad}\n{{"text": "路灯坏了"}}\n')
    assert done.returncode == 1
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["line"] == 1
    assert any("\u4e00" <= ch <= "\u9fff" for ch in first["error"])
    assert second["category"] == "roads_traffic"


def test_eval_prints_the_report() -> None:
    done = run("eval", str(HOLDOUT))
    assert done.returncode == 0, done.stderr
    assert "类别宏平均 F1 Category macro-F1" in done.stdout
    assert "紧急召回率 Urgent recall: 100.0%" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("eval", "/nonexistent/file.jsonl"), "无法读取"),
        (("--config-dir", "/nonexistent", "eval", str(HOLDOUT)), "分类规则有误"),
    ],
)
def test_eval_errors(args: tuple[str, ...], message: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert message in done.stderr
