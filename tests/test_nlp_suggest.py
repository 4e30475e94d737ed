"""`fengqiao nlp suggest`: the pure proposer on small rules, and the command on files and on
the cadres' corrections stored in a database."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nlp.classifier import Classifier
from nlp.suggest import (
    ADD,
    MOVE,
    REWEIGHT,
    Labelled,
    Proposal,
    SuggestError,
    dry_run,
    load_labelled,
    load_tiers,
    suggest,
)
from nlp.textfeatures import load_stopwords
from storage.corrections import corrections_since
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import CategoryCorrection, Place, Resident, Ticket

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

# Small rules whose every keyword the tests know: 水泥 lives in roads_traffic, 河道 is only a
# weak word of environment, and nothing knows 光伏 or 鸡舍.
RULES = """
[deadlines]
simple_days = 3
complex_days = 5
urgent_hours = 4

[scoring]
min_score = 2.0
fallback_category = "other"
confidence_prior = 3.0
repeat_weight = 0.5
max_repeats = 3
min_kind_score = 2.0

[scoring.tiers]
decisive = 5.0
strong = 3.0
medium = 2.0
weak = 1.0

[kinds]
default = "complaint"
priority = ["complaint"]

[kinds.complaint]
label = "投诉"
[kinds.complaint.cues]
strong = ["投诉"]

[[categories]]
id = "environment"
label = "环境卫生"
complexity = "simple"
[categories.keywords]
strong = ["垃圾", "污水"]
weak = ["河道"]

[[categories]]
id = "roads_traffic"
label = "道路交通"
complexity = "simple"
[categories.keywords]
strong = ["路灯", "路面"]
medium = ["水泥"]

[[categories]]
id = "water_power"
label = "水电气网"
complexity = "simple"
[categories.keywords]
strong = ["停水", "停电"]

[[categories]]
id = "other"
label = "其他"
complexity = "simple"
[categories.keywords]
weak = ["谢谢"]

[urgent]
kind = "complaint"
window_before = 4
window_after = 4

