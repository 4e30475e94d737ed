"""Common answers (常用答复) cadres can pick instead of typing, from config/answers.toml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.tomlfile import read_toml


class AnswersError(Exception):
    """config/answers.toml is wrong; the message says where."""


@dataclass(frozen=True)
class CommonAnswer:
    title: str  # the button's label
    text: str  # what the resident receives
    categories: frozenset[str] = frozenset()  # empty: any ticket


@dataclass(frozen=True)
class CommonAnswers:
    answers: tuple[CommonAnswer, ...] = ()

    @classmethod
    def load(cls, config_dir: Path) -> CommonAnswers:
        path = config_dir / "answers.toml"
        if not path.exists():
            return cls()
        entries = read_toml(path, AnswersError).get("answers", [])
        if not isinstance(entries, list):
            raise AnswersError(f"{path}: [[answers]] must be a list of tables")
        answers = []
        for number, entry in enumerate(entries, 1):
            title, text = entry.get("title"), entry.get("text")
            categories = entry.get("categories", [])
            if not isinstance(title, str) or not title or not isinstance(text, str) or not text:
                raise AnswersError(f"{path}: answer {number} needs a title and a text")
            if not isinstance(categories, list):
                raise AnswersError(f"{path}: answer {number}: categories must be a list")
            answers.append(CommonAnswer(title, text, frozenset(categories)))
        return cls(tuple(answers))

    def for_category(self, category: str) -> list[tuple[int, CommonAnswer]]:
        """The answers offered on a ticket of `category`, with their stable index."""
        return [
            (i, a)
            for i, a in enumerate(self.answers)
            if not a.categories or category in a.categories
        ]

    def get(self, index: int, category: str) -> CommonAnswer | None:
        return dict(self.for_category(category)).get(index)
