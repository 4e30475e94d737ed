"""Log lines never carry residents' numbers or the bot token."""

from __future__ import annotations

import logging

from bot.logs import MaskingFormatter


def format_line(message: str, *args: object, exc: BaseException | None = None) -> str:
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, message, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    return MaskingFormatter(secrets=("123:SECRET",)).format(record)


def test_phone_and_id_in_arguments_are_masked() -> None:
    line = format_line("report %s from %s", "13812345678", "11010519491231002X")
    assert "13812345678" not in line and "11010519491231002X" not in line


def test_traceback_text_is_masked() -> None:
    try:
        raise ValueError("insert failed: 我叫王小明,电话 13912345678")
    except ValueError as exc:
        line = format_line("update failed", exc=exc)
    assert "Traceback" in line
    assert "13912345678" not in line and "王小明" not in line


def test_token_is_hidden() -> None:
    line = format_line("POST https://api.telegram.org/bot123:SECRET/getUpdates")
    assert "123:SECRET" not in line and "***" in line