[[urgent.groups]]
name = "fire"
label = "火灾"
numbers = ["119"]
category = "environment"
words = ["着火了"]
"""

SOLAR = [
    Labelled("屋顶的光伏发不了电了", "water_power"),
    Labelled("我家光伏一直没有收益", "water_power"),
    Labelled("光伏被大风吹坏了没人修", "water_power"),
]
CEMENT = [
    Labelled("水泥厂的灰落得满院子都是", "environment"),
    Labelled("村后水泥厂天天冒灰", "environment"),
    Labelled("水泥厂半夜还在磨粉", "environment"),
]
RIVER = [
    Labelled("河道里漂着一层油", "environment"),
    Labelled("河道边上堆满了塑料袋", "environment"),
    Labelled("河道发黑好几天了", "environment"),
]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("config")
    (folder / "categories.toml").write_text(RULES, encoding="utf-8")
    shutil.copy(CONFIG / "stopwords.txt", folder / "stopwords.txt")
    return folder


@pytest.fixture(scope="module")
def classifier(config: Path) -> Classifier:
    return Classifier.from_config(config)


def propose(
    classifier: Classifier, config: Path, examples: list[Labelled], **kw: object
) -> list[Proposal]:
    return suggest(
        examples,
        classifier,
        load_stopwords(config),
        tiers=load_tiers(config),
        **kw,  # type: ignore[arg-type]
    )


def find(proposals: list[Proposal], keyword: str) -> Proposal | None:
    return next((p for p in proposals if p.keyword == keyword), None)


# --- the proposer --------------------------------------------------------------------------------


def test_a_word_of_one_category_is_proposed_there(classifier: Classifier, config: Path) -> None:
    proposals = propose(classifier, config, SOLAR)
    solar = find(proposals, "光伏")
    assert solar is not None
    assert (solar.category, solar.action, solar.existing) == ("water_power", ADD, ())
    assert (solar.support, solar.hits, solar.precision) == (3, 3, 1.0)
    # Three examples at full precision: strong, on the tiers' own scale.
    assert (solar.tier, solar.weight) == ("strong", 3.0)
    # The current rules know none of it: all three go to 其他, and the word alone fixes them.
    assert solar.current == (("other", 3),)
    assert (solar.missed, solar.fixes, solar.breaks) == (3, 3, 0)
    assert proposals[0].keyword == "光伏", "the word that fixes most ranks first"


def test_a_word_spread_over_categories_is_not_proposed(
    classifier: Classifier, config: Path
) -> None:
    spread = [
        Labelled("光伏板旁边的路灯不亮", "roads_traffic"),
        Labelled("光伏车棚下面的路面坑坑洼洼", "roads_traffic"),
        Labelled("屋顶光伏没电了", "water_power"),
        Labelled("光伏停电以后没人来修", "water_power"),
    ]
    assert find(propose(classifier, config, spread), "光伏") is None


def test_an_existing_keyword_shows_where_it_lives(classifier: Classifier, config: Path) -> None:
    proposals = propose(classifier, config, CEMENT)
    cement = find(proposals, "水泥")
    assert cement is not None
    assert cement.category == "environment"
    assert cement.action == MOVE
    assert cement.existing == (("roads_traffic", 2.0),)
    assert cement.current == (("roads_traffic", 3),)
    assert cement.fixes == 3
    # 水泥厂 adds nothing once 水泥 itself is proposed at least as heavily.
    assert find(proposals, "水泥厂") is None


def test_a_weak_keyword_of_the_category_is_reweighted(classifier: Classifier, config: Path) -> None:
    river = find(propose(classifier, config, RIVER), "河道")
    assert river is not None
    assert (river.action, river.existing) == (REWEIGHT, (("environment", 1.0),))
    assert (river.tier, river.weight, river.fixes) == ("strong", 3.0, 3)


def test_a_keyword_already_in_place_is_not_proposed(classifier: Classifier, config: Path) -> None:
    rubbish = [
        Labelled("垃圾三天没人收", "environment"),
        Labelled("村口垃圾堆成山", "environment"),
    ]
    assert find(propose(classifier, config, rubbish), "垃圾") is None


@pytest.mark.parametrize(
    ("min_support", "min_precision", "proposed"),
    [
        (2, 0.8, False),  # 3 of 4 is 75%
        (2, 0.7, True),
        (4, 0.7, True),
        (5, 0.7, False),  # only 4 examples hold the word
    ],
)
def test_thresholds_are_respected(
    classifier: Classifier,
    config: Path,
    min_support: int,
    min_precision: float,
    proposed: bool,
) -> None:
    examples = [*SOLAR, Labelled("光伏板底下的路面塌了", "roads_traffic")]
    proposals = propose(
        classifier, config, examples, min_support=min_support, min_precision=min_precision
    )
    assert (find(proposals, "光伏") is not None) is proposed
    assert all(p.support >= min_support and p.precision >= min_precision for p in proposals)


def test_personal_data_and_names_never_become_keywords(
    classifier: Classifier, config: Path
) -> None:
    examples = [Labelled(f"我叫王大明,电话13812345678,{e.text}", e.category) for e in SOLAR]
    words = {p.keyword for p in propose(classifier, config, examples)}
    assert "光伏" in words
    assert not any("王" in w or "大明" in w or any(ch.isdigit() for ch in w) for w in words)


def test_dry_run_counts_the_fixes(classifier: Classifier, config: Path) -> None:
    right = Labelled("路灯坏了一个月", "roads_traffic")
    examples = [*SOLAR, *CEMENT, right, Labelled("鸡舍漏风", "other")]
    proposals = propose(classifier, config, examples)
    before = dry_run(examples, classifier, [])
    assert (before.total, before.misclassified, before.fixed, before.broken) == (8, 6, (), ())
    after = dry_run(examples, classifier, proposals)
    assert len(after.fixed) == 6 and not after.broken
    assert {c.text for c in after.fixed} == {e.text for e in [*SOLAR, *CEMENT]}
    assert after.accuracy_before == pytest.approx(2 / 8) and after.accuracy_after == 1.0
    # Only the solar word: the cement lines stay wrong.
    only_solar = dry_run(examples, classifier, [p for p in proposals if p.keyword == "光伏"])
    assert len(only_solar.fixed) == 3


def test_the_rules_are_not_touched(classifier: Classifier, config: Path) -> None:
    text = (config / "categories.toml").read_text(encoding="utf-8")
    proposals = propose(classifier, config, [*SOLAR, *CEMENT])
    dry_run([*SOLAR, *CEMENT], classifier, proposals)
    assert (config / "categories.toml").read_text(encoding="utf-8") == text
    assert classifier.classify(SOLAR[0].text).category == "other"
    assert "光伏" not in classifier.rules.category("water_power").keywords


def test_unknown_category_is_refused(classifier: Classifier, config: Path) -> None:
    with pytest.raises(SuggestError, match="未知类别"):
        propose(classifier, config, [Labelled("光伏坏了", "no_such_category")])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "不是有效的 JSON"),
        ("[1]\n", "应为"),
        ('{"text": "光伏坏了"}\n', "应为文字"),
        ('{"text": "光伏坏了", "category": "nope"}\n', "未知类别"),
    ],
)
def test_load_labelled_names_the_bad_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "停水了", "category": "water_power"}\n' + content, encoding="utf-8")
    with pytest.raises(SuggestError, match=message) as caught:
        load_labelled(path, {"water_power", "other"})
    assert ":2:" in str(caught.value)


def test_load_labelled_skips_blanks_and_ignores_extra_keys(tmp_path: Path) -> None:
    path = tmp_path / "ok.jsonl"
    lines = [
        '{"text": "停水了", "category": "water_power", "kind": "complaint"}',
        "",
        '{"text": " ", "category": "other"}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert load_labelled(path, {"water_power", "other"}) == [Labelled("停水了", "water_power")]


# --- the command ---------------------------------------------------------------------------------


def jsonl(path: Path, examples: list[Labelled]) -> Path:
    path.write_text(
        "".join(
            json.dumps({"text": e.text, "category": e.category}, ensure_ascii=False) + "\n"
            for e in examples
        ),
        encoding="utf-8",
    )
    return path


def cli(*args: str, config: Path, database: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FENGQIAO_CONFIG_DIR": str(config)}
    env.pop("FENGQIAO_BOT_TOKEN", None)
    if database is not None:
        env["FENGQIAO_DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "nlp", "suggest", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_file_prints_proposals_and_the_dry_run(tmp_path: Path, config: Path) -> None:
    path = jsonl(tmp_path / "labelled.jsonl", [*SOLAR, *CEMENT])
    done = cli("--file", str(path), config=config, database=tmp_path / "none.db")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "光伏" in out and "水泥" in out and "水电气网" in out
    assert "道路交通(2分) → 移入" in out
    assert "would fix 6 of 6 misclassified examples" in out
    assert "config/categories.toml" in out and "fengqiao nlp eval" in out
    assert not (tmp_path / "none.db").exists(), "a file run never opens the database"


def test_cli_json_is_one_object_per_line(tmp_path: Path, config: Path) -> None:
    path = jsonl(tmp_path / "labelled.jsonl", [*SOLAR, *CEMENT])
    done = cli("--file", str(path), "--json", "--top", "1", config=config)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["type"] for r in rows] == ["proposal", "dry_run"]
    first, trial = rows
    assert {"category", "keyword", "tier", "weight", "support", "precision", "current"} <= set(
        first
    )
    assert {"existing", "action", "score", "fixes"} <= set(first)
    assert trial["misclassified"] == 6 and trial["would_fix"] == 3


def test_cli_with_no_proposals_still_succeeds(tmp_path: Path, config: Path) -> None:
    path = jsonl(tmp_path / "labelled.jsonl", SOLAR)
    done = cli("--file", str(path), "--min-support", "9", config=config)
    assert done.returncode == 0, done.stderr
    assert "达到门槛的建议 0 条" in done.stdout
    assert "would fix 0 of 3 misclassified examples" in done.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "无法读取标注文件"),
        ("{oops\n", "标注文件有误"),
        ('{"text": "光伏坏了", "category": "nope"}\n', "未知类别"),
        ("\n\n", "没有可用的标注留言"),
    ],
)
def test_cli_bad_files_exit_2(
    tmp_path: Path, config: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "labelled.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    done = cli("--file", str(path), config=config)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [("--min-precision", "1.5"), ("--top", "0")])
def test_cli_bad_options_exit_2(tmp_path: Path, config: Path, args: tuple[str, ...]) -> None:
    done = cli("--file", str(tmp_path / "x.jsonl"), *args, config=config)
    assert done.returncode == 2
    assert "应为" in done.stderr


# --- from the database ---------------------------------------------------------------------------


async def store_corrections(database: Path, rows: list[tuple[Labelled, str, datetime]]) -> None:
    """Corrections need a ticket: one place, one resident, one ticket per corrected text."""
    url = f"sqlite+aiosqlite:///{database}"
    await upgrade(url)
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            session.add(Place(id="qingxi", name="青溪村", level="village"))
            resident = Resident(telegram_id=5001, created_at=NOW, updated_at=NOW)
            session.add(resident)
            await session.flush()
            for number, (example, old, at) in enumerate(rows, start=1):
                ticket = Ticket(
                    number=f"QX-{number:04d}",
                    resident_id=resident.id,
                    place_id="qingxi",
                    source="private",
                    source_chat_id=5001,
                    text=example.text,
                    category=example.category,
                    kind="complaint",
                    complexity="simple",
                    status="accepted",
                    created_at=at,
                    due_at=at,
                )
                session.add(ticket)
                await session.flush()
                session.add(
                    CategoryCorrection(
                        ticket_id=ticket.id,
                        text=example.text,
                        old_category=old,
                        new_category=example.category,
                        by_telegram_id=9001,
                        at=at,
                    )
                )
    finally:
        await engine.dispose()


OLD = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)


def corrected() -> list[tuple[Labelled, str, datetime]]:
    return [
        *((e, "other", NOW) for e in SOLAR),
        *((e, "roads_traffic", OLD) for e in CEMENT),
    ]


async def test_corrections_since_filters_by_time(tmp_path: Path) -> None:
    database = tmp_path / "desk.db"
    await store_corrections(database, corrected())
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with create_session_factory(engine)() as session:
            everything = await corrections_since(session, None)
            recent = await corrections_since(session, datetime(2026, 11, 1, tzinfo=UTC))
    finally:
        await engine.dispose()
    assert len(everything) == 6
    assert everything[0] == (CEMENT[0].text, "roads_traffic", "environment"), "oldest first"
    assert recent == [(e.text, "other", "water_power") for e in SOLAR]


def test_cli_reads_the_corrections_from_the_database(tmp_path: Path, config: Path) -> None:
    database = tmp_path / "desk.db"
    asyncio.run(store_corrections(database, corrected()))
    done = cli(config=config, database=database)
    assert done.returncode == 0, done.stderr
    assert "数据库中的类别更正记录" in done.stdout
    assert "光伏" in done.stdout and "水泥" in done.stdout
    assert "would fix 6 of 6" in done.stdout
    # Since November only the solar corrections count.
    recent = cli("--since", "2026-11-01", "--json", config=config, database=database)
    assert recent.returncode == 0, recent.stderr
    rows = [json.loads(line) for line in recent.stdout.splitlines()]
    assert {r["keyword"] for r in rows if r["type"] == "proposal"} >= {"光伏"}
    assert not any("水泥" in r.get("keyword", "") for r in rows)
    assert rows[-1]["total"] == 3


def test_cli_with_no_corrections_exits_2(tmp_path: Path, config: Path) -> None:
    database = tmp_path / "desk.db"
    asyncio.run(store_corrections(database, corrected()))
    done = cli("--since", "2027-01-01", config=config, database=database)
    assert done.returncode == 2
    assert "没有可用的标注留言" in done.stderr
    empty = cli(config=config, database=tmp_path / "empty.db")
    assert empty.returncode == 2
    assert "没有可用的标注留言" in empty.stderr
