"""Injected failures: the emulator answers the next calls of a method as a troubled Telegram would.

Modes (see `BotApiEmulator.fail`):

- an error status (5xx, 400, 403, 429...): the call is refused with Telegram's error body and
  not performed;
- `hang=seconds` without a status: the call IS performed (the message is stored, the call
  recorded) but the response is held back for `hang` seconds, so a client with a shorter read
  timeout gives up although Telegram did the work;
- `hang` with a status: the error arrives late (and the call is not performed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from bot.sandbox.emulator.types import JSON, ApiError, Call

ParamsPredicate = Callable[[JSON], bool]

# Telegram's own wording where it has one; other statuses get the HTTP reason phrase.
_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry after {retry_after}",
}


def matches(expected: JSON, params: JSON) -> bool:
    """Whether `params` has every key of `expected` with an equal value.

    Values compare as strings when the types differ, so {"chat_id": 5} matches "5" as a
    client may send either.
    """
    for key, want in expected.items():
        if key not in params:
            return False
        got: Any = params[key]
        if got != want and str(got) != str(want):
            return False
    return True


@dataclass(eq=False)
class Fault:
    """A pending failure; `cancel()` withdraws what is left of it. `calls` are the ones it hit."""

    id: int
    method: str
    times: int
    status: int | None
    retry_after: int | None
    hang: float | None
    predicate: ParamsPredicate | None
    description: str | None
    calls: list[Call] = field(default_factory=list)
    remaining: int = 0

    def __post_init__(self) -> None:
        self.remaining = self.times

    def applies(self, method: str, params: JSON) -> bool:
        return (
            self.remaining > 0
            and method == self.method
            and (self.predicate is None or bool(self.predicate(params)))
        )

    def cancel(self) -> None:
        self.remaining = 0

    def error(self) -> ApiError | None:
        """The error to answer with, or None when the call is to be performed (a plain hang)."""
        if self.status is None:
            return None
        parameters: JSON | None = None
        if self.status == 429:
            parameters = {"retry_after": self.retry_after or 1}
        description = self.description or _DESCRIPTIONS.get(self.status)
        if description is None:
            try:
                description = HTTPStatus(self.status).phrase
            except ValueError:
                description = f"Error {self.status}"
        return ApiError(
            self.status, description.format(retry_after=self.retry_after or 1), parameters
        )

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "method": self.method,
            "times": self.times,
            "remaining": self.remaining,
            "status": self.status,
            "retry_after": self.retry_after,
            "hang": self.hang,
            "hits": len(self.calls),
        }
