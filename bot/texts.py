"""The one catalogue of every text a person reads, loaded from config/texts.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.tomlfile import read_toml


class TextsError(Exception):
    """config/texts.toml is missing, malformed, or lacks a key the code asks for."""


class Texts:
    """Texts by dotted key ("private.start"); a village rewords them in the TOML file."""

    def __init__(self, entries: dict[str, str]) -> None:
        self._entries = entries

    @classmethod
    def load(cls, config_dir: Path) -> Texts:
        path = config_dir / "texts.toml"
        data = read_toml(path, TextsError)
        entries: dict[str, str] = {}
        _flatten(data, "", entries)
        return cls(entries)

    def __call__(self, key: str, /, **values: Any) -> str:
        try:
            template = self._entries[key]
        except KeyError:
            raise TextsError(f"texts.toml has no entry {key!r}") from None
        return template.format(**values) if values else template

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def section(self, prefix: str) -> dict[str, str]:
        """All entries under a section, by their last key part (e.g. status labels)."""
        start = prefix + "."
        return {k[len(start) :]: v for k, v in self._entries.items() if k.startswith(start)}


def _flatten(node: dict[str, Any], prefix: str, out: dict[str, str]) -> None:
    for key, value in node.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, full + ".", out)
        elif isinstance(value, str):
            out[full] = value
        else:
            raise TextsError(f"texts.toml: {full} must be text")
