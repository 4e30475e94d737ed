"""FAQ: the config is sound, answers invent no figures, and retrieval reaches its measured level."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from nlp.faq import FAQ_FILE, FaqConfigError, FaqIndex, evaluate_faq
from nlp.segment import Segmenter

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"
QUERIES = Path(__file__).parent / "data" / "faq_queries.jsonl"

REQUIRED_TOPICS = [
    "dibao", "tekun", "temp_relief", "disability_subsidy", "elderly_allowance",
    "pension_contribution", "pension_benefit", "medical_insurance_payment",
    "medical_reimbursement", "medical_offsite", "newborn_insurance", "homestead",
    "house_building", "land_contract", "hukou_transfer", "id_card", "residence_permit",
    "marriage", "birth_registration", "school_enrollment", "student_aid", "veterans",
    "employment_registration", "farm_subsidy", "dilapidated_house", "power_service",
    "water_service", "gas_account", "garbage_sorting", "funeral", "legal_aid", "mediation",
    "real_estate_registration",
]  # fmt: skip
# National emergency numbers are the only figures an answer may carry.
EMERGENCY_NUMBERS = {"110", "119", "120"}


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter()


@pytest.fixture(scope="module")
def index(segmenter: Segmenter) -> FaqIndex:
    return FaqIndex.from_config(CONFIG, segmenter)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines()]


def test_config_covers_required_topics(index: FaqIndex) -> None:
    ids = {e.id for e in index.entries}
    assert len(index.entries) >= 30
    assert set(REQUIRED_TOPICS) <= ids
    for entry in index.entries:
        assert len(entry.phrasings) >= 3, entry.id
        assert entry.keywords, entry.id


def test_threshold_comes_from_config(index: FaqIndex) -> None:
    with (CONFIG / FAQ_FILE).open("rb") as fh:
        assert index.threshold == tomllib.load(fh)["settings"]["threshold"]


def test_answers_invent_no_figures(index: FaqIndex) -> None:
    for entry in index.entries:
        numbers = set(re.findall(r"\d+", entry.answer))
        assert numbers <= EMERGENCY_NUMBERS, (entry.id, numbers)


def test_queries_file_is_labelled_with_known_ids(
    index: FaqIndex, rows: list[dict[str, Any]]
) -> None:
    ids = {e.id for e in index.entries}
    assert len(rows) >= 80
    assert sum(r["faq"] is None for r in rows) >= 15
    assert {r["faq"] for r in rows} - {None} <= ids


def test_measured_accuracy(index: FaqIndex, rows: list[dict[str, Any]]) -> None:
    report = evaluate_faq(index, rows)
    # Figures reached on tests/data/faq_queries.jsonl at the configured threshold.
    assert report.answerable == 87 and report.unanswerable == 20
    assert report.top1_accuracy >= 0.94  # 82 of 87
    assert report.false_answer_rate == 0.0


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("低保怎么申请", "dibao"),
        ("身份证丢了怎么补办", "id_card"),
        ("医保在哪里交", "medical_insurance_payment"),
        ("废电池是什么垃圾", "garbage_sorting"),
        ("想申请法律援助", "legal_aid"),
    ],
)
def test_match_answers_plain_questions(index: FaqIndex, text: str, entry_id: str) -> None:
    found = index.match(text)
    assert found is not None and found.entry_id == entry_id
    assert 0 < found.score <= 1
    assert found.answer and found.question


@pytest.mark.parametrize("text", ["村口垃圾三天没人收了", "", "!!!", "的了吗", "hello"])
def test_match_declines(index: FaqIndex, text: str) -> None:
    assert index.match(text) is None


def test_search_is_ranked_and_limited(index: FaqIndex) -> None:
    found = index.search("住院费用医保报销", 3)
    assert len(found) == 3
    assert found[0].entry_id == "medical_reimbursement"
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)


def test_bad_config_names_the_entry(tmp_path: Path, segmenter: Segmenter) -> None:
    (tmp_path / "stopwords.txt").write_text("的\n", encoding="utf-8")
    (tmp_path / FAQ_FILE).write_text('[[entry]]\nid = "x"\nquestion = "问"\n', encoding="utf-8")
    with pytest.raises(FaqConfigError, match=r"'x'.*answer"):
        FaqIndex.from_config(tmp_path, segmenter)
