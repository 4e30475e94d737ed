"""Logging set-up: every line, tracebacks included, passes through PII masking.

Handlers never log message texts on purpose; this catches what slips through anyway
(an exception whose message quotes a resident's words, a library logging a URL).
"""

from __future__ import annotations

import logging

from nlp.pii import mask_pii

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskingFormatter(logging.Formatter):
    """Formats as usual, then masks phone, ID and bank numbers, names and the bot token."""

    def __init__(self, fmt: str = FORMAT, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(fmt)
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        text = mask_pii(super().format(record))
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def setup_logging(level: int = logging.INFO, secrets: tuple[str, ...] = ()) -> None:
    """Log to stderr through the masking formatter; quiet the chattiest libraries."""
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter(secrets=secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, and the URL carries the bot token.
    for name in ("httpx", "alembic", "apscheduler"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
