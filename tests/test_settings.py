"""Settings: defaults, validation, and the one-line errors that name the setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import DEFAULT_BOT_API_URL, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BOT_TOKEN", "BOT_API_URL", "DATABASE_URL", "TIMEZONE", "CONFIG_DIR"):
        monkeypatch.delenv(f"FENGQIAO_{name}", raising=False)
    monkeypatch.chdir(ROOT)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.bot_api_url == DEFAULT_BOT_API_URL
    assert settings.database_url == "sqlite+aiosqlite:///data/fengqiao.db"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.config_dir == Path("config")


def test_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGQIAO_BOT_TOKEN", " 123:abc ")
    monkeypatch.setenv("FENGQIAO_BOT_API_URL", "http://127.0.0.1:8081/")
    settings = load_settings()
    assert settings.token() == "123:abc"
    assert settings.bot_api_url == "http://127.0.0.1:8081"


def test_missing_token_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="FENGQIAO_BOT_TOKEN"):
        load_settings().token()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIMEZONE", "Mars/Olympus"),
        ("BOT_API_URL", "api.telegram.org"),
        ("DATABASE_URL", "mysql://x@y/z"),
        ("DATABASE_URL", "not a url"),
        ("CONFIG_DIR", "/nonexistent/folder"),
    ],
)
def test_bad_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"FENGQIAO_{name}", value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"FENGQIAO_{name}:")
    assert "\n" not in message


def test_run_without_token_prints_one_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()], (
        "exactly one line, no traceback"
    )
    assert "FENGQIAO_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
