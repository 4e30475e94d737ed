"""Where a new ticket goes first: its village, or the township when the complaint is about the
village's own cadres (回避, config/routing.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.lifecycle import Level
from bot.tomlfile import read_toml


class RoutingError(Exception):
    """config/routing.toml is wrong; the message says where."""


@dataclass(frozen=True)
class Routing:
    """The conflict-of-interest rule: these categories and kinds, with one of these words."""

    categories: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()

    @classmethod
    def load(cls, config_dir: Path) -> Routing:
        path = config_dir / "routing.toml"
        if not path.exists():
            return cls()
        rule = read_toml(path, RoutingError).get("conflict_of_interest", {})
        values = {key: rule.get(key, []) for key in ("categories", "kinds", "words")}
        for key, value in values.items():
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise RoutingError(f"{path}: conflict_of_interest.{key} must be a list of words")
        return cls(
            frozenset(values["categories"]), frozenset(values["kinds"]), tuple(values["words"])
        )

    def first_level(self, category: str, kind: str, text: str) -> Level:
        """The township for a complaint about the village's own cadres, else the village."""
        if (
            category in self.categories
            and (not self.kinds or kind in self.kinds)
            and any(word in text for word in self.words)
        ):
            return Level.TOWNSHIP
        return Level.VILLAGE
