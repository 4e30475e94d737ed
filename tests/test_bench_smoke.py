"""The benchmarks run end to end on a handful of messages (no timing is asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import bench_desk, bench_intake, bench_limits
from bench.bench_desk import PHASES, desk_run
from bench.bench_intake import MESSAGES, desk_group_run, desk_private_run, echo_run, workload
from bench.bench_limits import group_burst, limits_run
from bot.delivery.limits import Limits
from bot.sandbox.emulator import FloodLimits


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


# --- the limits scenario ------------------------------------------------------------------------


def test_the_group_burst_comes_from_members_writing_twice() -> None:
    reports = group_burst(200, members=110)
    assert len(reports) == 200 and len({uid for uid, _, _ in reports}) == 110
    assert all(text.startswith("/") for _, _, text in reports)


async def test_limits_scenario_loses_nothing_and_gets_no_429(tmp_path: Path) -> None:
    """Telegram's own limits on both sides, tiny numbers: 10 group reports (each acknowledged
    on its own, well inside 20 a minute), 2 residents writing privately."""
    run = await limits_run(tmp_path, group_reports=10, members=6, private_residents=2, spread=0.3)
    assert run.problems == [], run.problems
    assert len(run.group_tickets) == 10 and set(run.acked) == run.group_tickets
    assert set(run.private_acked.values()) == run.private_tickets and len(run.private_tickets) == 2
    assert len(run.first_replies) == 2 and run.acks_seconds is not None
    assert run.refusals == run.stats.flood_waits == 0


async def test_limits_scenario_combines_acks_when_the_group_is_at_its_limit(
    tmp_path: Path,
) -> None:
    """The group windows scaled from 60 s to 3 s and 2 sends on both sides, so 10 reports need
    combined acknowledgements and the admin chat digests, in seconds; still nothing lost."""
    run = await limits_run(
        tmp_path,
        group_reports=10,
        members=6,
        private_residents=2,
        spread=0.3,
        timeout=30.0,
        desk_limits=Limits(group=2, group_window=3.0),
        emulator_limits=FloodLimits(group_sends=2, group_window=3.0),
    )
    assert run.problems == [], run.problems
    assert run.combined_messages >= 1 and set(run.acked) == run.group_tickets
    assert run.refusals == run.stats.flood_waits == 0


def test_limits_main_prints_the_figures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BENCH_LIMIT_ROUNDS", "1")
    monkeypatch.setenv("BENCH_LIMIT_GROUP", "6")
    monkeypatch.setenv("BENCH_LIMIT_MEMBERS", "4")
    monkeypatch.setenv("BENCH_LIMIT_PRIVATE", "2")
    monkeypatch.setenv("BENCH_LIMIT_SPREAD", "0.2")
    bench_limits.main()
    out = capsys.readouterr().out
    assert "private first-reply latency" in out and "p99" in out and "target p99 <= 1 s" in out
    assert "every group report acknowledged" in out and "target <= 60 s" in out
    assert "cards" in out and "digests" in out and "stopped the desk" in out
    assert "429s: 0 refused by the emulator, 0 received by the sender" in out
    assert "LOST" not in out


# --- the cadres' desk ---------------------------------------------------------------------------


async def test_desk_bench_notifies_every_claim_answer_and_rating(tmp_path: Path) -> None:
    """4 tickets over both villages, 4 cadres acting at once, after a one-ticket warm-up."""
    run = await desk_run(tmp_path, 4, 4, warmup=1, timeout=30.0)
    assert run.problems == [], run.problems
    for phase in PHASES:
        assert len(run.phases[phase].injected) == 4 and run.phases[phase].missing == 0, phase
        assert len(run.phases[phase].latencies) == 4
    assert run.tickets == run.closed == 4 and run.refusals == run.errors == 0


async def test_desk_bench_with_limits_scaled_down_loses_nothing(tmp_path: Path) -> None:
    """Telegram's limits on both sides, the group minute scaled to 3 s: still every notice,
    and no 429."""
    run = await desk_run(
        tmp_path,
        2,
        2,
        warmup=0,
        limited=True,
        timeout=60.0,
        desk_limits=Limits(group_window=3.0),
        emulator_limits=FloodLimits(group_window=3.0),
    )
    assert run.problems == [], run.problems
    assert run.limited and run.tickets == run.closed == 2


def test_desk_main_prints_the_figures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BENCH_DESK_N", "2")
    monkeypatch.setenv("BENCH_DESK_CADRES", "2")
    monkeypatch.setenv("BENCH_DESK_ROUNDS", "1")
    monkeypatch.setenv("BENCH_DESK_WARMUP", "0")
    monkeypatch.setenv("BENCH_DESK_LIMITED_ROUNDS", "0")
    bench_desk.main()
    out = capsys.readouterr().out
    assert "claim (受理 press" in out and "answer (cadre's message" in out
    assert "relay sendMessage in the admin chat" in out and "p50" in out and "p99" in out
    assert "every claim, prompt, answer and rating notified" in out
    assert "LOST" not in out
