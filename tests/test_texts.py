"""The text catalogue: every key the code asks for exists, and every entry formats."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.texts import Texts, TextsError

ROOT = Path(__file__).resolve().parents[1]
# Literal keys handed to the catalogue: texts("x.y"), desk.texts("x.y", ...), errors' text_key.
KEY_RE = re.compile(r"""texts\(\s*"([a-z_.0-9]+)"|text_key = "([a-z_.0-9]+)\"""")


def used_keys() -> set[str]:
    keys: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for match in KEY_RE.finditer(path.read_text(encoding="utf-8")):
                keys.add(match.group(1) or match.group(2))
    return keys


def test_code_uses_only_existing_keys() -> None:
    texts = Texts.load(ROOT / "config")
    assert len(used_keys()) > 40
    missing = sorted(k for k in used_keys() if k not in texts)
    assert not missing


def test_sections_cover_statuses_kinds_and_commands() -> None:
    texts = Texts.load(ROOT / "config")
    assert set(texts.section("kind")) == {"complaint", "suggestion", "consultation", "help"}
    assert {"open", "closed"} <= set(texts.section("status"))
    assert len(texts("format.weekdays")) == 7


def test_unknown_key_is_an_error() -> None:
    with pytest.raises(TextsError, match="no entry"):
        Texts.load(ROOT / "config")("nope.nothing")


def test_non_text_entry_is_refused(tmp_path: Path) -> None:
    (tmp_path / "texts.toml").write_text("[a]\nb = 1\n", encoding="utf-8")
    with pytest.raises(TextsError, match=r"a\.b"):
        Texts.load(tmp_path)
