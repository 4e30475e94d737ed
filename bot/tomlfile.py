"""Reading the editable TOML files in config/, with errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def read_toml(path: Path, error: type[Exception]) -> dict[str, Any]:
    """The file's tables, or `error` with a one-line reason naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path} is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: {exc}") from None
