"""Measure the classifier against labelled messages (JSON lines: text, category, kind, urgent)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from nlp.classifier import Classifier

log = logging.getLogger(__name__)

# How many misclassified examples the report quotes, so a long file stays readable.
MAX_QUOTED = 30
QUOTE_CHARS = 40


class ExamplesError(ValueError):
    """A labelled file has a bad line; the message names the file and the line."""


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    kind: str
    urgent: bool


@dataclass(frozen=True)
class CategoryScore:
    category: str
    label: str
    precision: float
    recall: float
    f1: float
    support: int
    predicted: int


@dataclass(frozen=True)
class Miss:
    text: str
    expected: str
    predicted: str


@dataclass(frozen=True)
class EvalResult:
    total: int
    accuracy: float
    macro_f1: float
    per_category: tuple[CategoryScore, ...]
    confusions: tuple[tuple[str, str, int], ...]  # (expected, predicted, count), most first
    category_misses: tuple[Miss, ...]
    kind_accuracy: float
    kind_misses: tuple[Miss, ...]
    urgent_total: int
    urgent_found: int
    urgent_recall: float
    false_alarms: int
    missed_urgent: tuple[str, ...]
    false_alarm_texts: tuple[str, ...]


def load_examples(
    path: Path, categories: set[str] | None = None, kinds: set[str] | None = None
) -> list[Example]:
    """Read labelled JSON lines; blank lines are skipped, anything else malformed is an error."""
    examples: list[Example] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ExamplesError(f"{where}: 不是有效的 JSON (invalid JSON): {exc}") from None
            if not isinstance(data, dict):
                raise ExamplesError(f"{where}: 应为 JSON 对象 (expected an object)")
            text, category, kind, urgent = (
                data.get(k) for k in ("text", "category", "kind", "urgent")
            )
            if (
                not isinstance(text, str)
                or not isinstance(category, str)
                or not isinstance(kind, str)
            ):
                raise ExamplesError(f"{where}: text、category、kind 应为文字 (expected strings)")
            if not isinstance(urgent, bool):
                raise ExamplesError(f"{where}: urgent 应为 true 或 false (expected a boolean)")
            if categories is not None and category not in categories:
                raise ExamplesError(f"{where}: 未知类别 {category!r} (unknown category)")
            if kinds is not None and kind not in kinds:
                raise ExamplesError(f"{where}: 未知类型 {kind!r} (unknown kind)")
            examples.append(Example(text, category, kind, urgent))
    return examples


def evaluate(classifier: Classifier, examples: list[Example]) -> EvalResult:
    """Category accuracy and macro-F1, kind accuracy, urgent recall and false alarms."""
    if not examples:
        raise ValueError("no examples to evaluate")
    pairs: list[tuple[Example, str, str, bool]] = []
    for example in examples:
        result = classifier.classify(example.text)
        pairs.append((example, result.category, result.kind, result.urgent))

    gold = Counter(e.category for e, *_ in pairs)
    predicted = Counter(cat for _, cat, _, _ in pairs)
    correct = Counter(e.category for e, cat, _, _ in pairs if e.category == cat)
    per_category: list[CategoryScore] = []
    for category, label in classifier.categories:
        if not gold[category] and not predicted[category]:
            continue
        precision = _ratio(correct[category], predicted[category])
        recall = _ratio(correct[category], gold[category])
        f1 = _ratio(2 * precision * recall, precision + recall)
        per_category.append(
            CategoryScore(
                category, label, precision, recall, f1, gold[category], predicted[category]
            )
        )
    confusions = Counter((e.category, cat) for e, cat, _, _ in pairs if e.category != cat)
    urgent_gold = [(e, urgent) for e, _, _, urgent in pairs if e.urgent]
    alarms = [e for e, _, _, urgent in pairs if urgent and not e.urgent]
    return EvalResult(
        total=len(pairs),
        accuracy=_ratio(sum(correct.values()), len(pairs)),
        macro_f1=_ratio(sum(s.f1 for s in per_category), len(per_category)),
        per_category=tuple(per_category),
        confusions=tuple((g, p, n) for (g, p), n in confusions.most_common()),
        category_misses=tuple(
            Miss(e.text, e.category, cat) for e, cat, _, _ in pairs if e.category != cat
        ),
        kind_accuracy=_ratio(sum(e.kind == kind for e, _, kind, _ in pairs), len(pairs)),
        kind_misses=tuple(Miss(e.text, e.kind, kind) for e, _, kind, _ in pairs if e.kind != kind),
        urgent_total=len(urgent_gold),
        urgent_found=sum(found for _, found in urgent_gold),
        urgent_recall=_ratio(sum(found for _, found in urgent_gold), len(urgent_gold), empty=1.0),
        false_alarms=len(alarms),
        missed_urgent=tuple(e.text for e, found in urgent_gold if not found),
        false_alarm_texts=tuple(e.text for e in alarms),
    )


def format_report(result: EvalResult, classifier: Classifier) -> str:
    """A plain-text report in Chinese with English headings, for a terminal or an e-mail."""
    label = classifier.category_label
    lines = [
        f"评估样本 Examples: {result.total}",
        f"类别准确率 Category accuracy: {result.accuracy:.1%}",
        f"类别宏平均 F1 Category macro-F1: {result.macro_f1:.3f}",
        f"类型准确率 Kind accuracy: {result.kind_accuracy:.1%}",
        f"紧急召回率 Urgent recall: {result.urgent_recall:.1%} "
        f"({result.urgent_found}/{result.urgent_total})",
        f"紧急误报 Urgent false alarms: {result.false_alarms}",
        "",
        "各类别 Per category:",
        f"  {'类别 category':<28}{'精确率 P':>9}{'召回率 R':>9}{'F1':>7}{'样本':>6}{'判为':>6}",
    ]
    for s in result.per_category:
        name = f"{s.label} {s.category}"
        lines.append(
            f"  {_pad(name, 28)}{s.precision:>9.2f}{s.recall:>9.2f}{s.f1:>7.2f}"
            f"{s.support:>6}{s.predicted:>6}"
        )
    if result.confusions:
        lines += ["", "类别混淆 Confusions (应为 expected → 判为 predicted: 次数 count):"]
        lines += [f"  {label(g)} → {label(p)}: {n}" for g, p, n in result.confusions]
    sections: list[tuple[str, list[str]]] = [
        (
            "分错类别的留言 Category misses",
            [
                f"{_quote(m.text)}  应为 {label(m.expected)},判为 {label(m.predicted)}"
                for m in result.category_misses
            ],
        ),
        (
            "分错类型的留言 Kind misses",
            [
                f"{_quote(m.text)}  应为 {classifier.kind_label(m.expected)},"
                f"判为 {classifier.kind_label(m.predicted)}"
                for m in result.kind_misses
            ],
        ),
        ("漏报的紧急情况 Missed urgent", [_quote(t) for t in result.missed_urgent]),
        ("紧急误报 False alarms", [_quote(t) for t in result.false_alarm_texts]),
    ]
    for title, items in sections:
        if not items:
            continue
        lines += ["", f"{title}: {len(items)}"]
        lines += [f"  - {item}" for item in items[:MAX_QUOTED]]
        if len(items) > MAX_QUOTED:
            lines.append(f"  …… 另有 {len(items) - MAX_QUOTED} 条 ({len(items) - MAX_QUOTED} more)")
    return "\n".join(lines) + "\n"


def _ratio(numerator: float, denominator: float, empty: float = 0.0) -> float:
    return numerator / denominator if denominator else empty


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return f"「{flat[:QUOTE_CHARS]}…」" if len(flat) > QUOTE_CHARS else f"「{flat}」"


def _pad(text: str, width: int) -> str:
    # CJK characters take two terminal columns.
    columns = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    return text + " " * max(1, width - columns)
