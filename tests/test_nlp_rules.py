"""categories.toml: the shipped file is complete, and every bad edit is named precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nlp.rules import RulesError, load_rules

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"

DESIGN_CATEGORIES = [
    "neighbor_dispute",
    "property_mgmt",
    "environment",
    "roads_traffic",
    "public_safety",
    "land_housing",
    "labor_wages",
    "social_assistance",
    "health_medical",
    "education",
    "water_power",
    "market_food",
    "village_affairs",
    "other",
]


def test_shipped_rules_follow_the_taxonomy() -> None:
    rules = load_rules(CONFIG)
    assert [c.id for c in rules.categories] == DESIGN_CATEGORIES
    assert {k.id: k.label for k in rules.kinds} == {
        "complaint": "投诉",
        "suggestion": "建议",
        "consultation": "咨询",
        "help": "求助",
    }
    assert (rules.deadlines.simple_days, rules.deadlines.complex_days) == (3, 5)
    assert rules.deadlines.urgent_hours > 0
    assert rules.category("environment").label == "环境卫生"
    assert {n for g in rules.urgent.groups for n in g.numbers} == {"110", "119", "120"}


def test_keywords_are_folded_to_half_width() -> None:
    rules = load_rules(CONFIG)
    assert "?" in rules.kind("consultation").cues
    assert "\uff1f" not in rules.kind("consultation").cues  # full-width question mark


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = (CONFIG / "categories.toml").read_text(encoding="utf-8")
    assert old in text, old
    (tmp_path / "categories.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("simple_days = 3", "simple_days = 0", "deadlines.simple_days"),
        ("urgent_hours = 4", 'urgent_hours = "4"', "deadlines.urgent_hours"),
        ('fallback_category = "other"', 'fallback_category = "misc"', "scoring.fallback_category"),
        ("decisive = 5.0", "decisive = -5.0", "scoring.tiers.decisive"),
        ('default = "complaint"', 'default = "gripe"', "kinds.default"),
        (
            'priority = ["help", "suggestion", "consultation", "complaint"]',
            'priority = ["help", "suggestion"]',
            "kinds.priority",
        ),
        ('label = "投诉"', 'label = ""', "kinds.complaint.label"),
        ('id = "property_mgmt"', 'id = "neighbor_dispute"', "categories[1].id"),
        ('id = "property_mgmt"', 'id = "Property"', "categories[1].id"),
        (
            'label = "环境卫生"\ncomplexity = "simple"',
            'label = "环境卫生"\ncomplexity = "hard"',
            "categories.environment.complexity",
        ),
        ('medium = ["臭"', 'middling = ["臭"', "categories.environment.keywords.middling"),
        ('weak = ["孩子"', 'weak = [3, "孩子"', "categories.education.keywords.weak"),
        ('numbers = ["119"]', 'numbers = ["fire"]', "urgent.groups.fire.numbers"),
        (
            'category = "public_safety"\nwords = [\n    "着火"',
            'category = "firefighting"\nwords = [\n    "着火"',
            "urgent.groups.fire.category",
        ),
        ('"(拿|持|举|挥)', '"((拿|持|举|挥)', "urgent.groups.violence.patterns"),
        ('"着火", "起火"', '"火", "起火"', "urgent.groups.fire.words"),
        ('kind = "help"', 'kind = "panic"', "urgent.kind"),
        ('{ regex = "[?]\\\\s*$", tier = "strong" }', '{ regex = "[?]", tier = "loud" }', "tier"),
    ],
)
def test_bad_values_name_their_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    with pytest.raises(RulesError) as info:
        load_rules(_edited(tmp_path, old, new))
    assert key in str(info.value)
    assert "categories.toml" in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "找不到"),
        ("[deadlines\nsimple_days = 3", "TOML"),
        ("[scoring]\n", "deadlines"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "categories.toml").write_text(content, encoding="utf-8")
    with pytest.raises(RulesError, match=message):
        load_rules(tmp_path)


def test_a_copy_of_the_shipped_file_loads(tmp_path: Path) -> None:
    shutil.copy(CONFIG / "categories.toml", tmp_path / "categories.toml")
    assert len(load_rules(tmp_path).categories) == len(DESIGN_CATEGORIES)
