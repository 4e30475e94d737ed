"""The intake benchmark runs end to end on a handful of messages (no timing is asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import bench_intake
from bench.bench_intake import MESSAGES, desk_group_run, desk_private_run, echo_run, workload


def test_messages_are_realistic_reports() -> None:
    assert len(MESSAGES) >= 30
    assert all(20 <= len(text) <= 80 for _, text in MESSAGES)
    assert {command for command, _ in MESSAGES} == {"ts", "jy", "zx", "qz"}
    reports = workload(30, private=False)
    assert len({r.user_id for r in reports}) == 20, "some residents write twice in groups"
    assert len({r.user_id for r in workload(30, private=True)}) == 30


async def test_every_run_answers_and_stores_everything(tmp_path: Path) -> None:
    echo = await echo_run(5, latency_n=2)
    echo_aiohttp = await echo_run(5, latency_n=2, desk_transport=True)
    group = await desk_group_run(5, latency_n=2, db_dir=tmp_path)
    private = await desk_private_run(5, latency_n=2, db_dir=tmp_path)
    for run in (echo, echo_aiohttp, group, private):
        assert run.problems == [], run.problems
        assert run.throughput is not None and len(run.latencies) == 2
        assert run.cpu_seconds is not None and run.cpu_seconds > 0
        assert len(run.burst_latencies) == 5
    assert group.stored == private.stored == bench_intake.WARMUP + 2 + 5


def test_main_prints_the_figures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BENCH_N", "5")
    monkeypatch.setenv("BENCH_ROUNDS", "1")
    monkeypatch.setenv("BENCH_LATENCY_N", "2")
    bench_intake.main()
    out = capsys.readouterr().out
    assert "median ratio desk/echo" in out and "target >= 0.5" in out
    assert "both on the desk's aiohttp transport" in out and "CPU per message" in out
    assert "p50" in out and "p99" in out and "SQLite" in out
    assert "LOST" not in out
