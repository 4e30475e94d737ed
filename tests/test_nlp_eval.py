"""Evaluation metrics, the report, and the quality bars on the dev and held-out sets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlp.classifier import Classifier
from nlp.evaluate import Example, ExamplesError, evaluate, format_report, load_examples

ROOT = Path(__file__).resolve().parents[1]
DEV = Path(__file__).parents[2] / "shared/nlp/dev.jsonl"
HOLDOUT = Path(__file__).parent / "data/nlp_holdout.jsonl"


@pytest.fixture(scope="module")
def classifier() -> Iterator[Classifier]:
    yield Classifier.from_config(ROOT / "config")


@pytest.mark.skipif(not DEV.exists(), reason="shared/nlp/dev.jsonl is not beside the repository")
def test_dev_set_bars(classifier: Classifier) -> None:
    result = evaluate(classifier, load_examples(DEV))
    assert result.macro_f1 >= 0.85
    assert result.kind_accuracy >= 0.80
    assert result.urgent_recall == 1.0
    assert result.false_alarms <= 2


def test_holdout_bars(classifier: Classifier) -> None:
    examples = load_examples(HOLDOUT)
    assert len(examples) >= 120
    assert {e.category for e in examples} == {c for c, _ in classifier.categories}
    assert sum(e.urgent for e in examples) >= 15
    result = evaluate(classifier, examples)
    assert result.accuracy >= 0.95
    assert result.macro_f1 >= 0.95
    assert result.kind_accuracy >= 0.90
    assert result.urgent_recall == 1.0
    assert result.false_alarms <= 1


def test_metrics_on_a_tiny_set(classifier: Classifier) -> None:
    examples = [
        Example("村口垃圾三天没人清运", "environment", "complaint", False),  # right
        Example("建议多放几个垃圾桶", "environment", "suggestion", False),  # right
        Example("路灯坏了", "environment", "complaint", False),  # category wrong
        Example("楼下着火了", "public_safety", "help", True),  # right
        Example("路上的坑怎么还不修", "roads_traffic", "help", True),  # kind wrong, missed urgent
    ]
    result = evaluate(classifier, examples)
    assert result.total == 5
    assert result.accuracy == pytest.approx(4 / 5)
    assert result.kind_accuracy == pytest.approx(4 / 5)
    assert (result.urgent_total, result.urgent_found, result.false_alarms) == (2, 1, 0)
    assert result.urgent_recall == pytest.approx(0.5)
    scores = {s.category: s for s in result.per_category}
    assert set(scores) == {"environment", "roads_traffic", "public_safety"}
    env = scores["environment"]
    assert (env.precision, env.recall, env.support, env.predicted) == (1.0, 2 / 3, 3, 2)
    assert env.f1 == pytest.approx(0.8)
    roads = scores["roads_traffic"]
    assert (roads.precision, roads.recall) == (0.5, 1.0)
    assert result.macro_f1 == pytest.approx((0.8 + 2 / 3 + 1.0) / 3)
    assert result.confusions == (("environment", "roads_traffic", 1),)
    assert result.missed_urgent == ("路上的坑怎么还不修",)

    report = format_report(result, classifier)
    for heading in ("类别准确率", "macro-F1", "类型准确率", "紧急召回率", "紧急误报", "环境卫生"):
        assert heading in report
    assert "环境卫生 → 道路交通: 1" in report
    assert "「路灯坏了」" in report


def test_evaluate_needs_examples(classifier: Classifier) -> None:
    with pytest.raises(ValueError):
        evaluate(classifier, [])


GOOD = {"text": "路灯坏了", "category": "roads_traffic", "kind": "complaint", "urgent": False}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "JSON"),
        ("[1, 2]", "对象"),
        (json.dumps({**GOOD, "text": None}), "text"),
        (json.dumps({**GOOD, "urgent": "no"}), "urgent"),
        (json.dumps({**GOOD, "category": "roads"}), "未知类别"),
        (json.dumps({**GOOD, "kind": "praise"}), "未知类型"),
    ],
)
def test_bad_example_lines_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "examples.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ExamplesError, match=message) as info:
        load_examples(path, categories={"roads_traffic"}, kinds={"complaint"})
    assert f"{path}:3" in str(info.value)
