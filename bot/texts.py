"""The one catalogue of every text a person reads, loaded from config/texts.toml."""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Formatter
from typing import Any

from bot.tomlfile import read_toml


class TextsError(Exception):
    """config/texts.toml is missing, malformed, or lacks a key the code asks for."""


class Html(str):
    """Text that is already safe HTML: a catalogue entry, or a fragment built from escaped parts.

    Texts inserts an Html value as it is and escapes every other value, so a resident's words,
    a name or a command argument can never break the markup of a message sent as HTML.
    """

    __slots__ = ()


def html_escape(value: object) -> Html:
    """Plain text (anything a person typed or a config file names) as safe HTML."""
    return value if isinstance(value, Html) else Html(escape(str(value)))


class _EscapingFormatter(Formatter):
    """str.format, escaping each formatted value unless it is Html."""

    def format_field(self, value: Any, format_spec: str) -> str:
        formatted = format(value, format_spec)
        if isinstance(value, Html) and not format_spec:
            return formatted
        # A format spec could cut an Html value inside a tag or an entity: escape it too.
        return escape(formatted)


_FORMATTER = _EscapingFormatter()


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

    def __call__(self, key: str, /, **values: Any) -> Html:
        """The entry filled in; templates are trusted HTML, values are escaped unless Html."""
        try:
            template = self._entries[key]
        except KeyError:
            raise TextsError(f"texts.toml has no entry {key!r}") from None
        return Html(_FORMATTER.vformat(template, (), values) if values else template)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def section(self, prefix: str) -> dict[str, Html]:
        """All entries under a section, by their last key part (e.g. status labels)."""
        start = prefix + "."
        return {k[len(start) :]: Html(v) for k, v in self._entries.items() if k.startswith(start)}


def _flatten(node: dict[str, Any], prefix: str, out: dict[str, str]) -> None:
    for key, value in node.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, full + ".", out)
        elif isinstance(value, str):
            out[full] = value
        else:
            raise TextsError(f"texts.toml: {full} must be text")
